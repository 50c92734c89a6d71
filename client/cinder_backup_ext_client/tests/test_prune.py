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


import datetime
import io
import json
import re

import fixtures
from oslotest import base

from cinder_backup_ext_client import client
from cinder_backup_ext_client.tests import fakes
from cinder_backup_ext_client.v1 import prune

UTC = datetime.timezone.utc


def run(*argv, app=None):
    """(exit status, stdout, stderr) of ``openstack volume backup prune``."""
    app = app or fakes.FakeApp(client.ChainsClient(fakes.proxy()))
    cmd = prune.PruneBackups(app, None)
    parsed = cmd.get_parser('openstack').parse_args(list(argv))
    status = cmd.run(parsed)
    return status, app.stdout.getvalue(), app.stderr.getvalue()


def actions(out):
    """{backup: (action, reasons)} from ``-f json`` output."""
    return {row['Backup']: (row['Action'], row['Reasons'])
            for row in json.loads(out)}


class TestPrune(base.BaseTestCase):
    """Two chains of one volume, made in this order::

        f1 <- a1 <- b1          (older chain)
        f2 <- a2 <- b2
        f2 <- c2                (newest backup)
    """

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder())
        self.cinder.add('f1')
        self.cinder.add('a1', 'f1')
        self.cinder.add('b1', 'a1')
        self.cinder.add('f2')
        self.cinder.add('a2', 'f2')
        self.cinder.add('b2', 'a2')
        self.cinder.add('c2', 'f2')
        self.cinder.add('elsewhere', volume='vol-2')
        self.useFixture(fakes.Clock())

    def _run(self, *argv):
        return run('--volume', fakes.VOLUME, *argv)

    def test_keep_last_keeps_what_the_newest_restore_from(self):
        status, out, err = self._run('--keep-last', '2', '-f', 'json')
        self.assertEqual(0, status)
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())
        self.assertEqual(['a2', 'b2', 'c2', 'elsewhere', 'f2'],
                         sorted(self.cinder.rows))
        self.assertIn('7 backup(s) in 2 chain(s)', err)
        self.assertIn('keeping 4, deleting 3', err)
        self.assertIn('Kept beyond --keep-last 2: 2 that kept backups were '
                      'made from (restoring needs them).\n', err)
        self.assertTrue(err.endswith('Deleted 3 backup(s).\n'))
        # stdout is the table only: what was done to each, tree order.
        rows = json.loads(out)
        self.assertEqual(
            [('vol-1', 'f2', 'n-f2', 'keep', ['parent of c2',
                                              'parent of a2']),
             ('vol-1', 'a2', 'n-a2', 'keep', ['parent of b2']),
             ('vol-1', 'b2', 'n-b2', 'keep', ['keep-last']),
             ('vol-1', 'c2', 'n-c2', 'keep', ['keep-last']),
             ('vol-1', 'f1', 'n-f1', 'deleted', []),
             ('vol-1', 'a1', 'n-a1', 'deleted', []),
             ('vol-1', 'b1', 'n-b1', 'deleted', [])],
            [(r['Volume'], r['Backup'], r['Name'], r['Action'],
              r['Reasons']) for r in rows])
        self.assertEqual(self.cinder.rows['f2']['created_at'],
                         rows[0]['Created At'])

    def test_volume_by_name(self):
        _status, _out, err = run('--volume', 'volume-one', '--keep-chains',
                                 '1')
        self.assertIn('Volume volume-one (vol-1): 7 backup(s)', err)
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())

    def test_nothing_to_delete(self):
        for extra in ([], ['--dry-run']):
            status, _out, err = self._run('--keep-chains', '2', *extra)
            self.assertEqual(0, status)
            self.assertEqual('Volume vol-1: 7 backup(s) in 2 chain(s); '
                             'keeping 7, deleting 0.\nNothing to delete.\n',
                             err)
        self.assertEqual([], self.cinder.deletes())

    def test_says_why_it_keeps_more_than_asked(self):
        self.cinder.rows['b1']['status'] = 'creating'
        status, out, err = self._run('--keep-last', '1', '--dry-run')
        self.assertEqual(0, status)
        self.assertEqual(
            'Volume vol-1: 7 backup(s) in 2 chain(s); keeping 5, '
            'deleting 2.\n'
            'Kept beyond --keep-last 1: 3 that kept backups were made from '
            '(restoring needs them), 1 that Cinder would not delete now.\n'
            'Deleting them frees 6 MiB (6291456 bytes).\n', err)
        lines = [line for line in out.splitlines() if line.startswith('|')]
        self.assertEqual(
            ['Volume', 'Backup', 'Name', 'Created At', 'Action', 'Reasons'],
            [cell.strip() for cell in lines[0].split('|')[1:-1]])
        self.assertEqual(
            [(' f2', 'keep', 'parent of c2'),
             ('   a2', 'delete', ''),
             ('     b2', 'delete', ''),
             ('   c2', 'keep', 'keep-last'),
             (' f1', 'keep', 'parent of a1'),
             ('   a1', 'keep', 'parent of b1'),
             ('     b1', 'keep', 'status creating')],
            [(cells[2].rstrip(), cells[5].strip(), cells[6].strip())
             for cells in (line.split('|') for line in lines[1:])])

    def test_keep_last_one_breaks_no_chain_it_keeps(self):
        self._run('--keep-last', '1')
        self.assertEqual(['b2', 'a2', 'b1', 'a1', 'f1'],
                         self.cinder.deletes())
        self.assertEqual(['c2', 'elsewhere', 'f2'], sorted(self.cinder.rows))

    def test_keep_chains(self):
        self._run('--keep-chains', '1')
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())

    def test_rules_add_up(self):
        # --keep-last 1 keeps c2 (and f2); --keep-chains 1 the newer
        # chain: together, the union, not the stricter one.
        _status, out, _err = self._run('--keep-last', '1', '--keep-chains',
                                       '1', '--dry-run', '-f', 'json')
        got = actions(out)
        self.assertEqual(('keep', ['keep-chains', 'keep-last']), got['c2'])
        self.assertEqual(('keep', ['keep-chains']), got['b2'])
        self.assertEqual(['a1', 'b1', 'f1'], sorted(
            b for b, (action, _why) in got.items() if action == 'delete'))

    def test_requests_bounded_by_chains(self):
        for n in range(3):
            self.cinder.add('x%d' % n, 'b1')
        self._run('--keep-chains', '2', '--dry-run')
        reads = [call for call, _arg in self.cinder.calls
                 if call in ('LIST', 'SHOW')]
        self.assertEqual(['LIST', 'SHOW', 'SHOW'], reads)

    def test_dry_run_lists_the_plan_and_deletes_nothing(self):
        status, out, err = self._run('--keep-last', '1', '--dry-run', '-f',
                                     'json')
        self.assertEqual(0, status)
        self.assertEqual([], self.cinder.deletes())
        self.assertEqual(
            {'f2': ('keep', ['parent of c2']), 'a2': ('delete', []),
             'b2': ('delete', []), 'c2': ('keep', ['keep-last']),
             'f1': ('delete', []), 'a1': ('delete', []),
             'b1': ('delete', [])}, actions(out))
        self.assertIn('keeping 2, deleting 5.', err)

    def test_stops_at_first_refusal_and_exits_1(self):
        self.cinder.fail.add('a1')
        status, out, err = self._run('--keep-chains', '1', '-f', 'json')
        self.assertEqual(1, status)
        self.assertEqual(['b1', 'a1'], self.cinder.deletes())
        self.assertIn('Deleted (1): b1\nNot deleted (2): a1, f1', err)
        got = actions(out)
        self.assertEqual(('deleted', []), got['b1'])
        self.assertEqual(('not deleted', [
            'Cinder could not delete it: its status is now error (backend '
            'said no)']), got['a1'])
        self.assertEqual(('not deleted', ['not tried: the run stopped at '
                                          'a1']), got['f1'])

    def test_dry_run_says_what_each_plan_frees(self):
        self.cinder.rows['b1']['stored_bytes'] = 1000
        _status, _out, err = self._run('--keep-chains', '1', '--dry-run')
        # f1, a1 and b1: 3 MiB + 3 MiB + 1000 bytes.
        self.assertIn('deleting 3.\nDeleting them frees 6 MiB (6292456 '
                      'bytes).\n', err)
        self.cinder.rows['a1']['stored_bytes'] = None
        _status, _out, err = self._run('--keep-chains', '1', '--dry-run')
        self.assertIn('Deleting them frees at least 3 MiB (3146728 bytes): '
                      'the stored size of 1 of the 3 is unknown (not '
                      "measured, or hidden by the cloud's policy).\n", err)
        self.cinder.show_bytes = False
        _status, _out, err = self._run('--keep-chains', '1', '--dry-run')
        self.assertIn('How much deleting them frees is unknown: no stored '
                      "size is known (not measured, or hidden by the "
                      "cloud's policy).\n", err)
        self.assertEqual([], self.cinder.deletes())

    def test_each_volume_says_its_own(self):
        _status, _out, err = run('--all-volumes', '--keep-last', '1',
                                 '--dry-run')
        self.assertIn('Volume volume-one (vol-1): 7 backup(s) in 2 '
                      'chain(s); keeping 2, deleting 5.\n', err)
        self.assertEqual(1, err.count('Deleting them frees'))
        self.assertIn('Deleting them frees 15 MiB (15728640 bytes).\n',
                      err)
        self.assertIn('Volume volume-two (vol-2): 1 backup(s) in 1 '
                      'chain(s); keeping 1, deleting 0.\nNothing to '
                      'delete.\n', err)

    def test_unknown_volume_is_an_error(self):
        error = self.assertRaises(
            client.NotFound, run, '--volume', 'typo', '--keep-last', '1')
        self.assertIn("No volume with a name or ID of 'typo' exists.",
                      str(error))
        self.assertEqual([], [c for c in self.cinder.calls
                              if c[0] not in ('VOLUME', 'VOLUMES')])


