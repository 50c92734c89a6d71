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


"""A Cinder that answers over requests-mock, and a way to run commands.

The commands get our real client over openstacksdk's real block-storage
proxy (as in OSC), so URL joining and paging are tested; only the network
is fake. The fake keeps Cinder's rule that matters here: a backup with a
live child, or in a state other than available/error, is not deleted.
Backups and volumes are found by name as openstacksdk finds them: a GET by
ID, then the list filtered by name.
"""

import argparse
import datetime
import io
import re
from unittest import mock

import fixtures
import openstack
import requests_mock
from requests_mock.contrib import fixture as rm_fixture

import cinder_backup_ext_chains as chains
from cinder_backup_ext_client import client

PROJECT = '6f1ca1c0f4b24a1d9b2d8c5e7a3b0c11'
ENDPOINT = 'http://cinder.example:8776/v3/%s' % PROJECT
VOLUME = 'vol-1'
VOLUMES = {VOLUME: 'volume-one', 'vol-2': 'volume-two'}
T0 = datetime.datetime(2026, 11, 1, 10, 0)
REFUSED = 'Invalid backup: Incremental backups exist for this backup.'
#: What a backup wrote unless the test says otherwise (3 MiB).
STORED = 3 * 1024 * 1024


def fault(context, code, name, message):
    context.status_code = code
    return {name: {'message': message, 'code': code}}


