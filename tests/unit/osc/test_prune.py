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


import io

import fixtures
from oslotest import base

from cinder_backup_ext.osc import client
from cinder_backup_ext.osc.v1 import prune
from tests.unit.osc import fakes


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
        return fakes.run(prune.PruneBackups,
                         ['--volume', fakes.VOLUME] + list(argv))

    def test_keep_last_keeps_what_the_newest_restore_from(self):
        out = self._run('--keep-last', '2')
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())
        self.assertEqual(['a2', 'b2', 'c2', 'elsewhere', 'f2'],
                         sorted(self.cinder.rows))
        self.assertIn('7 backup(s) in 2 chain(s)', out)
        self.assertIn('keeping 4, deleting 3', out)
        self.assertIn('Kept beyond --keep-last 2: 2 that kept backups were '
                      'made from (restoring needs them).\n', out)
        self.assertTrue(out.endswith('Deleted 3 backup(s).\n'))

    def test_volume_by_name(self):
        out = fakes.run(prune.PruneBackups, ['--volume', 'volume-one',
                                             '--keep-chains', '1'])
        self.assertIn('Volume volume-one (vol-1): 7 backup(s)', out)
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())

    def test_nothing_to_delete(self):
        for extra in ([], ['--dry-run']):
            out = self._run('--keep-chains', '2', *extra)
            self.assertEqual('Volume vol-1: 7 backup(s) in 2 chain(s); '
                             'keeping 7, deleting 0.\nNothing to delete.\n',
                             out.split('Would keep')[0])
        self.assertEqual([], self.cinder.deletes())

    def test_says_why_it_keeps_more_than_asked(self):
        self.cinder.rows['b1']['status'] = 'creating'
        out = self._run('--keep-last', '1', '--dry-run')
        self.assertEqual(
            'Volume vol-1: 7 backup(s) in 2 chain(s); keeping 5, '
            'deleting 2.\n'
            'Kept beyond --keep-last 1: 3 that kept backups were made from '
            '(restoring needs them), 1 that Cinder would not delete now.\n'
            'Would delete 2 backup(s), leaf-first (--dry-run: nothing is '
            'deleted):\n'
            '  [1/2] b2 (n-b2, available)\n'
            '  [2/2] a2 (n-a2, available)\n'
            'Would keep 5 backup(s):\n'
            '  f2 (n-f2, available)  <- parent of c2\n'
            '    c2 (n-c2, available)  <- keep-last\n'
            '  f1 (n-f1, available)  <- parent of a1\n'
            '    a1 (n-a1, available)  <- parent of b1\n'
            '      b1 (n-b1, creating)  <- status creating\n', out)

    def test_keep_last_one_breaks_no_chain_it_keeps(self):
        self._run('--keep-last', '1')
        self.assertEqual(['b2', 'a2', 'b1', 'a1', 'f1'],
                         self.cinder.deletes())
        self.assertEqual(['c2', 'elsewhere', 'f2'], sorted(self.cinder.rows))

    def test_keep_chains(self):
        self._run('--keep-chains', '1')
        self.assertEqual(['b1', 'a1', 'f1'], self.cinder.deletes())

    def test_requests_bounded_by_chains(self):
        for n in range(3):
            self.cinder.add('x%d' % n, 'b1')
        self._run('--keep-chains', '2', '--dry-run')
        reads = [call for call, _arg in self.cinder.calls
                 if call in ('LIST', 'SHOW')]
        self.assertEqual(['LIST', 'SHOW', 'SHOW'], reads)

    def test_dry_run_prints_plan_and_deletes_nothing(self):
        out = self._run('--keep-last', '1', '--dry-run')
        self.assertEqual([], self.cinder.deletes())
        self.assertEqual(
            'Volume vol-1: 7 backup(s) in 2 chain(s); keeping 2, '
            'deleting 5.\n'
            'Kept beyond --keep-last 1: 1 that kept backups were made from '
            '(restoring needs them).\n'
            'Would delete 5 backup(s), leaf-first (--dry-run: nothing is '
            'deleted):\n'
            '  [1/5] b2 (n-b2, available)\n'
            '  [2/5] a2 (n-a2, available)\n'
            '  [3/5] b1 (n-b1, available)\n'
            '  [4/5] a1 (n-a1, available)\n'
            '  [5/5] f1 (n-f1, available)\n'
            'Would keep 2 backup(s):\n'
            '  f2 (n-f2, available)  <- parent of c2\n'
            '    c2 (n-c2, available)  <- keep-last\n', out)

    def test_stops_at_first_refusal(self):
        self.cinder.fail.add('a1')
        error = self.assertRaises(client.exceptions.CommandError,
                                  self._run, '--keep-chains', '1')
        self.assertEqual(['b1', 'a1'], self.cinder.deletes())
        self.assertIn('Deleted (1): b1\nNot deleted (2): a1, f1',
                      str(error))

    def test_unknown_volume_is_an_error(self):
        error = self.assertRaises(
            client.NotFound, fakes.run, prune.PruneBackups,
            ['--volume', 'typo', '--keep-last', '1'])
        self.assertIn("No volume with a name or ID of 'typo' exists.",
                      str(error))
        self.assertEqual([('VOLUME', 'typo')], self.cinder.calls)


class TestPruneArguments(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())).new_value
        self.cinder = self.useFixture(fakes.FakeCinder())

    def _error(self, *argv):
        self.assertRaises(SystemExit, fakes.run, prune.PruneBackups,
                          list(argv))
        self.assertEqual([], self.cinder.calls)
        return self.stderr.getvalue()

    def test_both(self):
        self.assertIn('argument --keep-chains: not allowed with argument '
                      '--keep-last', self._error(
                          '--volume', 'v', '--keep-last', '1',
                          '--keep-chains', '1'))

    def test_neither(self):
        self.assertIn('one of the arguments --keep-last --keep-chains is '
                      'required', self._error('--volume', 'v'))

    def test_volume_required(self):
        self.assertIn('--volume', self._error('--keep-last', '1'))

    def test_keep_nothing_is_refused(self):
        self.assertIn("must be a whole number of at least 1, not '0'",
                      self._error('--volume', 'v', '--keep-last', '0'))
        self.assertIn("not 'x'",
                      self._error('--volume', 'v', '--keep-chains', 'x'))


class TestPruneWithoutExtension(base.BaseTestCase):

    def test_clear_message(self):
        cinder = self.useFixture(fakes.FakeCinder(extension=False))
        cinder.add('f1')
        error = self.assertRaises(
            client.ExtensionMissing, fakes.run, prune.PruneBackups,
            ['--volume', fakes.VOLUME, '--keep-last', '1'])
        self.assertIn('cinder_backup_ext.api.loader.load', str(error))
        self.assertEqual([], cinder.deletes())
