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

Never grow a chain past its cap
===============================
Every incremental backup chains to the newest one, and a restore reads
every link: chains that grow without bound make restores slow and
fragile. With ``[cinder_backup_ext] max_chain_depth`` or
``max_chain_age`` set (or the volume type's extra specs
``cinder_backup_ext:max_chain_depth``, ``...:max_chain_age``,
``...:chain_cap_action``), an incremental ``POST /backups`` that would go
past the cap is made a full backup (``full``: the request's
``incremental`` is set to false before Cinder reads it, and the backup's
metadata says why at microversion 3.43 and later, and Cinder's own user
message "Incremental backup not possible, forcing full backup." is posted
on the volume) or refused with 409
(``reject``) before Cinder reserves any quota. The parent is predicted as
Cinder picks it (``chain_rows.parent_line_statement``). The policy rule
``cinder_backup_ext:backup:exempt_from_chain_cap`` exempts callers.
"""

import datetime

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import timeutils
import sqlalchemy.exc
import webob.exc

from cinder_backup_ext import compat
from cinder_backup_ext.db import chain_rows
from cinder_backup_ext.db import dependents
from cinder_backup_ext.db import tables
from cinder_backup_ext import opts
from cinder_backup_ext import policies
from cinder_backup_ext import visibility
import cinder_backup_ext_chains as chains

LOG = logging.getLogger(__name__)

#: Cinder's own reason, from ``cinder/backup/api.py``.
DEPENDENTS_EXIST = 'Incremental backups exist for this backup.'

#: The extra specs of a volume type that override the cap's options.
SPEC = 'cinder_backup_ext:%s'
CAP_OPTIONS = ('max_chain_depth', 'max_chain_age', 'chain_cap_action')
#: Backup metadata exists from this microversion on.
METADATA_VERSION = '3.43'


class Cap(object):
    """The cap in force for one volume: options, then its type's specs."""

    def __init__(self, conf, specs):
        group = conf[opts.GROUP]
        self.depth = group.max_chain_depth
        self.age = group.max_chain_age
        self.action = group.chain_cap_action
        self.source = {}
        for name in CAP_OPTIONS:
            value = specs.get(SPEC % name)
            if value is None:
                continue
            try:
                if name == 'chain_cap_action':
                    if value not in ('full', 'reject'):
                        raise ValueError(value)
                    self.action = value
                else:
                    setattr(self, name[len('max_chain_'):], max(0, int(value)))
                self.source[name] = 'volume type extra spec %s' % (
                    SPEC % name)
            except ValueError:
                LOG.warning('Ignoring the volume type extra spec %s=%r: '
                            'not a valid value.', SPEC % name, value)

    def where(self, name):
        return self.source.get(name,
                               '[%s] %s' % (opts.GROUP, name))

    def exceeded(self, line, now):
        """Why an incremental on ``line`` (parent first) goes too far."""
        if not line:
            return None
        depth = len(line)  # the new backup's: its parent's plus one
        if self.depth and depth > self.depth:
            return ('it would be incremental number %d after the full '
                    'backup %s, and %s is %d'
                    % (depth, line[-1]['id'], self.where('max_chain_depth'),
                       self.depth))
        created = line[-1]['created_at']
        if self.age and created is not None:
            age = now - created.replace(tzinfo=None)
            if age > datetime.timedelta(days=self.age):
                return ('the full backup %s of its chain is %d days old, '
                        'and %s is %d' % (line[-1]['id'], age.days,
                                          self.where('max_chain_age'),
                                          self.age))
        return None


def _read(function, context, backup_id, what):
    """``function(context, backup_id)``; a database failure is a 503.

    A check that cannot be made must not let through what it exists to
    stop; Cinder's own request would meet the same database.
    """
    try:
        return function(context, backup_id)
    except (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError):
        LOG.exception('Checking the %s of backup %s failed.', what,
                      backup_id)
        raise webob.exc.HTTPServiceUnavailable(
            explanation='The %s of backup %s could not be checked; try '
                        'again later.' % (what, backup_id))


