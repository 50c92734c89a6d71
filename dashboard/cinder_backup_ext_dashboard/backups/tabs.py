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


"""The backup detail page: Horizon's overview, then the backup's chain."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cinder_backup_ext_dashboard import api
from cinder_backup_ext_dashboard.backups import tables
from cinder_backup_ext_dashboard import chain_info
from cinder_backup_ext_dashboard import horizon_compat


def _link(member):
    return {'id': member['id'],
            'name': member.get('name') or member['id'],
            'url': reverse('horizon:project:backups:detail',
                           args=(member['id'],))}


def chain_context(backup):
    """What the chain section shows for ``backup`` (annotated)."""
    info = api.info_of(backup)
    chain = info.chain if info.chain and info.id in info.chain.ids else None
    is_incremental = info.is_incremental
    if is_incremental is None and chain is not None:
        is_incremental = chain.by_id[info.id].get('parent_id') is not None
    kind = None
    if is_incremental is not None:
        kind = _('Incremental') if is_incremental else _('Full')
    # Sizes: None (the template's "—") when unknown or hidden.
    context = {'type': kind, 'is_full': is_incremental is False,
               'available': chain is not None,
               'parent': None, 'children': [], 'tree': [],
               'stored': tables.human_bytes(info.stored_bytes),
               'restore': tables.human_bytes(info.restore_bytes),
               'chain_stored': None}
    if chain is None:
        return context
    context['chain_stored'] = tables.human_bytes(chain.stored_bytes)
    parent = chain.parent(info.id)
    context['parent'] = _link(parent) if parent else None
    context['children'] = [_link(child) for child in chain.children(info.id)]
    for member in chain.members:
        node = _link(member)
        node.update(
            depth=member.get('depth', 0),
            indent=2 * member.get('depth', 0),
            status=member.get('status'),
            size=member.get('size'),
            stored=tables.human_bytes(
                chain_info.byte_count(member.get('stored_bytes'))),
            created_at=member.get('created_at'),
            type=(_('Incremental') if member.get('parent_id') else _('Full')),
            current=member['id'] == info.id)
        context['tree'].append(node)
    return context


class BackupOverviewTab(horizon_compat.backups_tabs.BackupOverviewTab):
    template_name = 'cinder_backup_ext/backups/_detail_overview.html'

    def get_context_data(self, request):
        context = super().get_context_data(request)
        context['chain'] = chain_context(self.tab_group.kwargs['backup'])
        return context


class BackupDetailTabs(horizon_compat.backups_tabs.BackupDetailTabs):
    tabs = (BackupOverviewTab, horizon_compat.backups_tabs.BackupMessagesTab)
