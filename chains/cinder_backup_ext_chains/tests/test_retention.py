# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Calendar retention (chains.plan_prune), by example and by property."""

import datetime

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from oslotest import base

import cinder_backup_ext_chains as chains

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 12, 30, 3, 0, tzinfo=UTC)  # a Monday


def _rows(spec):
    """Rows from (name, parent, hours after T0[, status])."""
    rows = []
    for item in spec:
        name, parent, hours = item[:3]
        rows.append({'id': name, 'parent_id': parent,
                     'status': item[3] if len(item) > 3 else 'available',
                     'created_at': T0 + datetime.timedelta(hours=hours)})
    return rows


class TestCalendar(base.BaseTestCase):
    """The example table of doc/source/user/backup-chains.rst."""

    def setUp(self):
        super().setUp()
        # A full every Monday at 03:00, an incremental every other day.
        spec = []
        for week in range(6):
            full = 'full-w%d' % week
            spec.append((full, None, week * 168))
            parent = full
            for day in (2, 4, 6):
                name = 'inc-w%d-d%d' % (week, day)
                spec.append((name, parent, week * 168 + day * 24))
                parent = name
        self.built = chains.build(_rows(spec))

    def test_daily_keeps_the_newest_of_each_day_and_its_ancestors(self):
        plan = chains.plan_prune(self.built, keep_daily=2)
        self.assertEqual(['keep-daily 2025-02-09'],
                         plan.reasons['inc-w5-d6'])
        self.assertEqual(['keep-daily 2025-02-07', 'parent of inc-w5-d6'],
                         plan.reasons['inc-w5-d4'])
        self.assertEqual(['parent of inc-w5-d4'], plan.reasons['inc-w5-d2'])
        self.assertEqual({'full-w5', 'inc-w5-d2', 'inc-w5-d4', 'inc-w5-d6'},
                         set(plan.keep))

    def test_weekly_and_monthly(self):
        plan = chains.plan_prune(self.built, keep_weekly=2, keep_monthly=2)
        # ISO weeks 2025-W06 and W05 end on Sundays, Feb 9 and Feb 2; the
        # newest of January is Friday Jan 31.
        self.assertIn('keep-weekly 2025-W06', plan.reasons['inc-w5-d6'])
        self.assertIn('keep-weekly 2025-W05', plan.reasons['inc-w4-d6'])
        self.assertIn('keep-monthly 2025-01', plan.reasons['inc-w4-d4'])
        self.assertIn('keep-monthly 2025-02', plan.reasons['inc-w5-d6'])
        self.assertNotIn('full-w3', plan.keep)

    def test_yearly_reaches_back_past_a_year_boundary(self):
        plan = chains.plan_prune(self.built, keep_yearly=2)
        # The newest of 2024 is the first full, made on 2024-12-30.
        self.assertEqual(['keep-yearly 2024'], plan.reasons['full-w0'])

    def test_within_is_measured_from_the_newest(self):
        plan = chains.plan_prune(self.built,
                                 keep_within=datetime.timedelta(days=3))
        self.assertIn('keep-within', plan.reasons['inc-w5-d4'])
        self.assertNotIn('keep-within', plan.reasons.get('inc-w5-d2', []))

    def test_nothing_made_after_the_start_is_deleted(self):
        now = T0 + datetime.timedelta(weeks=5)
        plan = chains.plan_prune(self.built, keep_last=0, now=now)
        self.assertEqual(['made after the run started'],
                         plan.reasons['inc-w5-d6'][:1])
        self.assertIn('full-w4', plan.delete)
        self.assertNotIn('full-w5', plan.delete)

    def test_text_timestamps_as_the_api_sends_them(self):
        rows = [dict(row, created_at=row['created_at'].strftime(
            '%Y-%m-%dT%H:%M:%S.%f')) for chain in self.built
            for row in chain.members]
        for row in rows:
            for key in ('depth', 'is_incremental', 'has_dependent_backups',
                        'deletable', 'not_deletable_reason'):
                row.pop(key)
        self.assertEqual(
            chains.plan_prune(self.built, keep_daily=3).keep,
            chains.plan_prune(chains.build(rows), keep_daily=3).keep)


# --- properties -------------------------------------------------------------

STATUSES = ['available'] * 6 + ['error', 'creating', 'deleting']


@st.composite
def forests(draw):
    """Rows of random chains: each backup newer than its parent."""
    count = draw(st.integers(min_value=0, max_value=30))
    rows, moment = [], T0
    for number in range(count):
        moment += datetime.timedelta(
            minutes=draw(st.integers(min_value=1, max_value=60 * 24 * 20)))
        parent = draw(st.one_of(st.none(), st.sampled_from(
            [row['id'] for row in rows]))) if rows else None
        rows.append({'id': 'b%02d' % number, 'parent_id': parent,
                     'status': draw(st.sampled_from(STATUSES)),
                     'hidden_dependent_count': draw(
                         st.sampled_from([0] * 9 + [1])),
                     'created_at': moment})
    return rows


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=5))
rules = st.fixed_dictionaries({
    'keep_last': counts, 'keep_daily': counts, 'keep_weekly': counts,
    'keep_monthly': counts, 'keep_yearly': counts,
    'keep_within': st.one_of(st.none(), st.timedeltas(
        min_value=datetime.timedelta(0),
        max_value=datetime.timedelta(days=90)))}).filter(
            lambda r: any(v is not None for v in r.values()))


class TestProperties(base.BaseTestCase):

    @settings(max_examples=300, deadline=None)
    @given(forests(), rules)
    def test_every_plan_is_safe_and_keeps_what_the_rules_say(self, rows,
                                                             kept_by):
        built = chains.build(rows)
        now = max((r['created_at'] for r in rows), default=T0)
        plan = chains.plan_prune(built, now=now, **kept_by)
        by_id = {row['id']: row for row in rows}
        keep, delete = set(plan.keep), plan.delete
        self.assertEqual(set(by_id), keep | set(delete))
        self.assertEqual(set(), keep & set(delete))
        # Every kept backup's ancestors are kept.
        for backup_id in keep:
            parent = by_id[backup_id]['parent_id']
            self.assertTrue(parent is None or parent in keep,
                            (backup_id, parent))
        # Each calendar rule keeps the newest point of its newest periods.
        points = sorted((r for r in rows if r['status'] == 'available'),
                        key=lambda r: (r['created_at'], r['id']),
                        reverse=True)
        for name, period in chains.PERIODS.items():
            wanted = kept_by['keep_%s' % name]
            newest = {}
            for point in points:
                newest.setdefault(period(point['created_at']), point['id'])
            for key in sorted(newest, reverse=True)[:wanted or 0]:
                self.assertIn('keep-%s %s' % (name, key),
                              plan.reasons[newest[key]])
        # The delete order is one Cinder accepts, one backup at a time.
        live = dict(by_id)
        for backup_id in delete:
            row = live.pop(backup_id)
            self.assertIn(row['status'], chains.DELETABLE_STATUSES)
            self.assertFalse(row['hidden_dependent_count'])
            self.assertLess(row['created_at'], now)
            self.assertFalse([r for r in live.values()
                              if r['parent_id'] == backup_id], backup_id)
