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


"""The backups table, its Delete action and the detail page's chain."""

import importlib.resources
import unittest
from unittest import mock

from cinderclient import exceptions as cinder_exceptions
from django import template
from django.test import client as django_client

from cinder_backup_ext_dashboard.backups import tables
from cinder_backup_ext_dashboard.backups import tabs
from cinder_backup_ext_dashboard import chain_info
from cinder_backup_ext_dashboard.tests import test_chain_info as data


class Backup(object):
    """Horizon's VolumeBackup as the views hand it to the table."""

    def __init__(self, m, body_flags=None, chain=None):
        self.id = m['id']
        self.name = m['name']
        self.status = m['status']
        self.created_at = m['created_at']
        self.description = ''
        self.size = 1
        self.availability_zone = 'nova'
        self.volume = None
        self.snapshot = None
        self.snapshot_id = None
        self.volume_id = 'v'
        body = dict(m, **(body_flags or {}))
        self._apiresource = data.FakeResource(body)
        self.cbe = chain_info.from_backup(self)
        self.cbe.chain = chain


def whole_chain():
    c = data.chain(data.FULL, data.INC1, data.INC2)
    return {
        'full1': Backup(data.FULL, {'is_incremental': False,
                                    'has_dependent_backups': True}, c),
        'inc1': Backup(data.INC1, {'is_incremental': True,
                                   'has_dependent_backups': True}, c),
        'inc2': Backup(data.INC2, {'is_incremental': True,
                                   'has_dependent_backups': False}),
    }


def request():
    req = django_client.RequestFactory().get('/project/backups/')
    req.user = mock.Mock(is_authenticated=True)
    req.session = {}
    return req


class ReasonTest(unittest.TestCase):

    def test_counts(self):
        backups = whole_chain()
        self.assertEqual(
            tables.blocked_reason(backups['full1'].cbe),
            '2 incremental backups depend on this one: delete them first')
        self.assertEqual(
            tables.blocked_reason(backups['inc1'].cbe),
            '1 incremental backup depends on this one: delete it first')

    def test_count_unknown(self):
        backup = Backup(data.FULL, {'has_dependent_backups': True})
        self.assertEqual(
            tables.blocked_reason(backup.cbe),
            'Incremental backups depend on this one: delete them first')


class ColumnsTest(unittest.TestCase):

    def cells(self, backup):
        table = tables.BackupsTable(request(), data=[backup])
        return tuple(str(table.columns[name].get_data(backup))
                     for name in ('is_incremental', 'has_dependents'))

    def test_yes_no(self):
        backups = whole_chain()
        self.assertEqual(self.cells(backups['full1']), ('No', 'Yes'))
        self.assertEqual(self.cells(backups['inc2']), ('Yes', 'No'))

    def test_hidden_flags_say_dash_never_false(self):
        backup = Backup(data.FULL)
        table = tables.BackupsTable(request(), data=[backup])
        for name in ('is_incremental', 'has_dependents'):
            column = table.columns[name]
            self.assertIsNone(column.get_raw_data(backup))
            self.assertEqual(column.empty_value, '\u2014')

    def test_order(self):
        names = list(tables.BackupsTable(request()).columns)
        self.assertEqual(names[names.index('size'):][:5],
                         ['size', 'stored_bytes', 'status', 'is_incremental',
                          'has_dependents'])

    def stored(self, backup):
        table = tables.BackupsTable(request(), data=[backup])
        column = table.columns['stored_bytes']
        # As Horizon's cell renders it: empty_value stands in for None.
        value = column.get_raw_data(backup)
        return value, value if value is not None else column.empty_value

    def test_stored_from_the_chain(self):
        c = data.chain(dict(data.FULL, stored_bytes=3276800),
                       dict(data.INC1, stored_bytes=512))
        self.assertEqual(('3.1 MB', '3.1 MB'),
                         self.stored(Backup(data.FULL, chain=c)))
        self.assertEqual(('512 B', '512 B'),
                         self.stored(Backup(data.INC1, chain=c)))

    def test_stored_unknown_hidden_or_not_read_is_a_dash(self):
        unmeasured = data.chain(dict(data.FULL, stored_bytes=None))
        for backup in (Backup(data.FULL), Backup(data.FULL,
                                                 chain=unmeasured)):
            self.assertEqual((None, '\u2014'), self.stored(backup))

    def test_pending_row_keeps_refreshing(self):
        deleting = dict(data.INC2, status='deleting')
        c = data.chain(data.FULL, data.INC1, deleting)
        parent = Backup(data.INC1, {'has_dependent_backups': True}, c)
        self.assertEqual(tables.dependents_state(parent), 'pending')
        self.assertEqual(tables.dependents_state(whole_chain()['inc1']),
                         'settled')


