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

"""The leaf-first Deleter against a fake Cinder that deletes over time."""

import io
from unittest import mock

import fixtures
from oslotest import base

from cinder_backup_ext_chains import deleter


class FakeCinder(object):
    """Backups that are gone ``takes`` seconds after their DELETE.

    A DELETE is refused while a live child exists, as Cinder refuses it.
    """

    def __init__(self, members, takes=1.0):
        self.parent = {m['id']: m.get('parent_id') for m in members}
        self.takes = takes
        self.now = 0.0
        self.deleted_at = {}
        self.calls = []
        self.refuse = {}
        self.end_status = {}

    def live(self, backup_id):
        at = self.deleted_at.get(backup_id)
        return (backup_id in self.parent
                and (at is None or self.now < at + self.takes
                     or backup_id in self.end_status))

    def delete(self, backup_id):
        self.calls.append(backup_id)
        if not self.live(backup_id):
            raise deleter.Gone(backup_id)
        if backup_id in self.refuse:
            raise deleter.Refused(self.refuse[backup_id])
        if any(p == backup_id and self.live(k)
               for k, p in self.parent.items()):
            raise deleter.Refused('Incremental backups exist for this '
                                  'backup.')
        self.deleted_at[backup_id] = self.now

    def get(self, backup_id):
        if not self.live(backup_id):
            return None
        if backup_id in self.end_status:
            return {'status': self.end_status[backup_id],
                    'fail_reason': 'backend said no'}
        return {'status': 'deleting'}

    def sleep(self, seconds):
        self.now += seconds


def chain(*ids):
    """Members of a linear chain, leaf-first: chain('c', 'b', 'a')."""
    return [{'id': i, 'parent_id': p, 'name': 'n-' + i}
            for i, p in zip(ids, ids[1:] + (None,))]


class DeleterTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.members = chain('c', 'b', 'a')
        self.cinder = FakeCinder(self.members)
        self.useFixture(fixtures.MockPatch(
            'cinder_backup_ext_chains.deleter.time',
            mock.Mock(monotonic=lambda: self.cinder.now,
                      sleep=self.cinder.sleep)))
        self.out = io.StringIO()

    def run_(self, members=None, **kwargs):
        timeout = kwargs.pop('timeout', 600)
        return deleter.Deleter(self.cinder.delete, self.cinder.get,
                               timeout=timeout, out=self.out).run(
            self.members if members is None else members, **kwargs)

    def test_each_gone_before_its_parent(self):
        result = self.run_()
        self.assertTrue(result.complete)
        self.assertEqual(['c', 'b', 'a'], [m['id'] for m in result.deleted])
        self.assertEqual(['c', 'b', 'a'], self.cinder.calls)
        self.assertEqual(['[1/3] deleting c (n-c) ... deleted',
                          '[2/3] deleting b (n-b) ... deleted',
                          '[3/3] deleting a (n-a) ... deleted'],
                         self.out.getvalue().splitlines())

    def test_without_wait_all_only_what_a_parent_needs(self):
        self.members.append({'id': 'x', 'parent_id': None})
        self.cinder.parent['x'] = None
        result = self.run_(wait_all=False)
        self.assertTrue(result.complete)
        lines = self.out.getvalue().splitlines()
        self.assertTrue(lines[1].endswith('deleted'))
        self.assertTrue(lines[2].endswith('accepted'))
        self.assertTrue(lines[3].endswith('accepted'))
        # Nothing waited for the last two: they are still there.
        self.assertTrue(self.cinder.live('a'))

    def test_already_gone(self):
        del self.cinder.parent['c']
        result = self.run_()
        self.assertEqual(['c', 'b', 'a'], [m['id'] for m in result.deleted])
        self.assertIn('c (n-c) ... already gone', self.out.getvalue())

    def test_refused_stops_the_run(self):
        self.cinder.refuse['b'] = 'Invalid backup: status must be available'
        result = self.run_()
        self.assertFalse(result.complete)
        self.assertEqual('b', result.stopped_at)
        self.assertEqual({'b': 'Cinder refused the delete: Invalid backup: '
                               'status must be available'}, result.failed)
        self.assertEqual(['a'], result.not_tried)
        self.assertEqual(['c', 'b'], self.cinder.calls)

    def test_ending_in_another_status(self):
        self.cinder.end_status['c'] = 'error_deleting'
        result = self.run_()
        self.assertEqual({'c': 'Cinder could not delete it: its status is '
                               'now error_deleting (backend said no)'},
                         result.failed)
        self.assertEqual(['b', 'a'], result.not_tried)

    def test_timeout_is_per_backup(self):
        self.cinder.takes = 100
        result = self.run_(timeout=5)
        self.assertEqual({'c': 'still deleting after 5 s'}, result.slow)
        self.assertEqual('c', result.stopped_at)
        # Polls back off from half a second to the interval.
        self.assertEqual(5.5, self.cinder.now)

    def test_keep_going_stops_only_the_ancestors(self):
        other = chain('y', 'x')
        self.cinder.parent.update({m['id']: m['parent_id'] for m in other})
        self.cinder.refuse['c'] = 'no'
        result = self.run_(self.members + other, keep_going=True)
        self.assertEqual(['c'], list(result.failed))
        self.assertEqual({'b': ['c'], 'a': ['b']}, result.blocked)
        self.assertEqual(['y', 'x'], [m['id'] for m in result.deleted])
        self.assertEqual(['c', 'y', 'x'], self.cinder.calls)
        self.assertEqual([], result.not_tried)

    def test_no_output_without_a_stream(self):
        result = deleter.Deleter(self.cinder.delete, self.cinder.get).run(
            self.members)
        self.assertTrue(result.complete)
        self.assertEqual('', self.out.getvalue())

    def test_label(self):
        self.assertEqual('x', deleter.label({'id': 'x'}))
        self.assertEqual('x (n, error)', deleter.label(
            {'id': 'x', 'name': 'n', 'status': 'error'}))
