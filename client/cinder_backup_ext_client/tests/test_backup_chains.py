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
import json
import re

import fixtures
from osc_lib import exceptions
from oslotest import base
import yaml

from cinder_backup_ext_client import client
from cinder_backup_ext_client.tests import fakes
from cinder_backup_ext_client.v1 import backup_chains


class TestList(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder())
        for n in range(5):
            full = self.cinder.add('full%d' % n)
            self.cinder.add('inc%d' % n, full)
        self.cinder.add('other', volume='vol-2')

    def test_follows_next_links_on_our_endpoint(self):
        self.cinder.page_size = 2
        chains_client = client.ChainsClient(fakes.proxy())
        found = chains_client.list_chains(volume_id=fakes.VOLUME)
        self.assertEqual(['full4', 'full3', 'full2', 'full1', 'full0'],
                         [c['id'] for c in found])
        # Three pages; the links name 'internal-name', the requests went
        # to the endpoint the catalog gave, with the link's marker.
        requests = self.cinder.mock.request_history
        self.assertEqual(3, len(requests))
        self.assertEqual({'cinder.example'}, {r.hostname for r in requests})
        self.assertEqual([None, ['full3'], ['full1']],
                         [r.qs.get('marker') for r in requests])

    def test_a_next_link_that_does_not_advance_stops(self):
        self.cinder.mock.get(
            fakes.ENDPOINT + '/os-backup-chains',
            json={'backup_chains': [{'id': 'x'}], 'backup_chains_links': [
                {'rel': 'next', 'href': fakes.ENDPOINT +
                 '/os-backup-chains?marker=x'}]})
        chains_client = client.ChainsClient(fakes.proxy())
        error = self.assertRaises(client.ApiError, chains_client.list_chains)
        self.assertIn('repeats a page', error.message)

    def _list(self, *argv, app=None):
        return fakes.run(backup_chains.ListBackupChains, list(argv), app=app)

    def test_table_and_all_projects(self):
        rows = json.loads(self._list('--all-projects', '-f', 'json'))
        self.assertEqual(['other', 'full4', 'full3', 'full2', 'full1',
                          'full0'], [r['Full Backup ID'] for r in rows])
        self.assertEqual('n-other', rows[0]['Full Backup Name'])
        self.assertEqual(fakes.PROJECT, rows[0]['Project ID'])
        self.assertEqual({'available': 1}, rows[0]['Statuses'])
        self.assertEqual(['1'], self.cinder.calls[0][1]['all_tenants'])

    def test_headers_name_the_full_backup_sizes_have_units(self):
        table = self._list('--volume', 'vol-2', '--long')
        header, row = [line for line in table.splitlines()
                       if line.startswith('|')]
        self.assertEqual(
            ['Full Backup ID', 'Full Backup Name', 'Volume ID', 'Backups',
             'Depth', 'Size', 'Stored', 'Newest Backup At', 'Orphan',
             'Statuses', 'Hidden Backups', 'Full Backup Created At',
             'Newest Backup ID', 'Unmeasured Backups'],
            [cell.strip() for cell in header.split('|')[1:-1]])
        self.assertEqual(['other', 'n-other', 'vol-2', '1'],
                         [cell.strip() for cell in row.split('|')[1:5]])
        self.assertIn('| 1 GiB | 3 MiB  |', row)
        self.assertEqual([(1, fakes.STORED)], [
            (r['Size'], r['Stored']) for r in json.loads(self._list(
                '--volume', 'vol-2', '-f', 'json'))])

    def test_a_chain_with_an_unmeasured_backup_has_no_total(self):
        self.cinder.rows['inc4']['stored_bytes'] = None
        rows = {r['Full Backup ID']: r for r in json.loads(self._list(
            '--volume', fakes.VOLUME, '--long', '-f', 'json'))}
        self.assertEqual((None, 1), (rows['full4']['Stored'],
                                     rows['full4']['Unmeasured Backups']))
        self.assertEqual((2 * fakes.STORED, 0),
                         (rows['full3']['Stored'],
                          rows['full3']['Unmeasured Backups']))
        table = self._list('--volume', fakes.VOLUME, '-c', 'Full Backup ID',
                           '-c', 'Stored')
        self.assertIn('| full4          | unknown |', table)
        self.assertIn('| full3          | 6 MiB   |', table)

    def test_all_projects_from_a_member_says_it_was_ignored(self):
        app = fakes.FakeApp(client.ChainsClient(fakes.proxy()),
                            roles=['member', 'reader'])
        rows = json.loads(self._list('--all-projects', '-f', 'json',
                                     app=app))
        self.assertIn('--all-projects is ignored: only an admin sees other '
                      "projects' backups", app.stderr.getvalue())
        self.assertNotIn('Project ID', rows[0])
        self.assertNotIn('all_tenants', self.cinder.calls[0][1])

    def test_all_projects_from_an_admin_is_silent(self):
        app = fakes.FakeApp(client.ChainsClient(fakes.proxy()),
                            roles=['admin'])
        self._list('--all-projects', app=app)
        self.assertEqual('', app.stderr.getvalue())
        self.assertEqual(['1'], self.cinder.calls[0][1]['all_tenants'])

    def test_statuses_in_a_table(self):
        self.cinder.mock.get(fakes.ENDPOINT + '/os-backup-chains', json={
            'backup_chains': [{'id': 'x', 'statuses': {'error': 1,
                                                       'available': 3}}]})
        table = fakes.run(backup_chains.ListBackupChains, ['-c', 'Statuses'])
        self.assertIn('| available=3, error=1 |', table)
        data = fakes.run(backup_chains.ListBackupChains,
                         ['-c', 'Statuses', '-f', 'json'])
        self.assertEqual([{'Statuses': {'available': 3, 'error': 1}}],
                         json.loads(data))

    def test_volume_by_id_or_name(self):
        for volume in ('vol-2', 'volume-two'):
            out = self._list('--volume', volume, '-f', 'value', '-c',
                             'Full Backup ID', '-c', 'Backups')
            self.assertEqual('other 1\n', out)
        self.assertEqual([['vol-2']] * 2, [
            qs['volume_id'] for call, qs in self.cinder.calls
            if call == 'LIST'])

    def test_unknown_volume_is_not_found_not_an_empty_list(self):
        error = self.assertRaises(client.NotFound, self._list,
                                  '--volume', 'nope')
        self.assertEqual("No volume with a name or ID of 'nope' exists. "
                         'Check it: `openstack volume list` lists the '
                         'volumes you can see.', str(error))
        self.assertNotIn('LIST', [call for call, _ in self.cinder.calls])


