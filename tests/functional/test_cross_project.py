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

"""Chains that span projects, through Cinder's real API and real contexts.

A database upgraded from an old release can hold an incremental of one
project whose parent belongs to another (a volume transferred between
projects). Such rows are written here as that database has them. The
callers are real: an admin through Cinder's noauth API, and members of
each project through Cinder's keystone pipeline (``base.keystone_api``),
whose contexts are not admin, exactly as behind Keystone.

The rows, on one volume (X: the test's project, P: another)::

    xf (X, full) <- pi (P) <- xi2 (X)
    pf (P, full) <- xi (X)
"""

import datetime
import uuid

from cinder_backup_ext import compat
from cinder_backup_ext.db import tables
from tests.functional import base

T0 = datetime.datetime(2026, 11, 1, 12, 0, 0)
OTHER = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0'
ROWS = [('xf', None, 'X'), ('pi', 'xf', 'P'), ('xi2', 'pi', 'X'),
        ('pf', None, 'P'), ('xi', 'pf', 'X')]


def strings(body):
    """Every key and value of a JSON body, as strings."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(body, list):
        for value in body:
            yield from strings(value)
    else:
        yield str(body)


class TestCrossProjectChains(base.CinderTestCase):

    def setUp(self):
        super().setUp()
        self.projects = {'X': self.api.project_id, 'P': OTHER}
        self.volume_id = str(uuid.uuid4())
        self.ids = {name: str(uuid.uuid4()) for name, _p, _o in ROWS}
        rows = [{'id': self.ids[name],
                 'parent_id': self.ids.get(parent),
                 'volume_id': self.volume_id,
                 'project_id': self.projects[owner],
                 'user_id': 'u', 'status': 'available', 'deleted': False,
                 'size': 1, 'display_name': 'name-%s' % name,
                 'num_dependent_backups': 0,
                 'created_at': T0 + datetime.timedelta(minutes=n)}
                for n, (name, parent, owner) in enumerate(ROWS)]
        with compat.get_engine().begin() as conn:
            conn.execute(tables.BACKUPS.insert(), rows)
        self.member = self.keystone_api(self.projects['X'])
        self.other_reader = self.keystone_api(OTHER, roles=('reader',),
                                              user_id='u-other')

    def get(self, api, path):
        response = api.api_request(path, check_response_status=None)
        self.assertLess(response.status_code, 500, response.text)
        return response.status_code, (response.json() if response.text
                                      else None)

    def chain(self, api, name):
        code, body = self.get(api, '/os-backup-chains/%s' % self.ids[name])
        self.assertEqual(200, code, body)
        return body['backup_chain']

    def assert_never_named(self, bodies, owner):
        """No id, name or project of ``owner``'s backups anywhere."""
        secrets = {self.projects[owner]}
        for name, _parent, row_owner in ROWS:
            if row_owner == owner:
                secrets |= {self.ids[name], 'name-%s' % name}
        for body in bodies:
            leaked = secrets.intersection(strings(body))
            self.assertEqual(set(), leaked, body)

    def test_a_member_sees_only_its_project(self):
        bodies = []
        for name in ('pi', 'pf'):
            code, body = self.get(self.member,
                                  '/os-backup-chains/%s' % self.ids[name])
            self.assertEqual(404, code)
            code, _ = self.get(self.member, '/backups/%s' % self.ids[name])
            self.assertEqual(404, code, 'Cinder itself hides it')
        xf = self.chain(self.member, 'xf')
        self.assertEqual([self.ids['xf']], [m['id'] for m in xf['backups']])
        self.assertEqual((1, False, 1), (xf['hidden_backup_count'],
                                         xf['parent_hidden'],
                                         xf['backup_count']))
        member, = xf['backups']
        self.assertEqual(
            (True, False, 1, 'A backup of another project depends on '
                             'this one.'),
            (member['has_dependent_backups'], member['deletable'],
             member['hidden_dependent_count'],
             member['not_deletable_reason']))
        self.assertEqual([], xf['delete_order'][:-1])
        bodies.append(xf)
        for name in ('xi2', 'xi'):
            chain = self.chain(self.member, name)
            self.assertEqual((self.ids[name], True, False, 1),
                             (chain['id'], chain['parent_hidden'],
                              chain['is_orphan'],
                              chain['hidden_backup_count']))
            only, = chain['backups']
            self.assertEqual((None, True, 1),
                             (only['parent_id'], only['is_incremental'],
                              only['depth'] + 1))
            bodies.append(chain)
        # Every list, with every filter and page.
        code, listed = self.get(self.member, '/os-backup-chains')
        self.assertEqual(
            [self.ids['xi'], self.ids['xi2'], self.ids['xf']],
            [c['id'] for c in listed['backup_chains']])
        bodies.append(listed)
        for query in ('?all_tenants=1', '?volume_id=%s' % self.volume_id):
            code, body = self.get(self.member, '/os-backup-chains' + query)
            self.assertEqual(listed, body, query)
        paged, path = [], '/os-backup-chains?limit=1'
        while path:
            code, page = self.get(self.member, path)
            self.assertEqual(200, code, page)
            bodies.append(page)
            paged += [c['id'] for c in page['backup_chains']]
            links = page.get('backup_chains_links') or [{}]
            path = links[0].get('href', '').split(
                '/%s' % self.projects['X'], 1)[-1] or None
        self.assertEqual([c['id'] for c in listed['backup_chains']], paged)
        for name in ('pi', 'pf'):
            code, body = self.get(
                self.member, '/os-backup-chains?marker=%s' % self.ids[name])
            self.assertEqual(400, code)
        # The flags agree with DELETE: xf cannot go.
        code, shown = self.get(self.member, '/backups/%s' % self.ids['xf'])
        self.assertTrue(shown['backup']['has_dependent_backups'])
        code, detail = self.get(self.member, '/backups/detail')
        bodies += [shown, detail]
        self.assertEqual({self.ids[n] for n in ('xf', 'xi', 'xi2')},
                         {b['id'] for b in detail['backups']})
        self.assert_never_named(bodies, 'P')

    def test_the_other_project_sees_only_its_own(self):
        # pi hangs from X's xf and X's xi2 hangs from it: two hidden.
        pi = self.chain(self.other_reader, 'pi')
        self.assertEqual(([self.ids['pi']], True, 2),
                         ([m['id'] for m in pi['backups']],
                          pi['parent_hidden'], pi['hidden_backup_count']))
        code, listed = self.get(self.other_reader, '/os-backup-chains')
        self.assertEqual([self.ids['pf'], self.ids['pi']],
                         [c['id'] for c in listed['backup_chains']])
        self.assert_never_named([pi, listed], 'X')

    def test_an_admin_sees_whole_chains(self):
        whole = self.chain(self.api, 'xi2')
        self.assertEqual([self.ids[n] for n in ('xf', 'pi', 'xi2')],
                         [m['id'] for m in whole['backups']])
        self.assertEqual((0, False), (whole['hidden_backup_count'],
                                      whole['parent_hidden']))
        self.assertEqual([None, self.ids['xf'], self.ids['pi']],
                         [m['parent_id'] for m in whole['backups']])
        code, listed = self.get(self.api, '/os-backup-chains?all_tenants=1')
        self.assertEqual([self.ids['pf'], self.ids['xf']],
                         [c['id'] for c in listed['backup_chains']])


