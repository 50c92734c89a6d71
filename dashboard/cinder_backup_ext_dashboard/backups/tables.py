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


"""Horizon's backups table with the chain flags and a chain-aware Delete."""

import logging

from django.conf import settings
from django import shortcuts
from django.utils import html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from horizon import messages
from horizon import tables
from horizon.templatetags import sizeformat

from cinder_backup_ext_dashboard import api
from cinder_backup_ext_dashboard import chain_info
from cinder_backup_ext_dashboard import horizon_compat

LOG = logging.getLogger(__name__)

#: What a flag column says when the policy hides the flag: not "False".
HIDDEN = '\u2014'

#: Seconds a batch delete waits for each deleted incremental to be gone
#: before it deletes its parent (local_settings.py may set it; 0: no
#: waiting).
DEFAULT_DELETE_WAIT = 20


def yes_no(value):
    if value is None:
        return None
    return _('Yes') if value else _('No')


def human_bytes(value):
    """Horizon's own size format (``3.1 MB``); None stays None."""
    if value is None:
        return None
    return str(sizeformat.filesizeformat(value, sizeformat.float_format))


def stored(backup):
    """What the backup wrote, from its chain (Size is the volume's)."""
    return human_bytes(api.info_of(backup).stored_bytes)


def incremental(backup):
    return yes_no(api.info_of(backup).is_incremental)


def has_dependents(backup):
    return yes_no(api.info_of(backup).has_dependents)


def dependents_state(backup):
    """'pending' while a dependent is being deleted (or created)."""
    return 'pending' if api.info_of(backup).pending else 'settled'


def blocked_reason(info):
    """Why Cinder would refuse to delete this backup, for the user."""
    if info.hidden_dependents:
        return str(_('A backup of another project depends on this one'))
    count = info.dependents_count
    if count:
        return ngettext(
            '%(count)d incremental backup depends on this one: '
            'delete it first',
            '%(count)d incremental backups depend on this one: '
            'delete them first', count) % {'count': count}
    return str(_('Incremental backups depend on this one: delete them '
                 'first'))


def _names(members):
    return ', '.join(member.get('name') or member['id'] for member in members)


def refusal_message(name, refusal):
    """One line saying why the backup ``name`` was not deleted."""
    others = _names(refusal.others)
    if refusal.kind == chain_info.Refusal.UNSELECTED_DEPENDENTS:
        return ngettext(
            'Cannot delete %(name)s: %(count)d incremental backup that '
            'depends on it is not selected (%(others)s): select it too, '
            'or delete it first.',
            'Cannot delete %(name)s: %(count)d incremental backups that '
            'depend on it are not selected (%(others)s): select them too, '
            'or delete them first.', len(refusal.others)) % {
                'name': name, 'count': len(refusal.others), 'others': others}
    if refusal.kind == chain_info.Refusal.DEPENDENT_REFUSED:
        return _('Cannot delete %(name)s: it is the parent of %(others)s, '
                 'which cannot be deleted.') % {
                     'name': name, 'others': others}
    if refusal.kind == chain_info.Refusal.STILL_DELETING:
        return _('%(name)s was not deleted: its incremental backups '
                 '(%(others)s) are still being deleted. Delete it again '
                 'when they are gone.') % {'name': name, 'others': others}
    if refusal.kind == chain_info.Refusal.HIDDEN_DEPENDENTS:
        return _('Cannot delete %(name)s: a backup of another project '
                 'depends on it.') % {'name': name}
    if refusal.kind == chain_info.Refusal.HAS_DEPENDENTS:
        return _('Cannot delete %(name)s: incremental backups depend on '
                 'it: delete them first.') % {'name': name}
    return _('Cannot delete %(name)s: its status is %(status)s.') % {
        'name': name, 'status': refusal.status}


def _disable(action, reason, css_class):
    """Show ``action`` disabled in this row, saying why."""
    # Horizon copies the action and its attrs for each row; a copy here
    # too, so that no other caller's action is ever changed.
    action.attrs = dict(action.attrs)
    action.attrs['disabled'] = 'disabled'
    action.attrs['title'] = reason
    action.attrs['data-cbe-blocked'] = reason
    action.verbose_name = html.format_html(
        '{}<span class="help-block {}">{}</span>',
        action.verbose_name, css_class, reason)


class RestoreBackup(horizon_compat.backups_tables.RestoreBackup):
    """Horizon's Restore, disabled (with the reason) on a broken chain.

    Cinder would start the restore and fail half-way, after the volume
    was written; the plugin's API refuses it, and the chain resource says
    why for each backup.
    """

    def update(self, request, datum):
        super().update(request, datum)
        if datum is None:
            return
        reason = api.info_of(datum).restore_refusal
        if reason is not None:
            _disable(self, reason or str(_('Its chain cannot be restored')),
                     'cbe-restore-reason')
            # A link opens its form whatever its attributes: no form here.
            self.classes = tuple(c for c in self.classes
                                 if c != 'ajax-modal') + ('disabled',)

    def get_link_url(self, datum=None):
        if self.attrs.get('disabled'):
            return '#'
        return super().get_link_url(datum)