class FakeCinder(fixtures.Fixture):
    """Backups of one project, the chain resource and backup DELETE.

    ``polls`` is how many status reads a backup stays ``deleting`` for;
    ids in ``fail`` end in ``error`` instead of disappearing. With
    ``show_bytes`` False the policy hides the stored sizes (all null).
    """

    def __init__(self, extension=True, polls=1, page_size=1000,
                 show_bytes=True):
        super().__init__()
        self.extension = extension
        self.show_bytes = show_bytes
        self.polls = polls
        self.page_size = page_size
        self.rows = {}
        self.fail = set()
        self.calls = []
        self.volumes = dict(VOLUMES)

    def add(self, backup_id, parent=None, status='available', volume=VOLUME,
            created_at=None, stored=STORED):
        """A backup; made a minute after the last unless ``created_at``.

        ``stored``: the bytes it wrote, None when not measured.
        """
        created_at = created_at or (T0 + datetime.timedelta(
            minutes=len(self.rows)))
        self.rows[backup_id] = {
            'id': backup_id, 'name': 'n-' + backup_id, 'parent_id': parent,
            'status': status, 'size': 1, 'volume_id': volume,
            'created_at': created_at.isoformat(), 'stored_bytes': stored}
        return backup_id

    def _setUp(self):
        self.mock = self.useFixture(rm_fixture.Fixture())
        any_url = re.compile(re.escape(ENDPOINT) + '/.*')
        self.mock.register_uri(requests_mock.ANY, any_url,
                               json=self._unrouted)
        base = re.escape(ENDPOINT)
        # Version discovery: openstacksdk reads the microversions first.
        self.mock.get(re.compile(r'http://cinder\.example:8776/(v3/?)?$'),
                      json={'versions': [{
                          'id': 'v3.0', 'status': 'CURRENT',
                          'version': '3.71', 'min_version': '3.0',
                          'links': [{'rel': 'self', 'href':
                                     'http://cinder.example:8776/v3/'}]}]})
        if self.extension:
            self.mock.get(re.compile(base + r'/os-backup-chains(\?.*)?$'),
                          json=self._list)
            self.mock.get(re.compile(base + r'/os-backup-chains/[^/?]+$'),
                          json=self._show)
        self.mock.delete(re.compile(base + r'/backups/[^/?]+$'),
                         json=self._delete)
        self.mock.get(re.compile(base + r'/backups/[^/?]+$'), json=self._get)
        self.mock.get(re.compile(base + r'/backups(/detail)?(\?.*)?$'),
                      json=self._backups)
        self.mock.get(re.compile(base + r'/volumes/[^/?]+$'),
                      json=self._volume)
        self.mock.get(re.compile(base + r'/volumes/detail(\?.*)?$'),
                      json=self._volumes)

    # --- Cinder, as far as these commands see it ---

    def _unrouted(self, request, context):
        return fault(context, 404, 'itemNotFound', 'The resource could not '
                     'be found.')

    def _live(self):
        return list(self.rows.values())

    def _stored(self, backup):
        return backup['stored_bytes'] if self.show_bytes else None

    def _restore_bytes(self, backup):
        """As api/backup_chains.py: it and every ancestor, or None."""
        total = 0
        while backup is not None:
            if self._stored(backup) is None:
                return None
            total += backup['stored_bytes']
            if backup['parent_id'] is None:
                return total
            backup = self.rows.get(backup['parent_id'])
        return None

    def _summary(self, chain):
        stored = [self._stored(m) for m in chain.members]
        unknown = stored.count(None)
        return {'id': chain.root['id'], 'volume_id': chain.root['volume_id'],
                'project_id': PROJECT, 'is_orphan': chain.is_orphan,
                'backup_count': len(chain.members), 'depth': chain.depth,
                'size': len(chain.members), 'created_at':
                chain.root['created_at'], 'newest_backup_id':
                chain.newest['id'], 'newest_created_at':
                chain.newest['created_at'],
                'statuses': {'available': len(chain.members)},
                'parent_hidden': chain.parent_hidden,
                'hidden_backup_count': chain.hidden_count,
                'stored_bytes': None if unknown else sum(stored),
                'unmeasured_backup_count': unknown if self.show_bytes
                else None}

    def _list(self, request, context):
        self.calls.append(('LIST', request.qs))
        volume = request.qs.get('volume_id', [None])[0]
        found = [self._summary(chain) for chain in chains.build(self._live())
                 if volume in (None, chain.root['volume_id'])]
        marker = request.qs.get('marker', [None])[0]
        if marker:
            found = found[[c['id'] for c in found].index(marker) + 1:]
        limit = int(request.qs.get('limit', [self.page_size])[0])
        body = {'backup_chains': found[:limit]}
        if len(found) > limit:
            body['backup_chains_links'] = [{
                'rel': 'next',
                'href': 'http://internal-name:8776/v3/%s/os-backup-chains'
                        '?limit=%d&marker=%s' % (PROJECT, limit,
                                                 found[limit - 1]['id'])}]
        return body

    def _show(self, request, context):
        backup_id = request.path.rsplit('/', 1)[1]
        self.calls.append(('SHOW', backup_id))
        built = chains.build(self._live())
        chain = chains.find(built, backup_id)
        if chain is None:
            return fault(context, 404, 'itemNotFound',
                         'Backup %s could not be found.' % backup_id)
        body = self._summary(chain)
        body['backups'] = [
            {key: member[key] for key in (
                'id', 'name', 'parent_id', 'depth', 'status', 'size',
                'created_at', 'is_incremental', 'has_dependent_backups',
                'deletable', 'not_deletable_reason',
                'hidden_dependent_count')} for member in chain.members]
        # As api/backup_chains.py: a restore reads every ancestor.
        by_id = dict(self.rows)
        for member in body['backups']:
            row = self.rows[member['id']]
            member['stored_bytes'] = self._stored(row)
            member['stored_bytes_source'] = (
                None if member['stored_bytes'] is None else 'progress')
            member['restore_bytes'] = self._restore_bytes(row)
            problem = chains.restore_problem(member, by_id)
            if member['status'] != 'available':
                problem = ('Its status is %s; Cinder restores only '
                           'available backups.' % member['status'])
            elif problem:
                problem = problem[0].upper() + problem[1:] + '.'
            member['restorable'] = problem is None
            member['not_restorable_reason'] = problem
        body['delete_order'] = chain.delete_order(backup_id)
        return {'backup_chain': body}

    def _delete(self, request, context):
        backup_id = request.path.rsplit('/', 1)[1]
        self.calls.append(('DELETE', backup_id))
        row = self.rows.get(backup_id)
        if row is None:
            return fault(context, 404, 'itemNotFound',
                         'Backup %s could not be found.' % backup_id)
        if any(r['parent_id'] == backup_id for r in self.rows.values()):
            return fault(context, 400, 'badRequest', REFUSED)
        if row['status'] not in chains.DELETABLE_STATUSES:
            return fault(context, 400, 'badRequest', 'Invalid backup: '
                         'Backup status must be available or error.')
        row['status'] = 'deleting'
        row['polls'] = self.polls
        context.status_code = 202
        return None

    def _get(self, request, context):
        backup_id = request.path.rsplit('/', 1)[1]
        self.calls.append(('GET', backup_id))
        row = self.rows.get(backup_id)
        if row is not None and row['status'] == 'deleting':
            if row['polls'] == 0:
                if backup_id in self.fail:
                    row['status'] = 'error'
                    row['fail_reason'] = 'backend said no'
                else:
                    del self.rows[backup_id]
                    row = None
            else:
                row['polls'] -= 1
        if row is None:
            return fault(context, 404, 'itemNotFound',
                         'Backup %s could not be found.' % backup_id)
        # Cinder's backup body has no stored size: only the chains do.
        return {'backup': {key: value for key, value in row.items()
                           if key != 'stored_bytes'}}

    def _backups(self, request, context):
        self.calls.append(('BACKUPS', request.qs))
        name = request.qs.get('name', [None])[0]
        volume = request.qs.get('volume_id', [None])[0]
        return {'backups': [
            {'id': row['id'], 'name': row['name']}
            for row in self.rows.values()
            if name in (None, row['name'].lower())
            and volume in (None, row['volume_id'].lower())]}

    def _volume(self, request, context):
        volume_id = request.path.rsplit('/', 1)[1]
        if volume_id == 'detail':
            return self._volumes(request, context)
        self.calls.append(('VOLUME', volume_id))
        if volume_id not in self.volumes:
            return fault(context, 404, 'itemNotFound',
                         'Volume %s could not be found.' % volume_id)
        return {'volume': {'id': volume_id, 'name': self.volumes[volume_id],
                           'status': 'available'}}

    def _volumes(self, request, context):
        # (requests-mock lower-cases the query)
        self.calls.append(('VOLUMES', request.qs))
        name = request.qs.get('name', [None])[0]
        return {'volumes': [{'id': volume_id, 'name': volume_name,
                             'status': 'available'}
                            for volume_id, volume_name in self.volumes.items()
                            if name in (None, volume_name)]}

    def deletes(self):
        return [backup_id for call, backup_id in self.calls
                if call == 'DELETE']


