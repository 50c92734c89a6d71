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

"""``os-backup-chains``: backup chains as a resource beside Cinder's backups.

Tempest validates Cinder's backup bodies with ``additionalProperties:
false``, so chain data cannot ride in them; it gets its own resource:

- ``GET /v3/{project_id}/os-backup-chains[?volume_id=&limit=&marker=
  &all_tenants=1]``: a page of chain summaries, newest root first;
- ``GET /v3/{project_id}/os-backup-chains/{backup_id}``: the chain holding
  a backup, members in tree order, and the leaf-first ``delete_order`` of
  the subtree under that backup.

The answers come from ``chains.py`` over the rows ``chain_rows.py`` reads,
so they agree with the OpenStackClient plugin and with Cinder's delete
check. A caller sees the members Cinder's ``GET /backups/{id}`` would show
it, and of the others only how many there are (``visibility.py``). Bad
input is a 400 that says what is wrong; a database failure is a 503,
never a traceback.
"""

import collections

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import uuidutils
import sqlalchemy.exc
import webob.exc

from cinder_backup_ext import compat
from cinder_backup_ext.db import chain_rows
from cinder_backup_ext.db import sizes
from cinder_backup_ext import policies
from cinder_backup_ext import visibility
import cinder_backup_ext_chains as chains

LOG = logging.getLogger(__name__)

#: The resource's URL, under /v3/{project_id}.
COLLECTION = 'os-backup-chains'
LIST_PARAMS = frozenset(['volume_id', 'limit', 'marker', 'all_tenants'])
DB_ERRORS = (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError)


def _bad_request(message):
    return webob.exc.HTTPBadRequest(explanation=message)


def _uuid(name, value):
    if not uuidutils.is_uuid_like(value):
        raise _bad_request('%s %r is not a valid UUID.' % (name, value))
    return value


def _limit(value):
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise _bad_request('limit must be a positive integer, got %r.'
                           % value)
    return limit


def _stored(chain, show_bytes):
    """(The chain's stored bytes, how many members have no number).

    The total only when every member's is known: a sum of some would
    pass for the whole.
    """
    if not show_bytes:
        return None, None
    known = [m['stored_bytes'] for m in chain.members
             if m.get('stored_bytes') is not None]
    unknown = len(chain.members) - len(known)
    return (sum(known) if not unknown else None), unknown


def summary(chain, show_bytes=True):
    """The keys a chain has in the list and in show."""
    newest = chain.newest
    stored, unmeasured = _stored(chain, show_bytes)
    return {
        'id': chain.root['id'],
        'volume_id': chain.root['volume_id'],
        'project_id': chain.root['project_id'],
        'is_orphan': chain.is_orphan,
        'parent_hidden': chain.parent_hidden,
        'hidden_backup_count': chain.hidden_count,
        'backup_count': len(chain.members),
        'depth': chain.depth,
        'size': sum(member['size'] or 0 for member in chain.members),
        'created_at': chain.root['created_at'],
        'newest_backup_id': newest['id'],
        'newest_created_at': newest['created_at'],
        'statuses': dict(collections.Counter(
            member['status'] for member in chain.members)),
        'stored_bytes': stored,
        'unmeasured_backup_count': unmeasured,
    }


MEMBER_KEYS = ('id', 'depth', 'status', 'size', 'created_at',
               'is_incremental', 'has_dependent_backups', 'deletable',
               'not_deletable_reason', 'hidden_dependent_count')


def member(row, show_bytes=True):
    body = {key: row[key] for key in MEMBER_KEYS}
    body['name'] = row['display_name']
    # A parent the caller may not see is not named.
    body['parent_id'] = (None if row.get('parent_hidden')
                         else row['parent_id'])
    body['stored_bytes'] = row.get('stored_bytes') if show_bytes else None
    body['stored_bytes_source'] = (row.get('stored_bytes_source')
                                   if show_bytes else None)
    return body


def restore_bytes(row, rows_by_id, caller, known=None):
    """What a restore of ``row`` reads: its bytes and every ancestor's.

    None when one of them is unknown, not a live row, or hidden from the
    caller (another project's size is not told). ``known`` (id -> total)
    carries the answers across the members of one chain, so that a chain
    is walked once, not once per member.
    """
    known = {} if known is None else known
    line, seen = [], set()
    total = 0
    while True:
        if row is None or row['id'] in seen:
            total = None  # a missing parent, or a cycle
            break
        if row['id'] in known:
            total = known[row['id']]
            break
        if row.get('stored_bytes') is None or not caller.sees_row(row):
            total = known[row['id']] = None
            break
        line.append(row)
        seen.add(row['id'])
        if row['parent_id'] is None:
            break
        row = rows_by_id.get(row['parent_id'])
    # Down from the oldest ancestor read: each total is its parent's plus
    # its own bytes, or None all the way down.
    for member in reversed(line):
        if total is not None:
            total += member['stored_bytes']
        known[member['id']] = total
    return total


def restore_problem(row, rows_by_id, caller):
    """Why a restore of ``row`` would be refused or fail now, or None."""
    if row['status'] != 'available':
        return ('Its status is %s; Cinder restores only available '
                'backups.' % row['status'])
    problem = chains.restore_problem(row, rows_by_id, caller.sees_row)
    return problem and problem[0].upper() + problem[1:] + '.'