class DeleteActionTest(unittest.TestCase):

    def bound(self, backup, name='delete'):
        # As Horizon renders a row's actions (the row menu, the detail
        # page's header).
        table = tables.BackupsTable(request(), data=[backup])
        with mock.patch.object(table, '_filter_action', return_value=True):
            actions = table.get_row_actions(backup)
        return next(a for a in actions if a.name == name)

    def test_restore_disabled_on_a_broken_chain(self):
        broken = dict(data.INC2, restorable=False,
                      not_restorable_reason='Ancestor full1 is in status '
                                            'error.')
        c = data.chain(data.FULL, data.INC1, broken)
        backup = Backup(data.INC2, {'is_incremental': True,
                                    'has_dependent_backups': False}, c)
        action = self.bound(backup, 'restore')
        self.assertEqual('disabled', action.attrs.get('disabled'))
        self.assertEqual('Ancestor full1 is in status error.',
                         action.attrs['title'])
        self.assertEqual('#', action.bound_url)
        self.assertNotIn('ajax-modal', action.classes)
        # A sound chain leaves Horizon's Restore as it is.
        sound = Backup(data.INC1, {'is_incremental': True,
                                   'has_dependent_backups': True},
                       data.chain(data.FULL, dict(data.INC1, restorable=True),
                                  data.INC2))
        action = self.bound(sound, 'restore')
        self.assertNotIn('disabled', action.attrs)
        self.assertIn('ajax-modal', action.classes)
        self.assertIn('/restore/', action.bound_url)

    def test_no_leak_between_rows(self):
        backups = whole_chain()
        self.bound(backups['inc1'])
        self.assertNotIn('disabled', self.bound(backups['inc2']).attrs)

    def test_disabled_with_the_reason(self):
        action = self.bound(whole_chain()['inc1'])
        self.assertEqual(action.attrs.get('disabled'), 'disabled')
        self.assertEqual(
            action.attrs['title'],
            '1 incremental backup depends on this one: delete it first')
        self.assertIn('cbe-delete-reason', str(action.verbose_name))

    def test_leaf_enabled(self):
        action = self.bound(whole_chain()['inc2'])
        self.assertNotIn('disabled', action.attrs)
        self.assertNotIn('title', action.attrs)

    def test_hidden_flags_leave_horizon_s_delete(self):
        action = self.bound(Backup(data.FULL))
        self.assertNotIn('disabled', action.attrs)


class BatchDeleteTest(unittest.TestCase):

    def handle(self, ids, gone=True):
        backups = whole_chain()
        table = mock.Mock()
        table.get_object_by_id.side_effect = lambda i: backups[i]
        table.get_object_display.side_effect = lambda b: b.name
        table._filter_action.return_value = True
        action = tables.DeleteBackup()
        deleted = []
        req = request()
        with mock.patch.object(tables.DeleteBackup, 'delete',
                               lambda self, r, i: deleted.append(i)), \
                mock.patch.object(tables.api.horizon_compat.cinder,
                                  'volume_backup_get',
                                  side_effect=cinder_exceptions.NotFound(404)
                                  if gone else None,
                                  return_value=mock.Mock(
                                      status='deleting')), \
                mock.patch.object(tables, 'messages') as messages, \
                mock.patch.object(tables.settings,
                                  'CINDER_BACKUP_EXT_DELETE_WAIT', 0,
                                  create=True):
            action.handle(table, req, ids)
        said = [str(call.args[1]) for call in messages.error.call_args_list]
        done = [str(call.args[1])
                for call in messages.success.call_args_list]
        return deleted, said, done

    def test_leaf_first(self):
        deleted, said, done = self.handle(['full1', 'inc1', 'inc2'])
        self.assertEqual(deleted, ['inc2', 'inc1', 'full1'])
        self.assertEqual(said, [])
        self.assertEqual(done, ['Scheduled deletion of Volume Backups: '
                                'name-inc2, name-inc1, name-full1'])

    def test_explains_what_cannot_go(self):
        deleted, said, done = self.handle(['full1'])
        self.assertEqual(deleted, [])
        self.assertEqual(said, [
            'Cannot delete name-full1: 2 incremental backups that depend '
            'on it are not selected (name-inc2, name-inc1): select them '
            'too, or delete them first.'])
        self.assertEqual(done, [])

    def test_children_not_gone_in_time(self):
        deleted, said, done = self.handle(['inc1', 'inc2'], gone=False)
        self.assertEqual(deleted, ['inc2'])
        self.assertEqual(said, [
            'name-inc1 was not deleted: its incremental backups '
            '(name-inc2) are still being deleted. Delete it again when '
            'they are gone.'])


