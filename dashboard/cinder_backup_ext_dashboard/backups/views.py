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


"""Horizon's backup views on this package's table and detail tabs."""

from django.urls import reverse
from horizon.utils import memoized

from cinder_backup_ext_dashboard import api
from cinder_backup_ext_dashboard.backups import tables
from cinder_backup_ext_dashboard.backups import tabs
from cinder_backup_ext_dashboard import horizon_compat


class BackupsView(horizon_compat.backups_views.BackupsView):
    table_class = tables.BackupsTable

    def get_data(self):
        return api.annotate(self.request, super().get_data())


class BackupDetailView(horizon_compat.backups_views.BackupDetailView):
    tab_group_class = tabs.BackupDetailTabs

    @memoized.memoized_method
    def get_data(self):
        backup = super().get_data()
        api.annotate(self.request, [backup], chains_for_all=True)
        return backup

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The header's actions from this table: Delete disabled with the
        # reason where backups depend on this one.
        table = tables.BackupsTable(self.request)
        context['actions'] = table.render_row_actions(context['backup'])
        return context

    @staticmethod
    def get_redirect_url():
        return reverse('horizon:project:backups:index')


class RestoreBackupView(horizon_compat.backups_views.RestoreBackupView):
    pass