class TestNothingNewerThanTheStart(base.BaseTestCase):

    def test_a_backup_made_during_the_run_is_kept(self):
        cinder = self.useFixture(fakes.FakeCinder())
        self.useFixture(fakes.Clock())
        start = datetime.datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
        hour = datetime.timedelta(hours=1)
        cinder.add('old', created_at=start - 48 * hour)
        cinder.add('new', created_at=start - hour)
        # Failed backups are no restore point and are deleted, unless
        # made after the command started (when the list was read).
        cinder.add('failed-before', status='error',
                   created_at=start - 30 * hour)
        cinder.add('failed-during', status='error', created_at=start)
        self.useFixture(fixtures.MockPatch(
            'cinder_backup_ext_client.v1.prune.started', return_value=start))
        status, out, err = run('--volume', fakes.VOLUME, '--keep-last', '1',
                               '-f', 'json')
        self.assertEqual(0, status)
        self.assertEqual(['failed-before', 'old'], sorted(cinder.deletes()))
        self.assertEqual(('keep', ['made after the run started']),
                         actions(out)['failed-during'])
        self.assertIn('Kept beyond --keep-last 1: 1 made after the command '
                      'started.', err)


class TestAllVolumes(base.BaseTestCase):
    """vol-1 and vol-2 exist; gone-vol was deleted, its backups were not."""

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder())
        for volume in ('vol-1', 'vol-2', 'gone-vol'):
            full = self.cinder.add(volume + '-f1', volume=volume)
            self.cinder.add(volume + '-i1', full, volume=volume)
            self.cinder.add(volume + '-f2', volume=volume)
        self.useFixture(fakes.Clock())

    def test_each_volume_planned_on_its_own(self):
        status, out, err = run('--all-volumes', '--keep-last', '1', '-f',
                               'json')
        self.assertEqual(0, status)
        # Each volume keeps its own newest: a project-wide --keep-last 1
        # would have kept gone-vol-f2 only.
        self.assertEqual(['gone-vol-f2', 'vol-1-f2', 'vol-2-f2'],
                         sorted(self.cinder.rows))
        rows = json.loads(out)
        want = []
        for volume in ('vol-1', 'vol-2', 'gone-vol'):
            want += [(volume, volume + '-f2', 'keep', ['keep-last']),
                     (volume, volume + '-f1', 'deleted', []),
                     (volume, volume + '-i1', 'deleted', [])]
        self.assertEqual(sorted(want), sorted(
            (r['Volume'], r['Backup'], r['Action'], r['Reasons'])
            for r in rows))
        self.assertIn('Volume gone-vol (volume deleted): 3 backup(s) in 2 '
                      'chain(s); keeping 1, deleting 2.', err)
        self.assertIn('Volume volume-one (vol-1): 3 backup(s)', err)
        self.assertIn('Volume volume-two (vol-2): 3 backup(s)', err)
        # One chain list for the project (no volume filter), one read per
        # chain, one volume list for the names.
        reads = [(call, arg) for call, arg in self.cinder.calls
                 if call in ('LIST', 'SHOW', 'VOLUMES')]
        self.assertEqual([('LIST', {})], reads[:1])
        self.assertEqual(6, sum(1 for call, _ in reads if call == 'SHOW'))
        self.assertEqual(1, sum(1 for call, _ in reads if call == 'VOLUMES'))

    def test_a_failure_on_one_volume_does_not_stop_the_others(self):
        self.cinder.fail.add('vol-1-i1')
        status, out, err = run('--all-volumes', '--keep-last', '1', '-f',
                               'json')
        self.assertEqual(1, status)
        self.assertIn('vol-2-f1', self.cinder.deletes())
        self.assertIn('gone-vol-f1', self.cinder.deletes())
        self.assertNotIn('vol-1-f1', self.cinder.deletes())
        self.assertIn('Volume volume-one (vol-1): Stopped at backup '
                      'vol-1-i1', err)
        got = actions(out)
        self.assertEqual('not deleted', got['vol-1-i1'][0])
        self.assertEqual('not deleted', got['vol-1-f1'][0])
        self.assertEqual('deleted', got['vol-2-f1'][0])

    def test_a_chain_that_cannot_be_read_skips_its_volume_only(self):
        self.cinder.mock.get(
            fakes.ENDPOINT + '/os-backup-chains/vol-2-f2', status_code=500,
            headers={'x-openstack-request-id': 'req-9'},
            json={'computeFault': {'message': 'boom'}})
        status, out, err = run('--all-volumes', '--keep-last', '1')
        self.assertEqual(1, status)
        self.assertIn('Volume volume-two (vol-2): not pruned: Cinder failed '
                      '(HTTP 500): boom', err)
        self.assertNotIn('vol-2-f1', self.cinder.deletes())
        self.assertIn('vol-1-f1', self.cinder.deletes())
        self.assertIn('gone-vol-f1', self.cinder.deletes())

    def test_dry_run_then_exit_0(self):
        status, out, _err = run('--all-volumes', '--keep-chains', '1',
                                '--dry-run', '-f', 'value', '-c', 'Backup',
                                '-c', 'Action')
        self.assertEqual(0, status)
        self.assertEqual([], self.cinder.deletes())
        self.assertIn('vol-1-i1 delete', out.splitlines())
        self.assertIn('vol-1-f2 keep', out.splitlines())

    def test_no_backups(self):
        self.cinder.rows.clear()
        status, out, err = run('--all-volumes', '--keep-last', '1')
        self.assertEqual((0, ''), (status, out.strip()))
        self.assertEqual('The project has no backups.\n', err)