def proxy():
    """openstacksdk's block-storage proxy, as OSC's client manager has it."""
    conn = openstack.connect(
        auth_type='admin_token',
        auth={'endpoint': ENDPOINT, 'token': 'user:' + PROJECT},
        load_yaml_config=False, load_envvars=False)
    return conn.block_storage


class FakeApp(object):
    """What a command reads from OSC's app: stdout and the client."""

    def __init__(self, chains_client, roles=None):
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        # OSC's auth_ref: None for a bare token (no roles known).
        auth_ref = (None if roles is None
                    else argparse.Namespace(role_names=list(roles)))
        self.client_manager = argparse.Namespace(
            volume_backup_chains=chains_client, auth_ref=auth_ref)
        self.options = argparse.Namespace(debug=False)


class Clock(fixtures.Fixture):
    """The deleter's time, faked: sleeping advances it."""

    def __init__(self):
        super().__init__()
        self.now = 0.0
        self.sleeps = []

    def _setUp(self):
        self.useFixture(fixtures.MockPatch(
            'cinder_backup_ext_chains.deleter.time',
            mock.Mock(monotonic=lambda: self.now, sleep=self.sleep)))

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def run(cmd_class, argv, app=None):
    """Parse ``argv`` as OSC would and run the command; the app's stdout."""
    app = app or FakeApp(client.ChainsClient(proxy()))
    cmd = cmd_class(app, None)
    parsed = cmd.get_parser('openstack').parse_args(argv)
    cmd.run(parsed)
    return app.stdout.getvalue()
