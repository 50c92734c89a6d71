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


"""The ``openstack`` CLI, in process, against real Cinder with the plugin.

``openstackclient.shell.main`` loads this package's OSC plugin from its
installed entry points, as a user's ``openstack`` does, and talks over HTTP
to Cinder's WSGI API (noauth: keystoneauth's ``admin_token`` sends the
token ``user:project`` to the endpoint given). Backups are made and deleted
by Cinder's real backup service.
"""

import datetime
import io
import json
import uuid

import fixtures
from openstackclient import shell
from osc_lib import clientmanager as osc_clientmanager

from cinder_backup_ext_client import plugin
from tests.functional import base


class OpenStackCLITestCase(base.CinderTestCase):

    def openstack(self, *argv, endpoint=None):
        """Run ``openstack argv``; (exit status, stdout, stderr)."""
        # Cinder's project-scoped endpoint, as a catalog would give it.
        endpoint = endpoint or '%s/%s' % (self.auth_url, self.api.project_id)
        out = self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', io.StringIO())).new_value
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        # OSC caches a plugin's client on its ClientManager class, once per
        # process; each run here stands for a new `openstack` process.
        manager = osc_clientmanager.ClientManager
        cached = vars(manager)[plugin.API_NAME]
        setattr(manager, plugin.API_NAME,
                osc_clientmanager.ClientCache(plugin.make_client))
        self.addCleanup(setattr, manager, plugin.API_NAME, cached)
        try:
            status = shell.main([
                '--os-auth-type', 'admin_token', '--os-endpoint', endpoint,
                '--os-token', 'user:%s' % self.api.project_id] + list(argv))
        except SystemExit as exc:  # argparse's usage errors, as in a shell
            status = exc.code
        return status, out.getvalue(), err.getvalue()

    def ok(self, *argv):
        status, out, err = self.openstack(*argv)
        self.assertEqual(0, status, err)
        return out

    def live_ids(self):
        return {b['id'] for b in self.list_backups()}


