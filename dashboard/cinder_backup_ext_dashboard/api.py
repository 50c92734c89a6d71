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


"""Cinder calls of the plugin, through Horizon's own cinderclient.

Horizon's ``api.cinder`` asks for backups at microversion 3.18 (show) and
3.45 (the paged list); Cinder's backup view carries ``is_incremental`` and
``has_dependent_backups`` at every microversion, and cinderclient keeps them
in the resource's raw body, so the flags need no call of their own. The
chain (parent, children, how many depend on a backup, the tree) comes from
the ``os-backup-chains`` resource, read with the same client, token and
TLS settings as every other Horizon call.
"""

import logging
from urllib import parse

from cinderclient import exceptions as cinder_exceptions

from cinder_backup_ext_chains import deleter as chains_deleter
from cinder_backup_ext_dashboard import chain_info
from cinder_backup_ext_dashboard import horizon_compat

LOG = logging.getLogger(__name__)

CHAINS = '/os-backup-chains/%s'


def get_chain(request, backup_id):
    """The chain that holds ``backup_id``, or None when it can't be read.

    None when this cloud has no ``os-backup-chains`` resource (404, the API
    extension is not enabled), when the policy denies it (403), or on any
    other error: the pages then show what the flags alone tell.
    """
    client = horizon_compat.cinder.cinderclient(request)
    try:
        _resp, body = client.client.get(
            CHAINS % parse.quote(backup_id, safe=''))
        return chain_info.ChainBody(body['backup_chain'])
    except (cinder_exceptions.NotFound, cinder_exceptions.Forbidden) as exc:
        LOG.info('No backup chain for %s: %s', backup_id, exc)
    except Exception:
        LOG.exception('Reading the backup chain of %s failed', backup_id)
    return None


def annotate(request, backups, chains_for_all=False):
    """Set ``backup.cbe`` (a chain_info.Info) on each backup; return them.

    Each backup's chain is read, one GET per chain (its members share
    it): the Stored column needs it for every row. With
    ``chains_for_all``, one GET per backup (the detail page).
    """
    infos = []
    for backup in backups:
        info = chain_info.from_backup(backup)
        backup.cbe = info
        infos.append(info)
    if chains_for_all:
        for info in infos:
            info.chain = get_chain(request, info.id)
    else:
        chain_info.attach_chains(
            infos, lambda backup_id: get_chain(request, backup_id))
    return backups


def deleter(request, delete, timeout):
    """The shared leaf-first Deleter, through Horizon's cinderclient.

    ``delete(backup_id)`` is Horizon's own (the table action's).
    """
    def delete_one(backup_id):
        try:
            delete(backup_id)
        except cinder_exceptions.NotFound:
            raise chains_deleter.Gone(backup_id)

    def get(backup_id):
        try:
            backup = horizon_compat.cinder.volume_backup_get(request,
                                                             backup_id)
        except cinder_exceptions.NotFound:
            return None
        return {'status': backup.status,
                'fail_reason': getattr(backup, 'fail_reason', None)}
    return chains_deleter.Deleter(delete_one, get, timeout=timeout)


def info_of(backup):
    """The Info ``annotate`` set, or one from the flags alone."""
    try:
        info = backup.cbe
    except AttributeError:
        info = None
    return info if info is not None else chain_info.from_backup(backup)