class BackupChainsController(compat.Controller):

    def show(self, req, id):
        context = req.environ['cinder.context']
        _uuid('backup_id', id)
        caller = visibility.Viewer.of(context)
        rows = self._read(chain_rows.chain_of, context, id)
        chain = chains.find(chains.build(visibility.rows_for(caller, rows)),
                            id)
        if chain is None:
            raise webob.exc.HTTPNotFound(
                explanation='Backup %s could not be found.' % id)
        project_id = next(m['project_id'] for m in chain.members
                          if m['id'] == id)
        if not self._allowed(context, policies.GET_CHAIN, project_id):
            if project_id != context.project_id:
                # As Cinder: another project's backup does not exist.
                raise webob.exc.HTTPNotFound(
                    explanation='Backup %s could not be found.' % id)
            self._forbid(policies.GET_CHAIN)
        show_bytes = self._allowed(context, policies.SHOW_STORED_BYTES,
                                   project_id)
        body = summary(chain, show_bytes)
        body['backups'] = [member(row, show_bytes) for row in chain.members]
        # What a restore of each member reads: every live row of the
        # chain, hidden ones too (unnamed); a parent that is not a live
        # row is missing.
        by_id = {row['id']: row for row in rows}
        restore_totals = {}
        for row in body['backups']:
            problem = restore_problem(by_id[row['id']], by_id, caller)
            row['restorable'] = problem is None
            row['not_restorable_reason'] = problem
            row['restore_bytes'] = (restore_bytes(by_id[row['id']], by_id,
                                                  caller, restore_totals)
                                    if show_bytes else None)
        body['delete_order'] = chain.delete_order(id)
        return {'backup_chain': body}

    def index(self, req):
        context = req.environ['cinder.context']
        params = req.GET
        unknown = sorted(set(params) - LIST_PARAMS)
        if unknown:
            raise _bad_request('Invalid query parameters: %s. Allowed: %s.'
                               % (', '.join(unknown),
                                  ', '.join(sorted(LIST_PARAMS))))
        max_limit = compat.max_limit()
        limit = min(_limit(params.get('limit', max_limit)), max_limit)
        # Any marker that names no visible root, a UUID or not, is the
        # same 400 below: "marker ... not found".
        marker = params.get('marker')
        volume_id = params.get('volume_id')
        if volume_id is not None:
            _uuid('volume_id', volume_id)
        all_tenants = params.get('all_tenants', '0')
        if not strutils.is_valid_boolstr(all_tenants):
            raise _bad_request('all_tenants must be a boolean, got %r.'
                               % all_tenants)
        if not self._allowed(context, policies.GET_ALL_CHAINS,
                             context.project_id):
            self._forbid(policies.GET_ALL_CHAINS)
        caller = visibility.Viewer.of(context)
        project_id = context.project_id
        # As Cinder's backup list: all_tenants needs the rule and a context
        # that sees every project; anyone else gets their own project.
        if (strutils.bool_from_string(all_tenants) and caller.sees_all
                and self._allowed(context, policies.GET_ALL_TENANTS_CHAINS,
                                  context.project_id)):
            project_id = None
        try:
            roots, rows = self._read(
                chain_rows.page_of_chains, context, limit,
                project_id=project_id, volume_id=volume_id, marker=marker,
                seen_project=caller.seen_project)
        except chain_rows.MarkerNotFound:
            raise _bad_request('marker %s not found: it must be the id of '
                               'a chain root you can see.' % marker)
        by_root = {chain.root['id']: chain for chain in chains.build(
            visibility.rows_for(caller, rows))}
        # A root deleted between the two reads has no members: it is gone.
        # One check for the page: it holds the caller's project, or every
        # project for a caller the rule for all_tenants allowed.
        show_bytes = self._allowed(context, policies.SHOW_STORED_BYTES,
                                   context.project_id)
        body = {'backup_chains': [summary(by_root[root['id']], show_bytes)
                                  for root in roots
                                  if root['id'] in by_root]}
        if len(roots) == limit:
            body['backup_chains_links'] = [{
                'rel': 'next',
                'href': compat.next_link(req, COLLECTION, limit=limit,
                                         marker=roots[-1]['id'])}]
        return body

    @staticmethod
    def _read(function, context, *args, **kwargs):
        try:
            return function(context, *args, **kwargs)
        except DB_ERRORS:
            LOG.exception('Reading backup chains failed.')
            if chain_rows.sizes_table_exists(context) is False:
                raise webob.exc.HTTPServiceUnavailable(
                    explanation='The backup chains cannot be read: the '
                                'database lacks the table %s. The operator '
                                'must run `cinder-backup-ext-manage db '
                                'sync`.' % sizes.NAME)
            raise webob.exc.HTTPServiceUnavailable(
                explanation='The backup chains could not be read from the '
                            'database; try again later.')

    @staticmethod
    def _allowed(context, action, project_id):
        return compat.authorize(context, policies.list_rules(), action,
                                {'project_id': project_id})

    @staticmethod
    def _forbid(action):
        raise webob.exc.HTTPForbidden(
            explanation="Policy doesn't allow %s to be performed." % action)


class Backup_chains(compat.ExtensionDescriptor):
    """Backup chains: members in tree order, delete order, summaries."""

    name = 'BackupChains'
    alias = 'os-backup-ext-chains'
    updated = '2026-11-25T00:00:00+00:00'

    def get_resources(self):
        return [compat.ResourceExtension(COLLECTION,
                                         BackupChainsController())]
