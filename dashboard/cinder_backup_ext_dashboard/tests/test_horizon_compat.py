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

"""What horizon_compat.py relies on is still where Horizon kept it."""

import inspect
import unittest

import horizon
from horizon import loaders
from horizon import tables

from cinder_backup_ext_dashboard import horizon_compat


class HorizonInternalsTest(unittest.TestCase):

    def test_the_per_row_action_check(self):
        check = tables.DataTable._filter_action
        self.assertEqual(['self', 'action', 'request', 'datum'],
                         list(inspect.signature(check).parameters)[:4])

    def test_the_panel_template_map_and_the_registered_dashboard(self):
        class Panel(horizon.Panel):
            slug = 'cbepanel'
            name = 'CBE'

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                horizon_compat.keep_template_dir(self, '/kept')

        class Dashboard(horizon.Dashboard):
            slug = 'cbetest'
            name = 'CBE test'
            panels = ()

        horizon.register(Dashboard)
        self.addCleanup(horizon.unregister, Dashboard)
        self.addCleanup(loaders.panel_template_dirs.pop, 'cbetest/cbepanel',
                        None)
        Dashboard.register(Panel)
        self.assertEqual('/kept',
                         loaders.panel_template_dirs['cbetest/cbepanel'])

    def test_the_classes_the_plugin_extends(self):
        for module, names in (
                (horizon_compat.backups_tables,
                 ('DeleteBackup', 'UpdateRow', 'BackupsTable',
                  'BackupsFilterAction', 'RestoreBackup')),
                (horizon_compat.backups_tabs,
                 ('BackupOverviewTab', 'BackupDetailTabs',
                  'BackupMessagesTab')),
                (horizon_compat.backups_views,
                 ('BackupsView', 'BackupDetailView', 'RestoreBackupView')),
                (horizon_compat.backups_panel, ('Backups',))):
            for name in names:
                self.assertTrue(inspect.isclass(getattr(module, name)),
                                (module.__name__, name))
        for name in ('cinderclient', 'volume_backup_get'):
            self.assertTrue(callable(getattr(horizon_compat.cinder, name)))
