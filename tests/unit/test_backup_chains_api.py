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

"""The pure parts of os-backup-chains: bodies and query values."""

import datetime
from unittest import mock
from urllib import parse

from oslotest import base
from stevedore import extension
import webob
import webob.exc

from cinder_backup_ext.api import backup_chains
from cinder_backup_ext.api import loader
from cinder_backup_ext import compat
from cinder_backup_ext import visibility
import cinder_backup_ext_chains as chains

T0 = datetime.datetime(2026, 11, 1)


def _row(name, parent=None, status='available', size=1, minute=0):
    return {'id': name, 'parent_id': parent, 'status': status, 'size': size,
            'display_name': 'backup %s' % name, 'project_id': 'p1',
            'volume_id': 'v1',
            'created_at': T0 + datetime.timedelta(minutes=minute)}


class TestBodies(base.BaseTestCase):

    def test_summary(self):
        chain, = chains.build([
            _row('full'), _row('a', 'full', minute=1),
            _row('b', 'a', status='error', size=None, minute=2),
            _row('c', 'full', status='creating', size=4, minute=3)])
        self.assertEqual({
            'id': 'full', 'volume_id': 'v1', 'project_id': 'p1',
            'is_orphan': False, 'parent_hidden': False,
            'hidden_backup_count': 0, 'backup_count': 4, 'depth': 2,
            'size': 6,
            'created_at': T0, 'newest_backup_id': 'c',
            'newest_created_at': T0 + datetime.timedelta(minutes=3),
            'statuses': {'available': 2, 'error': 1, 'creating': 1},
            'stored_bytes': None, 'unmeasured_backup_count': 4,
        }, backup_chains.summary(chain))

    def test_stored_bytes(self):
        rows = [dict(_row('full'), stored_bytes=100),
                dict(_row('a', 'full', minute=1), stored_bytes=0)]
        chain, = chains.build(rows)
        self.assertEqual((100, 0), self.stored(chain))
        self.assertEqual((None, None), self.stored(chain, False))
        rows.append(_row('b', 'a', minute=2))
        chain, = chains.build(rows)
        self.assertEqual((None, 1), self.stored(chain))

    @staticmethod
    def stored(chain, show=True):
        body = backup_chains.summary(chain, show)
        return body['stored_bytes'], body['unmeasured_backup_count']

    def test_restore_bytes(self):
        rows = {r['id']: r for r in [
            dict(_row('full'), stored_bytes=100, parent_project_id=None),
            dict(_row('a', 'full', minute=1), stored_bytes=7,
                 project_id='p2', parent_project_id='p1'),
            dict(_row('b', 'a', minute=2), stored_bytes=1,
                 parent_project_id='p2'),
            dict(_row('c', 'b', minute=3), stored_bytes=None,
                 parent_project_id='p1')]}
        admin = visibility.Viewer(True, None)
        member = visibility.Viewer(False, 'p1')
        restore = backup_chains.restore_bytes
        self.assertEqual(108, restore(rows['b'], rows, admin))
        self.assertIsNone(restore(rows['c'], rows, admin))
        # Through another project's backup: its size is not told.
        self.assertIsNone(restore(rows['b'], rows, member))
        self.assertEqual(100, restore(rows['full'], rows, member))
        # One walk for a chain: the totals carried across its members.
        known = {}
        self.assertEqual([100, 107, 108, None], [
            restore(rows[i], rows, admin, known)
            for i in ('full', 'a', 'b', 'c')])
        self.assertEqual({'full': 100, 'a': 107, 'b': 108, 'c': None}, known)
        # A parent that is not a live row: nothing to restore from.
        del rows['full']
        self.assertIsNone(restore(rows['a'], rows, admin))

    def test_an_orphan(self):
        chain, = chains.build([_row('a', 'gone'), _row('b', 'a', minute=1)])
        self.assertTrue(backup_chains.summary(chain)['is_orphan'])

    def test_member(self):
        chain, = chains.build([_row('full'), _row('a', 'full', minute=1)])
        self.assertEqual(
            [{'id': 'full', 'name': 'backup full', 'parent_id': None,
              'depth': 0, 'status': 'available', 'size': 1,
              'created_at': T0, 'is_incremental': False,
              'has_dependent_backups': True, 'deletable': False,
              'not_deletable_reason': chains.DEPENDENTS_REASON,
              'hidden_dependent_count': 0, 'stored_bytes': None,
              'stored_bytes_source': None},
             {'id': 'a', 'name': 'backup a', 'parent_id': 'full',
              'depth': 1, 'status': 'available', 'size': 1,
              'created_at': T0 + datetime.timedelta(minutes=1),
              'is_incremental': True, 'has_dependent_backups': False,
              'deletable': True, 'not_deletable_reason': None,
              'hidden_dependent_count': 0, 'stored_bytes': None,
              'stored_bytes_source': None}],
            [backup_chains.member(m) for m in chain.members])

    def test_what_a_member_of_one_project_sees(self):
        # p1 owns full and b; p2's a sits between them and p2's c hangs
        # below b: p1 sees two chains and none of p2's ids or names.
        rows = [_row('full'), dict(_row('a', 'full', minute=1),
                                   project_id='p2', parent_project_id='p1'),
                dict(_row('b', 'a', minute=2), parent_project_id='p2'),
                dict(_row('c', 'b', minute=3), project_id='p2',
                     parent_project_id='p1')]
        for row in rows[:1]:
            row['parent_project_id'] = None
        caller = visibility.Viewer(False, 'p1')
        b_chain, full_chain = chains.build(visibility.rows_for(caller, rows))
        full = backup_chains.summary(full_chain)
        self.assertEqual((1, 1, False), (full['backup_count'],
                                         full['hidden_backup_count'],
                                         full['parent_hidden']))
        b = backup_chains.summary(b_chain)
        self.assertEqual(('b', False, True, 2),
                         (b['id'], b['is_orphan'], b['parent_hidden'],
                          b['hidden_backup_count']))
        b_member, = [backup_chains.member(m) for m in b_chain.members]
        self.assertEqual((None, True, True, False, 1,
                          chains.HIDDEN_DEPENDENTS_REASON),
                         (b_member['parent_id'], b_member['is_incremental'],
                          b_member['has_dependent_backups'],
                          b_member['deletable'],
                          b_member['hidden_dependent_count'],
                          b_member['not_deletable_reason']))
        shown = repr([backup_chains.summary(c) for c in (b_chain, full_chain)]
                     + [backup_chains.member(m) for m in b_chain.members
                        + full_chain.members])
        for name in ('a', 'c'):
            self.assertNotIn("'%s'" % name, shown)
            self.assertNotIn('backup %s' % name, shown)
        self.assertNotIn('p2', shown)
        # Who sees every project sees one chain, every member named.
        everything, = chains.build(
            visibility.rows_for(visibility.Viewer(True, 'p1'), rows))
        self.assertEqual(['full', 'a', 'b', 'c'],
                         [m['id'] for m in everything.members])
        self.assertEqual(0, everything.hidden_count)