#: The example of doc/source/user/backup-chains.rst: (id, parent, made at,
#: status), a volume's backups over a year.
EXAMPLE = [
    ('y2025', None, '2025-12-15 02:00', 'available'),
    ('sep-01', None, '2026-09-01 02:00', 'available'),
    ('sep-15', 'sep-01', '2026-09-15 02:00', 'available'),
    ('oct-01', None, '2026-10-01 02:00', 'available'),
    ('oct-08', 'oct-01', '2026-10-08 02:00', 'available'),
    ('oct-15', None, '2026-10-15 02:00', 'available'),
    ('oct-20', 'oct-15', '2026-10-20 02:00', 'available'),
    ('nov-01', None, '2026-11-01 02:00', 'available'),
    ('nov-10', 'nov-01', '2026-11-10 02:00', 'available'),
    ('nov-24', 'nov-10', '2026-11-24 02:00', 'available'),
    ('nov-30', 'nov-24', '2026-11-30 02:00', 'error'),
    ('dec-01', None, '2026-12-01 02:00', 'available'),
    ('dec-02a', 'dec-01', '2026-12-02 02:00', 'available'),
    ('dec-02b', 'dec-02a', '2026-12-02 14:00', 'available'),
    ('dec-03', 'dec-02b', '2026-12-03 02:00', 'available'),
]
EXAMPLE_ARGS = ['--keep-daily', '3', '--keep-weekly', '2', '--keep-monthly',
                '3', '--keep-yearly', '2']