class TestCrossProjectDelete(base.CinderTestCase):
    """The delete Cinder would accept, and that would orphan P's backup."""

    def setUp(self):
        super().setUp()
        volume, (self.full,) = self.create_chain(length=1)
        self.child = str(uuid.uuid4())
        with compat.get_engine().begin() as conn:
            conn.execute(tables.BACKUPS.insert(), [{
                'id': self.child, 'parent_id': self.full['id'],
                'volume_id': volume['id'], 'project_id': OTHER,
                'user_id': 'u', 'status': 'available', 'deleted': False,
                'size': 1, 'display_name': 'theirs',
                'num_dependent_backups': 0, 'created_at': T0}])
        self.member = self.keystone_api(self.api.project_id)

    def delete(self, api):
        return api.api_request('/backups/%s' % self.full['id'],
                               method='DELETE', check_response_status=None)

    def test_refused_until_the_dependent_is_gone(self):
        for api in (self.member, self.api):
            response = self.delete(api)
            self.assertEqual(400, response.status_code, response.text)
            self.assertIn('Incremental backups exist for this backup.',
                          response.text)
        self.assertEqual('available', self.get_backup(self.full['id'])[
            'status'])
        # P deletes its incremental (its row goes as Cinder's delete
        # leaves it); now X's delete goes through, as in stock Cinder.
        self.set_backup_columns(self.child, deleted=True,
                                status='deleted')
        response = self.delete(self.member)
        self.assertEqual(202, response.status_code, response.text)
        self.wait_deleted(self.full['id'])

    def test_cinder_keeps_its_own_answers(self):
        # A dependent Cinder sees itself: Cinder's own refusal.
        self.set_backup_columns(self.child, project_id=self.api.project_id)
        response = self.delete(self.member)
        self.assertEqual(400, response.status_code)
        self.assertIn('Incremental backups exist', response.text)
        self.set_backup_columns(self.child, project_id=OTHER)
        # A status Cinder refuses first: its message, not ours.
        self.set_backup_columns(self.full['id'], status='creating')
        response = self.delete(self.member)
        self.assertEqual(400, response.status_code)
        self.assertIn('Backup status must be available or error',
                      response.text)
        # Another project's member: Cinder's 404.
        stranger = self.keystone_api('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0')
        response = stranger.api_request(
            '/backups/%s' % self.full['id'], method='DELETE',
            check_response_status=None)
        self.assertEqual(404, response.status_code)

    def test_stock_cinder_orphans_the_other_projects_backup(self):
        # Why the guard exists: stock Cinder counts only the caller's
        # project and accepts the delete.
        response = self.stock_api().api_request(
            '/backups/%s' % self.full['id'], method='DELETE',
            check_response_status=None)
        self.assertEqual(202, response.status_code, response.text)
        self.wait_deleted(self.full['id'])