class DeleteBackup(horizon_compat.backups_tables.DeleteBackup):
    """Horizon's Delete, disabled (with the reason) where Cinder refuses.

    A backup that others depend on keeps its Delete in the row's menu,
    disabled, saying how many must go first. A selection is deleted
    leaf-first; what cannot go is said, backup by backup.
    """

    def update(self, request, datum):
        super().update(request, datum)
        if datum is None:
            return
        info = api.info_of(datum)
        if not info.blocked:
            return
        _disable(self, blocked_reason(info), 'cbe-delete-reason')

    def handle(self, table, request, obj_ids):
        selected, names, not_allowed = [], {}, []
        for obj_id in obj_ids:
            datum = self._datum(table, request, obj_id)
            if datum is None:
                continue
            name = table.get_object_display(datum) or obj_id
            if not horizon_compat.action_allowed(table, self, request,
                                                 datum):
                not_allowed.append(name)
                continue
            info = api.info_of(datum)
            names[info.id] = name
            selected.append(info)
        order, refused = chain_info.plan(selected)
        members = chain_info.to_delete(order)
        run = api.deleter(
            request, lambda backup_id: self.delete(request, backup_id),
            timeout=getattr(settings, 'CINDER_BACKUP_EXT_DELETE_WAIT',
                            DEFAULT_DELETE_WAIT))
        result = run.run(members, wait_all=False, keep_going=True)
        refused.update(chain_info.refusals(result, members))
        # Taken by Cinder: gone, or still being deleted at the wait's end.
        deleted = [m['info'] for m in members
                   if m in result.deleted or m['id'] in result.slow]
        if not_allowed:
            messages.error(request, _('You are not allowed to delete: '
                                      '%s') % ', '.join(not_allowed))
        for info in selected:
            if info.id in refused:
                messages.error(request, refusal_message(names[info.id],
                                                        refused[info.id]))
        for backup_id, why in result.failed.items():
            LOG.warning('Deleting backup %s failed: %s', backup_id, why)
            messages.error(request, _('Unable to delete %(name)s: %(error)s')
                           % {'name': names[backup_id], 'error': why})
        if deleted:
            self.success_ids.extend(info.id for info in deleted)
            messages.success(request, '%s: %s' % (
                self._get_action_name(deleted, past=True),
                ', '.join(names[info.id] for info in deleted)))
        return shortcuts.redirect(self.get_success_url(request))

    @staticmethod
    def _datum(table, request, obj_id):
        """The listed backup, or (not on this page) Cinder's, annotated."""
        try:
            return table.get_object_by_id(obj_id)
        except ValueError:
            pass
        try:
            backup = horizon_compat.cinder.volume_backup_get(request, obj_id)
        except Exception as exc:
            messages.error(request, _('Unable to find backup %(id)s: '
                                      '%(error)s') % {'id': obj_id,
                                                      'error': exc})
            return None
        api.annotate(request, [backup])
        return backup


class UpdateRow(horizon_compat.backups_tables.UpdateRow):

    def get_data(self, request, backup_id):
        backup = super().get_data(request, backup_id)
        api.annotate(request, [backup])
        return backup


def _cell_named(name):
    # Names the cell for the browser test and for custom themes.
    return lambda _data: {'data-cbe-column': name}


class BackupsTable(horizon_compat.backups_tables.BackupsTable):
    # "—" when the chain was not read, the backup not measured, or the
    # policy hides the sizes: never 0.
    stored_bytes = tables.Column(
        stored, verbose_name=_('Stored'), empty_value=HIDDEN,
        attrs={'data-type': 'size'},
        help_text=_('What the backup wrote, before compression. Size is '
                    'its volume\'s, as Cinder counts every backup.'),
        cell_attributes_getter=_cell_named('stored_bytes'))
    is_incremental = tables.Column(
        incremental, verbose_name=_('Incremental'), empty_value=HIDDEN,
        cell_attributes_getter=_cell_named('is_incremental'))
    has_dependents = tables.Column(
        has_dependents, verbose_name=_('Has dependents'),
        empty_value=HIDDEN,
        cell_attributes_getter=_cell_named('has_dependents'))
    # Keeps a row refreshing (AJAX) while its dependents are being deleted,
    # so that its Delete comes back once they are gone.
    dependents_state = tables.Column(
        dependents_state, hidden=True, status=True,
        status_choices=(('settled', True), ('pending', None)))

    class Meta(horizon_compat.backups_tables.BackupsTable.Meta):
        columns = ('name', 'description', 'size', 'stored_bytes', 'status',
                   'is_incremental',
                   'has_dependents', 'availability_zone', 'volume_name',
                   'snapshot', 'created_at', 'dependents_state')
        status_columns = ('status', 'dependents_state')
        row_class = UpdateRow
        table_actions = (DeleteBackup,
                         horizon_compat.backups_tables.BackupsFilterAction)
        row_actions = (RestoreBackup, DeleteBackup)