EXAMPLE_START = datetime.datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def _parse(made):
    return datetime.datetime.strptime(made, '%Y-%m-%d %H:%M').replace(
        tzinfo=UTC)


def example_table(got):
    """The doc's table: ``got`` is {backup: (action, reasons)}."""
    header = ('Backup', 'Made at (UTC)', 'Made from', 'Status', 'Action',
              'Why kept')
    rows = [(backup_id, made, parent or '-', status, got[backup_id][0],
             ', '.join(got[backup_id][1]) or '-')
            for backup_id, parent, made, status in reversed(EXAMPLE)]
    widths = [max(len(row[i]) for row in rows + [header])
              for i in range(len(header))]
    rule = '  '.join('=' * width for width in widths)

    def line(row):
        return '  '.join(cell.ljust(width)
                         for cell, width in zip(row, widths)).rstrip()

    return '\n'.join([rule, line(header), rule] + [line(row) for row in rows]
                     + [rule])


def use_example(test):
    """The doc's example cloud for ``test``; returns its FakeCinder."""
    cinder = test.useFixture(fakes.FakeCinder())
    for backup_id, parent, made, status in EXAMPLE:
        cinder.add(backup_id, parent, status=status, created_at=_parse(made))
    test.useFixture(fakes.Clock())
    test.useFixture(fixtures.MockPatch(
        'cinder_backup_ext_client.v1.prune.started',
        return_value=EXAMPLE_START))
    return cinder