class TestShow(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder())
        self.cinder.add('full')
        self.cinder.add('a', 'full')
        self.cinder.add('b', 'a')
        self.cinder.add('c', 'full', status='creating')

    def test_table_indents_by_depth(self):
        out = fakes.run(backup_chains.ShowBackupChain, ['b'])
        ids = [line.split('|')[1].rstrip() for line in out.splitlines()
               if line.startswith('|')][1:]
        self.assertEqual([' full', '   a', '     b', '   c'], ids)
        self.assertIn('| n-b    | available | 1 GiB | 3 MiB  | 9 MiB ', out)

    def _sizes(self, *argv):
        rows = json.loads(fakes.run(backup_chains.ShowBackupChain,
                                    ['b', '--long', '-f', 'json'] +
                                    list(argv)))
        return [(r['ID'], r['Stored'], r['Restore Reads'],
                 r['Stored Source']) for r in rows]

    def test_stored_and_restore_reads(self):
        mib = fakes.STORED
        self.cinder.rows['c']['stored_bytes'] = 512
        self.assertEqual([('full', mib, mib, 'progress'),
                          ('a', mib, 2 * mib, 'progress'),
                          ('b', mib, 3 * mib, 'progress'),
                          ('c', 512, mib + 512, 'progress')], self._sizes())
        table = fakes.run(backup_chains.ShowBackupChain,
                          ['b', '-c', 'ID', '-c', 'Stored', '-c',
                           'Restore Reads'])
        self.assertIn('|   a   | 3 MiB  | 6 MiB         |', table)
        self.assertIn('|   c   | 512 B  | 3 MiB         |', table)

    def test_unknown_sizes_are_null_never_0(self):
        self.cinder.rows['a']['stored_bytes'] = None
        # a restore of b reads a: unknown too; c does not.
        mib = fakes.STORED
        self.assertEqual([('full', mib, mib, 'progress'),
                          ('a', None, None, None),
                          ('b', mib, None, 'progress'),
                          ('c', mib, 2 * mib, 'progress')], self._sizes())
        table = fakes.run(backup_chains.ShowBackupChain,
                          ['b', '-c', 'ID', '-c', 'Stored', '-c',
                           'Restore Reads'])
        self.assertIn('|   a   | unknown | unknown       |', table)
        self.assertIn('|     b | 3 MiB   | unknown       |', table)

    def test_sizes_hidden_by_policy_or_an_older_api(self):
        self.cinder.show_bytes = False
        self.assertEqual([(b, None, None, None)
                          for b in ('full', 'a', 'b', 'c')], self._sizes())

        def older(request, context):
            body = self.cinder._show(request, context)
            for member in body['backup_chain']['backups']:
                del member['stored_bytes'], member['restore_bytes']
                del member['stored_bytes_source']
            return body
        self.cinder.mock.get(fakes.ENDPOINT + '/os-backup-chains/b',
                             json=older)
        self.assertEqual([(b, None, None, None)
                          for b in ('full', 'a', 'b', 'c')], self._sizes())

    def test_by_name(self):
        out = fakes.run(backup_chains.ShowBackupChain,
                        ['n-b', '-f', 'value', '-c', 'ID'])
        self.assertEqual('full\na\nb\nc\n', out)
        self.assertIn(('SHOW', 'b'), self.cinder.calls)

    def test_a_name_of_several_backups(self):
        self.cinder.rows['c']['name'] = 'n-b'
        error = self.assertRaises(exceptions.CommandError, fakes.run,
                                  backup_chains.ShowBackupChain, ['n-b'])
        self.assertEqual(
            "More than one backup exists with the name 'n-b'. Give its ID "
            '(`openstack volume backup list --name n-b` lists them).',
            str(error))

    def test_json_keeps_ids_plain_with_depth(self):
        out = fakes.run(backup_chains.ShowBackupChain,
                        ['a', '--long', '-f', 'json'])
        rows = json.loads(out)
        self.assertEqual([('full', 0, None, False, True, False),
                          ('a', 1, 'full', True, True, False),
                          ('b', 2, 'a', True, False, True),
                          ('c', 1, 'full', True, False, False)],
                         [(r['ID'], r['Depth'], r['Parent ID'],
                           r['Incremental'], r['Has Dependents'],
                           r['Deletable']) for r in rows])

    def test_restore_verdict_per_member(self):
        self.cinder.rows['a']['status'] = 'error'
        rows = json.loads(fakes.run(backup_chains.ShowBackupChain,
                                    ['b', '-f', 'json']))
        self.assertEqual(
            [('full', True, None),
             ('a', False, 'Its status is error; Cinder restores only '
              'available backups.'),
             ('b', False, 'Ancestor a is in status error.'),
             ('c', False, 'Its status is creating; Cinder restores only '
              'available backups.')],
            [(r['ID'], r['Restorable'], r['Not Restorable Because'])
             for r in rows])
        # In a table, no reason is an empty cell, not "None".
        table = fakes.run(backup_chains.ShowBackupChain, ['b'])
        full = next(line for line in table.splitlines()
                    if line.startswith('| full'))
        self.assertNotIn('None', full)
        self.assertIn('| True       |      ', full)

    def test_a_cinder_without_the_verdict(self):
        # An API older than the verdict sends neither field.
        def show(request, context):
            body = self.cinder._show(request, context)
            for member in body['backup_chain']['backups']:
                del member['restorable'], member['not_restorable_reason']
            return body
        self.cinder.mock.get(fakes.ENDPOINT + '/os-backup-chains/b',
                             json=show)
        rows = json.loads(fakes.run(backup_chains.ShowBackupChain,
                                    ['b', '-f', 'json']))
        self.assertEqual([None] * 4, [r['Restorable'] for r in rows])

    def test_yaml(self):
        out = fakes.run(backup_chains.ShowBackupChain, ['full', '-f', 'yaml'])
        self.assertEqual([('full', 0), ('a', 1), ('b', 2), ('c', 1)],
                         [(r['ID'], r['Depth']) for r in yaml.safe_load(out)])

    def test_unknown_backup(self):
        error = self.assertRaises(client.NotFound, fakes.run,
                                  backup_chains.ShowBackupChain, ['nope'])
        self.assertEqual("No backup with a name or ID of 'nope' exists. "
                         'Check it: `openstack volume backup list` lists '
                         'the backups you can see.', str(error))

    def test_cinders_404_says_what_to_do_without_the_url(self):
        # The backup goes between the lookup and the chain read.
        self.cinder.mock.get(fakes.ENDPOINT + '/os-backup-chains/b',
                             status_code=404, json={'itemNotFound': {
                                 'message': 'Backup b could not be found.'}})
        error = self.assertRaises(client.NotFound, fakes.run,
                                  backup_chains.ShowBackupChain, ['b'])
        self.assertEqual('Backup b could not be found. Check the name or '
                         'ID: `openstack volume backup list` lists the '
                         'backups you can see.', str(error))

    def test_server_error_names_the_request_id(self):
        self.cinder.mock.get(
            fakes.ENDPOINT + '/os-backup-chains/b', status_code=500,
            headers={'x-openstack-request-id': 'req-1'},
            json={'computeFault': {'message': 'boom'}})
        error = self.assertRaises(client.ApiError, fakes.run,
                                  backup_chains.ShowBackupChain, ['b'])
        self.assertEqual('Cinder failed (HTTP 500): boom Try again later; '
                         "if it persists, give the cloud's operators the "
                         'request ID req-1.', str(error))

    def test_backup_id_stays_one_path_segment(self):
        chains_client = client.ChainsClient(fakes.proxy())
        self.assertRaises(client.NotFound, chains_client.get_chain,
                          '../volumes')
        # (requests-mock reports paths lower-cased)
        self.assertIn('/os-backup-chains/..%2fvolumes',
                      self.cinder.mock.request_history[0].path)