class BackupGuardsController(compat.Controller):

    @compat.extends
    def delete(self, req, id):
        # The part before ``yield`` runs before Cinder's delete; raising
        # there is the response, and Cinder's controller is not called.
        context = req.environ['cinder.context']
        row = _read(dependents.read_for_delete, context, id, 'dependents')
        if row is not None and self._cinder_misses_dependents(context, row):
            LOG.info('Refused to delete backup %s: %d backup(s) of other '
                     'projects depend on it.', id, row[2])
            raise compat.InvalidBackup(reason=DEPENDENTS_EXIST)
        yield

    @compat.extends
    def create(self, req, body):
        try:
            backup = body['backup']
            volume_id = backup['volume_id']
            incremental = strutils.bool_from_string(
                backup.get('incremental', False), strict=True)
        except (KeyError, TypeError, ValueError):
            incremental = False  # Cinder's own validation answers
        made_full = False
        if incremental:
            try:
                made_full = self._cap(req, backup, volume_id)
            except webob.exc.HTTPException:
                raise  # the cap's own refusal
            except Exception:
                # Never a 500 where Cinder would have answered.
                LOG.exception('The chain cap of volume %s could not be '
                              'applied; the request goes to Cinder as it '
                              'is.', volume_id)
        # After yield: Cinder accepted the request (an error skips this).
        yield
        if made_full:
            try:
                compat.post_forced_full_message(
                    req.environ['cinder.context'], volume_id)
            except Exception:
                LOG.exception('Posting the user message for volume %s '
                              'failed.', volume_id)

    @staticmethod
    def _cap(req, backup, volume_id):
        """Apply the chain cap to an incremental request, in place.

        Returns whether the request was made a full backup.
        """
        context = req.environ['cinder.context']
        opts.register_opts(cfg.CONF)
        try:
            # One statement while no cap applies, two when one does.
            cap = Cap(cfg.CONF, chain_rows.read_extra_specs(
                context, volume_id, [SPEC % name for name in CAP_OPTIONS]))
            if not (cap.depth or cap.age):
                return False
            line = chain_rows.read_parent_line(
                context, volume_id, context.project_id,
                backup.get('snapshot_id'))
        except (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError):
            # Cinder's own create reads the same database and will answer.
            LOG.exception('Reading the chain of volume %s failed; the '
                          'backup request goes to Cinder uncapped.',
                          volume_id)
            return False
        why = cap.exceeded(line, timeutils.utcnow())
        if why is None or compat.authorize(
                context, policies.list_rules(),
                policies.EXEMPT_FROM_CHAIN_CAP,
                {'project_id': context.project_id}):
            return False
        if cap.action == 'reject':
            LOG.info('Refused an incremental backup of volume %s: %s.',
                     volume_id, why)
            raise webob.exc.HTTPConflict(explanation=(
                'An incremental backup of volume %s is refused: %s. Take a '
                'full backup instead (without "incremental": true; '
                'openstack volume backup create without --incremental).'
                % (volume_id, why)))
        LOG.info('An incremental backup of volume %s is made a full '
                 'backup: %s.', volume_id, why)
        backup['incremental'] = False
        metadata = backup.get('metadata')
        # Metadata Cinder would refuse stays as it is, for Cinder's 400.
        if (req.api_version_request.matches(METADATA_VERSION)
                and (metadata is None or isinstance(metadata, dict))):
            backup['metadata'] = dict(metadata or {}, **{
                tables.FORCED_FULL: 'made full: %s' % why[:200]})
        return True

    @compat.extends
    def restore(self, req, id, body):
        context = req.environ['cinder.context']
        rows = _read(chain_rows.read_ancestors, context, id, 'chain')
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
    """Checks before Cinder's backup delete, restore and create."""

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