class TestQueryValues(base.BaseTestCase):

    def test_limit(self):
        self.assertEqual(1, backup_chains._limit('1'))
        self.assertEqual(1000, backup_chains._limit(1000))
        for bad in ('0', '-1', 'abc', '1.5', ''):
            error = self.assertRaises(webob.exc.HTTPBadRequest,
                                      backup_chains._limit, bad)
            self.assertIn('limit must be a positive integer', str(error))

    def test_uuid(self):
        good = '9d5a7c2e-6f0b-4e4c-8d1a-2b3c4d5e6f70'
        self.assertEqual(good, backup_chains._uuid('backup_id', good))
        error = self.assertRaises(webob.exc.HTTPBadRequest,
                                  backup_chains._uuid, 'volume_id', 'x')
        self.assertIn("volume_id 'x' is not a valid UUID", str(error))


class TestEntryPoint(base.BaseTestCase):

    def test_loaded_by_the_loader(self):
        manager = extension.ExtensionManager(loader.NAMESPACE)
        self.assertIs(backup_chains.Backup_chains,
                      manager['backup_chains'].plugin)


class TestNextLink(base.BaseTestCase):

    def _request(self, query):
        req = webob.Request.blank('/v3/p1/os-backup-chains?' + query)
        req.environ['cinder.context'] = mock.Mock(project_id='p1')
        return req

    def test_replaces_values_and_keeps_the_rest(self):
        req = self._request('limit=5&sort_dir=asc')
        link = compat.next_link(req, backup_chains.COLLECTION, limit=7,
                                marker='m')
        query = parse.parse_qs(parse.urlsplit(link).query)
        self.assertEqual({'limit': ['7'], 'sort_dir': ['asc'],
                          'marker': ['m']}, query)

    def test_leaves_the_request_alone(self):
        # webob caches the parsed query in the environ, which a copy of
        # the request shares: the link must not rewrite the original.
        req = self._request('limit=5&sort_dir=asc')
        self.assertEqual('5', req.GET['limit'])
        compat.next_link(req, backup_chains.COLLECTION, limit=7, marker='m')
        self.assertEqual('limit=5&sort_dir=asc', req.query_string)
        self.assertEqual('5', req.GET['limit'])