class TestHumanBytes(base.BaseTestCase):

    def test_units(self):
        for value, text in ((None, 'unknown'), (0, '0 B'), (1023, '1023 B'),
                            (1024, '1 KiB'), (1536, '1.5 KiB'),
                            (3276800, '3.1 MiB'), (734003200, '700 MiB'),
                            (10 * 1024 ** 3, '10 GiB'),
                            (2 * 1024 ** 5, '2048 TiB')):
            self.assertEqual(text, backup_chains.human_bytes(value), value)

    def test_machine_formats_keep_the_bytes(self):
        self.assertEqual(3276800,
                         backup_chains.Bytes(3276800).machine_readable())
        self.assertIsNone(backup_chains.Bytes(None).machine_readable())


class TestMissingExtension(base.BaseTestCase):
    """A cloud without the plugin: Cinder's router answers 404."""

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder(extension=False))
        self.cinder.add('full')

    def _assert_missing(self, error):
        self.assertIsInstance(error, client.ExtensionMissing)
        self.assertIn('no os-backup-chains resource', str(error))
        self.assertIn('osapi_volume_extension = '
                      'cinder_backup_ext.api.loader.load', str(error))

    def test_list(self):
        self._assert_missing(self.assertRaises(
            client.ApiError, fakes.run, backup_chains.ListBackupChains, []))

    def test_show_probes_the_collection(self):
        self._assert_missing(self.assertRaises(
            client.ApiError, fakes.run, backup_chains.ShowBackupChain,
            ['full']))
        self.assertEqual(
            ['/v3/%s/backups/full' % fakes.PROJECT,
             '/v3/%s/os-backup-chains/full' % fakes.PROJECT,
             '/v3/%s/os-backup-chains' % fakes.PROJECT],
            [r.path for r in self.cinder.mock.request_history
             if r.path != '/v3'])

    def test_a_refused_probe_leaves_the_backups_404(self):
        # The extension is there (the list answers, but 403 by policy):
        # the backup is what is missing, not the resource.
        self.cinder.mock.get(
            re.compile(re.escape(fakes.ENDPOINT)
                       + r'/os-backup-chains(\?.*)?$'),
            status_code=403, json={'forbidden': {'message': 'policy'}})
        error = self.assertRaises(client.ApiError, fakes.run,
                                  backup_chains.ShowBackupChain, ['full'])
        self.assertIsInstance(error, client.NotFound)
        self.assertNotIsInstance(error, client.ExtensionMissing)

    def test_delete_deletes_nothing(self):
        self._assert_missing(self.assertRaises(
            client.ApiError, fakes.run, backup_chains.DeleteBackupChain,
            ['full']))
        self.assertEqual([], self.cinder.deletes())

    def test_osc_prints_one_line_not_a_traceback(self):
        # OSC's shell prints a CommandError's text and exits 1.
        from osc_lib import exceptions
        self.assertTrue(issubclass(client.ExtensionMissing,
                                   exceptions.CommandError))