class ChainContextTest(unittest.TestCase):

    def test_the_overview_template_is_installed(self):
        # Package data: run from the installed copy, this fails when the
        # distribution does not ship the template (tox -e dist-dashboard).
        path = (importlib.resources.files('cinder_backup_ext_dashboard')
                / 'templates' / tabs.BackupOverviewTab.template_name)
        self.assertTrue(path.is_file(), str(path))

    def test_middle_backup(self):
        context = tabs.chain_context(whole_chain()['inc1'])
        self.assertEqual(str(context['type']), 'Incremental')
        self.assertEqual(context['parent']['id'], 'full1')
        self.assertEqual(context['parent']['url'],
                         '/project/backups/full1/')
        self.assertEqual([c['id'] for c in context['children']], ['inc2'])
        self.assertEqual([(n['id'], n['depth'], n['current'])
                          for n in context['tree']],
                         [('full1', 0, False), ('inc1', 1, True),
                          ('inc2', 2, False)])

    def test_sizes(self):
        c = chain_info.ChainBody({'stored_bytes': None, 'backups': [
            dict(data.FULL, stored_bytes=734003200, restore_bytes=734003200),
            dict(data.INC1, stored_bytes=3276800, restore_bytes=737280000),
            dict(data.INC2, stored_bytes=None, restore_bytes=None)]})
        context = tabs.chain_context(Backup(data.INC1, chain=c))
        self.assertEqual(('3.1 MB', '703.1 MB', None),
                         (context['stored'], context['restore'],
                          context['chain_stored']))
        self.assertEqual(['700 MB', '3.1 MB', None],
                         [n['stored'] for n in context['tree']])
        c.stored_bytes = 2048
        self.assertEqual('2 KB', tabs.chain_context(
            Backup(data.INC1, chain=c))['chain_stored'])

    def test_the_page_shows_the_sizes_and_a_dash_for_unknown(self):
        c = chain_info.ChainBody({'stored_bytes': None, 'backups': [
            dict(data.FULL, stored_bytes=734003200, restore_bytes=734003200),
            dict(data.INC1, stored_bytes=None, restore_bytes=None)]})
        backup = Backup(data.INC1, chain=c)
        path = (importlib.resources.files('cinder_backup_ext_dashboard')
                / 'templates' / tabs.BackupOverviewTab.template_name)
        html = template.Template(path.read_text()).render(template.Context(
            {'backup': backup, 'chain': tabs.chain_context(backup)}))
        self.assertIn('<dd id="cbe-backup-stored" title="What the backup '
                      'wrote, before compression">\u2014</dd>', html)
        self.assertIn('<dd id="cbe-chain-stored">\u2014</dd>', html)
        self.assertIn('<span class="cbe-stored">stored 700 MB</span>', html)
        self.assertIn('<span class="cbe-stored">stored \u2014</span>', html)

    def test_no_chain(self):
        backup = Backup(data.FULL, {'is_incremental': False})
        context = tabs.chain_context(backup)
        self.assertEqual((None, None, None),
                         (context['stored'], context['restore'],
                          context['chain_stored']))
        self.assertFalse(context['available'])
        self.assertTrue(context['is_full'])
        self.assertEqual(context['tree'], [])

    def test_flags_hidden_no_chain(self):
        context = tabs.chain_context(Backup(data.INC1))
        self.assertIsNone(context['type'])
        self.assertFalse(context['is_full'])