class TestCalendar(base.BaseTestCase):
    """Backups months apart, the calendar rules, and the doc's example."""

    def setUp(self):
        super().setUp()
        self.cinder = use_example(self)

    def test_example(self):
        status, out, err = run('--volume', 'volume-one', '--dry-run', '-f',
                               'json', *EXAMPLE_ARGS)
        self.assertEqual(0, status)
        got = actions(out)
        self.assertEqual(
            ['nov-30', 'oct-01', 'oct-08', 'sep-01', 'sep-15'],
            sorted(b for b, (action, _) in got.items() if action == 'delete'))
        self.assertEqual(['keep-daily 2026-12-03', 'keep-weekly 2026-W49',
                          'keep-monthly 2026-12', 'keep-yearly 2026'],
                         got['dec-03'][1])
        self.assertEqual(['keep-yearly 2025'], got['y2025'][1])
        # The error backup is no restore point: November's is nov-24.
        self.assertEqual(['keep-weekly 2026-W48', 'keep-monthly 2026-11'],
                         got['nov-24'][1])
        self.assertEqual(('delete', []), got['nov-30'])
        self.assertIn('keeping 10, deleting 5.', err)

    def test_deletes_exactly_the_plan(self):
        _status, planned, _err = run('--volume', fakes.VOLUME, '--dry-run',
                                     '-f', 'json', *EXAMPLE_ARGS)
        doomed = [b for b, (action, _) in actions(planned).items()
                  if action == 'delete']
        status, out, _err = run('--volume', fakes.VOLUME, '-f', 'json',
                                *EXAMPLE_ARGS)
        self.assertEqual(0, status)
        self.assertEqual(sorted(doomed), sorted(self.cinder.deletes()))
        self.assertEqual(sorted(doomed), sorted(
            b for b, (action, _) in actions(out).items()
            if action == 'deleted'))
        # Leaf-first: each child before its parent.
        order = self.cinder.deletes()
        self.assertLess(order.index('sep-15'), order.index('sep-01'))
        self.assertLess(order.index('oct-08'), order.index('oct-01'))

    def test_keep_within(self):
        # 2 days before the newest point (dec-03 02:00): from dec-01 02:00.
        _status, out, _err = run('--volume', fakes.VOLUME, '--dry-run', '-f',
                                 'json', '--keep-within', '2d')
        got = actions(out)
        self.assertEqual(['dec-01', 'dec-02a', 'dec-02b', 'dec-03'], sorted(
            b for b, (_action, why) in got.items() if 'keep-within' in why))
        self.assertEqual('delete', got['nov-24'][0])
        _status, out, err = run('--volume', fakes.VOLUME, '--dry-run', '-f',
                                'json', '--keep-within', '1m', '--keep-last',
                                '1')
        got = actions(out)
        # 30 days before Dec 3 02:00 is Nov 3 02:00.
        self.assertIn('keep-within', got['nov-10'][1])
        self.assertNotIn('keep-within', got['nov-01'][1])
        self.assertEqual(['parent of nov-10'], got['nov-01'][1])
        self.assertIn('Kept beyond --keep-last 1 --keep-within 1m: ', err)


