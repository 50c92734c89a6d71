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

"""The backup flags, from the rows, in backup show and detail responses.

``is_incremental`` is true when the backup has a parent;
``has_dependent_backups`` is true when a non-deleted backup names it as
parent, in any status: exactly when Cinder refuses to delete it with
"Incremental backups exist for this backup". Both keys already exist in
Cinder's bodies, so this extension only corrects their values, or removes
them where the policy rule ``cinder_backup_ext:backup:show_flags`` denies.

A failure here must never cost the caller the response Cinder built: on any
error the body is left as Cinder made it and the error is logged.
"""

from oslo_log import log as logging

from cinder_backup_ext import compat
from cinder_backup_ext.db import dependents
from cinder_backup_ext import policies

LOG = logging.getLogger(__name__)

FLAGS = ('is_incremental', 'has_dependent_backups')


class BackupFlagsController(compat.Controller):

    @compat.extends
    def show(self, req, resp_obj, id):
        self._decorate(req, [resp_obj.obj['backup']])

    @compat.extends
    def detail(self, req, resp_obj):
        self._decorate(req, resp_obj.obj['backups'])

    def _decorate(self, req, bodies):
        context = req.environ['cinder.context']
        try:
            shown, hidden = self._split_by_policy(context, req, bodies)
        except Exception:
            LOG.exception('Policy check for backup flags failed; '
                          'leaving the response as Cinder built it.')
            return
        for body in hidden:
            for flag in FLAGS:
                body.pop(flag, None)
        if not shown:
            return
        ids = [body['id'] for body, _backup in shown]
        try:
            children = dependents.count_children(ids)
        except Exception:
            LOG.exception('Counting dependent backups of %s failed; '
                          'returning the flags as Cinder built them.', ids)
            return
        for body, backup in shown:
            body['is_incremental'] = backup.parent_id is not None
            body['has_dependent_backups'] = children.get(body['id'], 0) > 0

    @staticmethod
    def _split_by_policy(context, req, bodies):
        """Sort bodies into (shown, hidden) by the rule, once per project.

        A detail page usually holds one project's backups, so the policy
        engine runs once per page, not once per backup.
        """
        allowed = {}
        shown, hidden = [], []
        cached = req.get_db_backups() or {}
        for body in bodies:
            backup = cached.get(body['id'])
            project_id = backup.project_id if backup else context.project_id
            if project_id not in allowed:
                allowed[project_id] = compat.authorize(
                    context, policies.list_rules(), policies.SHOW_FLAGS,
                    {'project_id': project_id})
            if not allowed[project_id]:
                hidden.append(body)
            elif backup is not None:
                shown.append((body, backup))
        return shown, hidden


class Backup_flags(compat.ExtensionDescriptor):
    """Backup flags computed from the backup rows, under a policy rule."""

    name = 'BackupFlags'
    alias = 'os-backup-ext-flags'
    updated = '2026-11-25T00:00:00+00:00'

    def get_resources(self):
        # The resource itself has no actions (its URL answers 404); it is
        # here for the routes hook, the one place that sees the mapper.
        return [compat.ResourceExtension(
            self.alias, compat.Controller(),
            custom_routes_fn=compat.extend_backups(
                BackupFlagsController(), 'compute the backup flags'))]