class TestDelete(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.cinder = self.useFixture(fakes.FakeCinder(polls=2))
        self.cinder.add('full')
        self.cinder.add('a', 'full')
        self.cinder.add('b', 'a')
        self.cinder.add('c', 'a')
        self.cinder.add('keep', 'full')
        self.clock = self.useFixture(fakes.Clock())

    def _run(self, *argv):
        return fakes.run(backup_chains.DeleteBackupChain, list(argv))

    def test_leaf_first_waiting_for_each(self):
        out = self._run('n-a')
        self.assertEqual(['c', 'b', 'a'], self.cinder.deletes())
        # The name is looked up, then each backup is read until gone
        # before its parent's DELETE.
        self.assertEqual(
            [('GET', 'n-a'), ('BACKUPS', {'name': ['n-a']}), ('SHOW', 'a'),
             ('DELETE', 'c'), ('GET', 'c'), ('GET', 'c'), ('GET', 'c'),
             ('DELETE', 'b'), ('GET', 'b'), ('GET', 'b'), ('GET', 'b'),
             ('DELETE', 'a'), ('GET', 'a'), ('GET', 'a'), ('GET', 'a')],
            self.cinder.calls)
        self.assertEqual(['full', 'keep'], sorted(self.cinder.rows))
        self.assertEqual([0.5, 1.0] * 3, self.clock.sleeps)
        self.assertEqual('[1/3] deleting c (n-c, available) ... deleted\n'
                         '[2/3] deleting b (n-b, available) ... deleted\n'
                         '[3/3] deleting a (n-a, available) ... deleted\n'
                         'Deleted 3 backup(s).\n', out)

    def test_stops_at_first_refusal_naming_deleted_and_remaining(self):
        self.cinder.rows['b']['status'] = 'restoring'
        error = self.assertRaises(client.exceptions.CommandError,
                                  self._run, 'a')
        self.assertEqual(['c', 'b'], self.cinder.deletes())
        self.assertEqual(
            ['Stopped at backup b: Cinder refused the delete: Invalid '
             'backup: Backup status must be available or error.',
             'Deleted (1): c', 'Not deleted (2): b, a',
             'Once the cause is fixed, run the command again: it starts '
             'from what is left.'], str(error).splitlines())

    def test_stops_when_cinder_fails_to_delete(self):
        self.cinder.fail.add('c')
        error = self.assertRaises(client.exceptions.CommandError,
                                  self._run, 'a')
        self.assertEqual(['c'], self.cinder.deletes())
        self.assertIn('its status is now error (backend said no)',
                      str(error))
        self.assertIn('Not deleted (3): c, b, a', str(error))

    def test_timeout(self):
        self.cinder.polls = 1000
        error = self.assertRaises(client.exceptions.CommandError,
                                  self._run, 'b', '--timeout', '5')
        self.assertIn('still deleting after 5.0 s', str(error))
        self.assertEqual([0.5, 1.0, 2.0, 2.0], self.clock.sleeps)

    def test_no_wait_only_skips_the_last_wait(self):
        out = self._run('a', '--no-wait')
        self.assertEqual(['c', 'b', 'a'], self.cinder.deletes())
        self.assertEqual(('DELETE', 'a'), self.cinder.calls[-1])
        self.assertIn('(n-a, available) ... accepted\n'
                      'Deleted 2 backup(s); a is being deleted.\n', out)

    def test_dry_run_deletes_nothing(self):
        self.cinder.rows['c']['status'] = 'creating'
        out = self._run('full', '--dry-run')
        self.assertEqual([], self.cinder.deletes())
        lines = out.splitlines()
        self.assertIn('Would delete 5 backup(s), leaf-first', lines[0])
        self.assertEqual(['keep', 'c', 'b', 'a', 'full'],
                         [line.split()[1] for line in lines[1:]])
        self.assertIn('Cinder refuses: Its status is creating', lines[2])

    def test_nothing_is_deleted_when_another_project_depends(self):
        self.cinder.rows['b']['hidden_dependent_count'] = 1
        error = self.assertRaises(client.exceptions.CommandError,
                                  self._run, 'a')
        self.assertEqual([], self.cinder.deletes())
        self.assertEqual(
            'Nothing deleted: b (n-b, available) cannot be deleted. A backup '
            'of another project depends on this one. Cinder refuses to '
            'delete it and every backup it was made from; ask that project, '
            "or the cloud's operators, to delete that backup first.",
            str(error))
        out = self._run('a', '--dry-run')
        self.assertIn('n-b, available)  <- Cinder refuses: A backup of '
                      'another project depends on this one.', out)

    def test_a_backup_already_gone_counts_as_deleted(self):
        def gone(request, context):
            # Someone else deleted c between the plan and our DELETE.
            del self.cinder.rows['c']
            return fakes.fault(context, 404, 'itemNotFound', 'gone')
        self.cinder.mock.delete(fakes.ENDPOINT + '/backups/c', json=gone)
        out = self._run('a')
        self.assertEqual(['b', 'a'], self.cinder.deletes())
        self.assertIn('deleting c (n-c, available) ... already gone\n', out)
        self.assertIn('Deleted 3 backup(s).', out)

    def test_timeout_must_be_positive_said_for_people(self):
        stderr = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        for value in ('0', 'soon'):
            self.assertRaises(SystemExit, self._run, 'a', '--timeout',
                              value)
            self.assertIn("argument --timeout: must be a number of seconds "
                          "greater than 0, not '%s'" % value,
                          stderr.getvalue())
        self.assertNotIn('invalid', stderr.getvalue())
        self.assertEqual([], self.cinder.calls)
