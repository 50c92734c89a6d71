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

"""Checks Cinder runs before its own controller: deletes and restores.

Never orphan a backup
=====================

Cinder refuses ``DELETE /backups/{id}`` while incrementals depend on the
backup, but it looks for them in the caller's project only. A database
upgraded from an older release can hold another project's incremental
whose parent is this backup (``visibility.py``); Cinder would delete the
parent and leave that incremental unrestorable, with nobody told. This
pre-processing extension refuses that delete with Cinder's own 400 and
message, so that ``has_dependent_backups``, the chain's ``deletable`` and
DELETE agree. Everything else (404, 403, a status Cinder refuses, a
dependent Cinder sees itself) is left to Cinder, in Cinder's order.

Admins who mean to delete such a backup all the same keep Cinder's
``os-force_delete`` action, which this extension does not touch.

Never start a restore that cannot finish
========================================
A restore reads every backup from the chain's full backup down to the one
restored, on the backup node, link by link: an ancestor that is deleted,
missing, not ``available`` or made by another backup service makes it
fail half-way, after the target volume was already overwritten. ``POST
/backups/{id}/restore`` is refused with 409, naming the first broken link,
before anything is written. One statement reads the whole line of
ancestors (``chain_rows.ancestors_statement``).
"""

from oslo_db import exception as db_exc
from oslo_log import log as logging
import sqlalchemy.exc
import webob.exc

from cinder_backup_ext import chains
from cinder_backup_ext import compat
from cinder_backup_ext.db import chain_rows
from cinder_backup_ext.db import dependents
from cinder_backup_ext import visibility

LOG = logging.getLogger(__name__)

#: Cinder's own reason, from ``cinder/backup/api.py``.
DEPENDENTS_EXIST = 'Incremental backups exist for this backup.'


class BackupGuardsController(compat.Controller):

    @compat.extends
    def delete(self, req, id):
        # The part before ``yield`` runs before Cinder's delete; raising
        # there is the response, and Cinder's controller is not called.
        context = req.environ['cinder.context']
        try:
            row = dependents.read_for_delete(context, id)
        except (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError):
            LOG.exception('Checking the dependents of backup %s failed.', id)
            raise webob.exc.HTTPServiceUnavailable(
                explanation='The dependents of backup %s could not be '
                            'checked; try again later.' % id)
        if row is not None and self._cinder_misses_dependents(context, row):
            LOG.info('Refused to delete backup %s: %d backup(s) of other '
                     'projects depend on it.', id, row[2])
            raise compat.InvalidBackup(reason=DEPENDENTS_EXIST)
        yield

    @compat.extends
    def restore(self, req, id, body):
        context = req.environ['cinder.context']
        try:
            rows = chain_rows.read_ancestors(context, id)
        except (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError):
            LOG.exception('Checking the chain of backup %s failed.', id)
            raise webob.exc.HTTPServiceUnavailable(
                explanation='The chain of backup %s could not be checked; '
                            'try again later.' % id)
        backup = rows.get(id)
        if backup is not None and self._cinder_would_restore(context,
                                                             backup):
            problem = chains.restore_problem(
                backup, rows, visibility.Viewer.of(context).sees_row)
            if problem:
                LOG.info('Refused to restore backup %s: %s.', id, problem)
                raise webob.exc.HTTPConflict(explanation=(
                    'Backup %s cannot be restored: %s. A restore reads '
                    'every backup from the full backup of its chain to '
                    'this one; restore another backup, or repair the '
                    'chain.' % (id, problem)))
        yield

    @staticmethod
    def _cinder_would_restore(context, backup):
        """Whether Cinder would go on to restore ``backup``.

        It does when the caller sees the backup, the backup is available
        and Cinder's policy allows the restore.
        """
        if not (compat.sees_every_project(context)
                or backup['project_id'] == context.project_id):
            return False
        if backup['status'] != 'available':
            return False
        return compat.authorize(context, [], compat.BACKUP_RESTORE,
                                {'project_id': backup['project_id']})

    @staticmethod
    def _cinder_misses_dependents(context, row):
        project_id, status, children, own_children = row
        if not children or own_children:
            return False  # nothing to miss, or Cinder refuses by itself
        if not (compat.sees_every_project(context)
                or project_id == context.project_id):
            return False  # Cinder answers 404
        if status not in chains.DELETABLE_STATUSES:
            return False  # Cinder refuses for the status first
        # Cinder refuses first when its policy denies the delete.
        return compat.authorize(context, [], compat.BACKUP_DELETE,
                                {'project_id': project_id})


class Backup_guards(compat.ExtensionDescriptor):
    """Refuses backup deletes that would orphan another project's backup."""

    name = 'BackupGuards'
    alias = 'os-backup-ext-guards'
    updated = '2026-12-04T00:00:00+00:00'

    def get_resources(self):
        # As backup_flags: the resource is only the carrier of the hook.
        return [compat.ResourceExtension(
            self.alias, compat.Controller(),
            custom_routes_fn=compat.extend_backups(
                BackupGuardsController(),
                'check deletes and restores'))]