class TestChainsCLI(OpenStackCLITestCase):

    def setUp(self):
        super().setUp()
        self.volume = self.create_volume()['id']
        self.api.put_volume(self.volume, {'volume': {'name': 'data'}})
        self.full = self.create_backup(self.volume)['id']
        self.inc1 = self.create_backup(self.volume, incremental=True)['id']
        self.inc2 = self.create_backup(self.volume, incremental=True)['id']
        for backup_id, name in ((self.full, 'monday'), (self.inc1, 'tuesday'),
                                (self.inc2, 'wednesday')):
            self.set_backup_columns(backup_id, display_name=name)

    def test_list_and_show(self):
        chains = json.loads(self.ok('volume', 'backup', 'chain', 'list',
                                    '--volume', self.volume, '-f', 'json'))
        self.assertEqual([(self.full, 'monday', 3, 2)], [
            (c['Full Backup ID'], c['Full Backup Name'], c['Backups'],
             c['Depth']) for c in chains])
        rows = json.loads(self.ok('volume', 'backup', 'chain', 'show',
                                  self.inc2, '-f', 'json'))
        self.assertEqual([(self.full, 0), (self.inc1, 1), (self.inc2, 2)],
                         [(r['ID'], r['Depth']) for r in rows])
        table = self.ok('volume', 'backup', 'chain', 'show', self.full)
        ids = [line.split('|')[1].rstrip() for line in table.splitlines()
               if line.startswith('|')][1:]
        self.assertEqual([' ' + self.full, '   ' + self.inc1,
                          '     ' + self.inc2], ids)

    def test_delete_leaf_first_through_cinder(self):
        out = self.ok('volume', 'backup', 'chain', 'delete', self.inc1,
                      '--dry-run')
        self.assertIn('Would delete 2 backup(s)', out)
        self.assertEqual({self.full, self.inc1, self.inc2}, self.live_ids())
        out = self.ok('volume', 'backup', 'chain', 'delete', self.inc1,
                      '--timeout', '60')
        self.assertEqual(['[1/2] deleting %s' % self.inc2,
                          '[2/2] deleting %s' % self.inc1],
                         [line.split(' (')[0] for line in
                          out.splitlines()[:2]])
        self.assertIn('Deleted 2 backup(s).', out)
        self.assertEqual({self.full}, self.live_ids())

    def test_stops_at_cinders_refusal(self):
        # A backup Cinder will not delete now: the run stops there and
        # says what went and what is left.
        self.set_backup_columns(self.inc1, status='restoring')
        status, out, err = self.openstack(
            'volume', 'backup', 'chain', 'delete', self.full)
        self.assertEqual(1, status)
        self.assertIn('Stopped at backup %s: Cinder refused the delete'
                      % self.inc1, err)
        self.assertIn('Deleted (1): %s' % self.inc2, err)
        self.assertIn('Not deleted (2): %s, %s' % (self.inc1, self.full),
                      err)
        self.assertNotIn('Traceback', err)
        self.assertEqual({self.full, self.inc1}, self.live_ids())

    def test_prune_keep_chains(self):
        newer = self.create_backup(self.volume)['id']
        newer_inc = self.create_backup(self.volume, incremental=True)['id']
        status, out, err = self.openstack(
            'volume', 'backup', 'prune', '--volume', self.volume,
            '--keep-chains', '1', '--dry-run')
        self.assertEqual(0, status, err)
        self.assertIn('keeping 2, deleting 3', err)
        self.assertEqual(5, len(self.live_ids()))
        self.ok('volume', 'backup', 'prune', '--volume', self.volume,
                '--keep-last', '1', '--timeout', '60')
        self.assertEqual({newer, newer_inc}, self.live_ids())

    def _prune_json(self, *argv):
        status, out, err = self.openstack('volume', 'backup', 'prune',
                                          *(argv + ('-f', 'json')))
        self.assertEqual(0, status, err)
        return {row['Backup']: row for row in json.loads(out)}, err

    def test_prune_calendar_months_apart(self):
        # A second chain, then every backup's date rewritten in the
        # database: two chains, August to November of last year.
        full2 = self.create_backup(self.volume)['id']
        inc3 = self.create_backup(self.volume, incremental=True)['id']
        year = datetime.datetime.now(datetime.timezone.utc).year - 1
        for backup_id, month, day in ((self.full, 8, 3), (self.inc1, 9, 10),
                                      (self.inc2, 9, 20), (full2, 10, 5),
                                      (inc3, 11, 2)):
            self.set_backup_columns(backup_id, created_at=datetime.datetime(
                year, month, day, 2, 0))
        rules = ('--keep-daily', '1', '--keep-monthly', '2')
        plan, err = self._prune_json('--volume', 'data', '--dry-run', *rules)
        self.assertEqual(
            {inc3: ('keep', ['keep-daily %d-11-02' % year,
                             'keep-monthly %d-11' % year]),
             full2: ('keep', ['keep-monthly %d-10' % year,
                              'parent of %s' % inc3]),
             self.inc2: ('delete', []), self.inc1: ('delete', []),
             self.full: ('delete', [])},
            {backup_id: (row['Action'], row['Reasons'])
             for backup_id, row in plan.items()})
        self.assertEqual(5, len(self.live_ids()))
        done, err = self._prune_json('--volume', 'data', '--timeout', '60',
                                     *rules)
        self.assertEqual({full2, inc3}, self.live_ids())
        self.assertEqual({self.full, self.inc1, self.inc2}, {
            backup_id for backup_id, row in done.items()
            if row['Action'] == 'deleted'})
        self.assertIn('Deleted 3 backup(s).', err)

    def test_prune_all_volumes(self):
        # Another volume; and backups whose volume was deleted (Cinder
        # keeps a backup's volume_id when its volume goes).
        other = self.create_volume()['id']
        other_old = self.create_backup(other)['id']
        other_new = self.create_backup(other)['id']
        gone = str(uuid.uuid4())
        orphans = [self.create_backup(other)['id'] for _ in range(2)]
        for backup_id in orphans:
            self.set_backup_columns(backup_id, volume_id=gone)
        plan, err = self._prune_json('--all-volumes', '--keep-last', '1',
                                     '--dry-run')
        self.assertEqual(
            {self.volume: {self.full: 'keep', self.inc1: 'keep',
                           self.inc2: 'keep'},
             other: {other_old: 'delete', other_new: 'keep'},
             gone: {orphans[0]: 'delete', orphans[1]: 'keep'}},
            {volume: {b: row['Action'] for b, row in plan.items()
                      if row['Volume'] == volume}
             for volume in (self.volume, other, gone)})
        self.assertIn('Volume %s (volume deleted): 2 backup(s)' % gone, err)
        self.assertIn('Volume data (%s): 3 backup(s)' % self.volume, err)
        done, _err = self._prune_json('--all-volumes', '--keep-last', '1',
                                      '--timeout', '60')
        self.assertEqual({self.full, self.inc1, self.inc2, other_new,
                          orphans[1]}, self.live_ids())
        self.assertEqual({other_old, orphans[0]}, {
            b for b, row in done.items() if row['Action'] == 'deleted'})

    def test_show_restore_verdict(self):
        # An admin resets the middle backup to error: the leaf cannot be
        # restored, and says why.
        self.set_backup_columns(self.inc1, status='error')
        rows = json.loads(self.ok('volume', 'backup', 'chain', 'show',
                                  'wednesday', '-f', 'json'))
        self.assertEqual(
            [(self.full, True, None),
             (self.inc1, False, 'Its status is error; Cinder restores '
              'only available backups.'),
             (self.inc2, False, 'Ancestor %s is in status error.'
              % self.inc1)],
            [(r['ID'], r['Restorable'], r['Not Restorable Because'])
             for r in rows])

    def test_names_everywhere(self):
        chains = json.loads(self.ok('volume', 'backup', 'chain', 'list',
                                    '--volume', 'data', '-f', 'json'))
        self.assertEqual([self.full], [c['Full Backup ID'] for c in chains])
        rows = json.loads(self.ok('volume', 'backup', 'chain', 'show',
                                  'wednesday', '-f', 'json'))
        self.assertEqual(['monday', 'tuesday', 'wednesday'],
                         [r['Name'] for r in rows])
        out = self.ok('volume', 'backup', 'chain', 'delete', 'tuesday',
                      '--dry-run')
        self.assertIn('[2/2] %s (tuesday, available)' % self.inc1, out)
        status, out, err = self.openstack(
            'volume', 'backup', 'prune', '--volume', 'data', '--keep-last',
            '1', '--dry-run')
        self.assertEqual(0, status, err)
        self.assertIn('Volume data (%s): 3 backup(s) in 1 chain(s); '
                      'keeping 3, deleting 0.\n' % self.volume, err)
        self.assertIn('Kept beyond --keep-last 1: 2 that kept backups were '
                      'made from (restoring needs them).\nNothing to '
                      'delete.\n', err)
        self.assertIn('| keep   | keep-last', out)

    def test_a_name_of_two_backups(self):
        self.set_backup_columns(self.inc1, display_name='monday')
        status, _out, err = self.openstack('volume', 'backup', 'chain',
                                           'show', 'monday')
        self.assertEqual(1, status)
        self.assertIn("More than one backup exists with the name 'monday'. "
                      'Give its ID', err)

    def test_errors_say_what_to_do_without_urls(self):
        for argv in (['chain', 'list', '--volume', 'nope'],
                     ['prune', '--volume', 'nope', '--keep-last', '1'],
                     ['chain', 'show', 'nope'],
                     ['chain', 'delete', 'nope']):
            status, out, err = self.openstack('volume', 'backup', *argv)
            self.assertEqual((1, ''), (status, out), argv)
            kind = 'volume' if '--volume' in argv else 'backup'
            # The last line: openstacksdk warns before it that a token
            # without a catalog (admin_token) has no microversions.
            self.assertEqual(
                "No %s with a name or ID of 'nope' exists. Check it: "
                '`openstack volume %slist` lists the %ss you can see.'
                % (kind, 'backup ' if kind == 'backup' else '', kind),
                err.splitlines()[-1])
            self.assertNotIn('http', err)
        # --debug shows the requests (keystoneauth logs them).
        status, _out, err = self.openstack('--debug', 'volume', 'backup',
                                           'chain', 'show', 'nope')
        self.assertEqual(1, status)
        self.assertIn('GET %s/%s/backups/nope' % (self.auth_url,
                                                  self.api.project_id), err)

    def test_validation_messages_name_no_function(self):
        status, _out, err = self.openstack('volume', 'backup', 'chain',
                                           'delete', self.full, '--timeout',
                                           '0')
        self.assertEqual(2, status)
        self.assertIn("argument --timeout: must be a number of seconds "
                      "greater than 0, not '0'", err)
        self.assertNotIn('invalid', err)
        status, _out, err = self.openstack('volume', 'backup', 'prune',
                                           '--volume', 'data',
                                           '--keep-within', 'soon')
        self.assertEqual(2, status)
        self.assertIn("argument --keep-within: must be a duration such as "
                      "30d, 12h, 2w or 1y5m7d2h", err)
        self.assertNotIn('invalid', err)
        status, _out, err = self.openstack('volume', 'backup', 'prune',
                                           '--all-volumes')
        self.assertEqual(2, status)
        self.assertIn('error: give at least one of --keep-last', err)
        self.assertEqual(3, len(self.live_ids()))

    def test_help_is_plain_text(self):
        for argv in (['chain', 'list'], ['chain', 'show'], ['chain', 'delete'],
                     ['prune']):
            out = self.ok('volume', 'backup', *(argv + ['--help']))
            self.assertIn('(name or ID)', ' '.join(out.split()))
            self.assertNotIn('``', out)


class TestWithoutTheExtension(OpenStackCLITestCase):

    def test_clear_message_not_a_traceback(self):
        stock = self.stock_api()
        status, _out, err = self.openstack(
            'volume', 'backup', 'chain', 'list',
            endpoint='%s/%s' % (stock.auth_uri, stock.project_id))
        self.assertEqual(1, status)
        self.assertIn('no os-backup-chains resource', err)
        self.assertIn('osapi_volume_extension = '
                      'cinder_backup_ext.api.loader.load', err)
        self.assertNotIn('Traceback', err)