class TestDuration(base.BaseTestCase):

    def test_values(self):
        day = datetime.timedelta(days=1)
        for text, value in (('30d', 30 * day), ('12h', day / 2),
                            ('2w', 14 * day), ('1y', 365 * day),
                            ('1y5m7d2h', (365 + 150 + 7) * day
                             + datetime.timedelta(hours=2)),
                            (' 6M ', 180 * day)):
            self.assertEqual(value, prune.duration(text), text)
        self.assertEqual('1y5m7d2h', prune.duration('1y5m7d2h').text)

    def test_errors_say_the_syntax(self):
        stderr = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        cinder = self.useFixture(fakes.FakeCinder())
        for text in ('', '5', 'd', '1x', '1d1d', '1.5d', '-1d', '1d 2h',
                     'week'):
            self.assertRaises(SystemExit, run, '--volume', 'v',
                              '--keep-within=' + text)
            self.assertIn("argument --keep-within: must be a duration such "
                          "as 30d, 12h, 2w or 1y5m7d2h (y: years of 365 "
                          "days, m: months of 30 days, w: weeks, d: days, "
                          "h: hours), not %r" % text, stderr.getvalue())
        self.assertRaises(SystemExit, run, '--volume', 'v', '--keep-within',
                          '0d')
        self.assertIn("argument --keep-within: must be longer than 0, not "
                      "'0d'", stderr.getvalue())
        self.assertNotIn('invalid', stderr.getvalue())
        self.assertEqual([], cinder.calls)


class TestPruneArguments(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())).new_value
        self.cinder = self.useFixture(fakes.FakeCinder())

    def _error(self, *argv):
        self.assertRaises(SystemExit, run, *argv)
        self.assertEqual([], self.cinder.calls)
        return self.stderr.getvalue()

    def test_no_rule(self):
        self.assertIn('give at least one of --keep-last, --keep-daily, '
                      '--keep-weekly, --keep-monthly, --keep-yearly, '
                      '--keep-within, --keep-chains', self._error(
                          '--volume', 'v'))

    def test_volume_or_all_volumes(self):
        self.assertIn('one of the arguments --volume --all-volumes is '
                      'required', self._error('--keep-last', '1'))
        self.assertIn('argument --all-volumes: not allowed with argument '
                      '--volume', self._error('--volume', 'v',
                                              '--all-volumes',
                                              '--keep-last', '1'))

    def test_keep_nothing_is_refused(self):
        for option in ('--keep-last', '--keep-chains', '--keep-daily',
                       '--keep-weekly', '--keep-monthly', '--keep-yearly'):
            self.assertIn("argument %s: must be a whole number of at least "
                          "1, not '0'" % option,
                          self._error('--volume', 'v', option, '0'))
        self.assertIn("not 'x'",
                      self._error('--volume', 'v', '--keep-chains', 'x'))

    def test_help_names_every_rule(self):
        app = fakes.FakeApp(client.ChainsClient(fakes.proxy()))
        text = prune.PruneBackups(app, None).get_parser(
            'openstack').format_help()
        text = ' '.join(text.split())
        for option in ('--keep-last', '--keep-daily', '--keep-weekly',
                       '--keep-monthly', '--keep-yearly', '--keep-within',
                       '--keep-chains', '--all-volumes', '--dry-run'):
            self.assertIn(option, text)
        self.assertIn('(name or ID)', text)


class TestPruneWithoutExtension(base.BaseTestCase):

    def test_clear_message(self):
        cinder = self.useFixture(fakes.FakeCinder(extension=False))
        cinder.add('f1')
        for argv in (['--volume', fakes.VOLUME], ['--all-volumes']):
            error = self.assertRaises(client.ExtensionMissing, run,
                                      *(argv + ['--keep-last', '1']))
            self.assertIn('cinder_backup_ext.api.loader.load', str(error))
        self.assertEqual([], cinder.deletes())


class TestDocTableFormat(base.BaseTestCase):

    def test_the_table_is_rst(self):
        table = example_table({b[0]: ('keep', ['x']) for b in EXAMPLE})
        lines = table.splitlines()
        self.assertTrue(re.match(r'^=+( +=+)+$', lines[0]))
        self.assertEqual(lines[0], lines[2])
        self.assertEqual(lines[0], lines[-1])
        self.assertEqual(len(EXAMPLE) + 4, len(lines))
