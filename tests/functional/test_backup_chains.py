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

"""os-backup-chains through Cinder's real API, services and schema.

Chains Cinder must act on (deletes) are made through the HTTP API; shapes
the API cannot make (branches, orphans, cycles, 200 levels, another
project) are written as rows. Cinder's functional API authenticates every
caller as an admin (noauth); a project member is played by policy
overrides over HTTP, and the default rules are checked with real member
contexts at the end.
"""

import datetime
import urllib.parse
import uuid

from cinder import context as cinder_context
from sqlalchemy import event

from cinder_backup_ext import compat
from cinder_backup_ext.db import chain_rows
from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables
from cinder_backup_ext import policies
from tests.functional import base
from tests.functional import databases

T0 = datetime.datetime(2026, 11, 1, 12, 0, 0)
OTHER_PROJECT = 'f0c1f0c1f0c1f0c1f0c1f0c1f0c1f0c1'


def _is_chain_sql(statement):
    return 'chain_' in statement or 'parent.deleted' in statement


def _reads_backups(statement):
    # Every statement of the request that reads Cinder's backups table.
    return 'backups' in statement


class ChainTestMixin(object):

    def chains(self, query='', api=None, **kwargs):
        api = api or self.api
        return api.api_get('/os-backup-chains' + query, **kwargs)

    def chain(self, backup_id, api=None):
        api = api or self.api
        return api.api_get('/os-backup-chains/%s' % backup_id)['backup_chain']

    def status_of(self, path):
        response = self.api.api_request(path, check_response_status=None)
        return response.status_code, response.text

    def insert_chain(self, parents, project_id=None, volume_id=None,
                     start=0, **columns):
        """Rows: ``parents`` maps each new name to its parent's name.

        Names are made into UUIDs; each row is a minute newer than the one
        before, from T0 + ``start`` minutes. Returns {name: id}.
        """
        project_id = project_id or self.api.project_id
        volume_id = volume_id or str(uuid.uuid4())
        ids = {}
        rows = []
        for n, (name, parent) in enumerate(parents):
            ids[name] = str(uuid.uuid4())
            row = {'id': ids[name],
                   'parent_id': ids.get(parent, parent),
                   'volume_id': volume_id, 'project_id': project_id,
                   'user_id': 'u', 'status': 'available', 'deleted': False,
                   'size': 1, 'display_name': name,
                   'num_dependent_backups': 0,
                   'created_at': T0 + datetime.timedelta(minutes=start + n)}
            row.update(columns)
            rows.append(row)
        with compat.get_engine().begin() as conn:
            conn.execute(tables.BACKUPS.insert(), rows)
        return ids


class TestBackupChains(ChainTestMixin, base.CinderTestCase):

    def setUp(self):
        super().setUp()
        self.volume, (self.full, self.child, self.grandchild) = (
            self.create_chain())
        self.ids = [self.full['id'], self.child['id'],
                    self.grandchild['id']]

    def test_show_a_real_chain(self):
        for backup_id in self.ids:
            chain = self.chain(backup_id)
            self.assertEqual(self.full['id'], chain['id'])
            self.assertEqual(self.ids, [b['id'] for b in chain['backups']])
            self.assertEqual([0, 1, 2],
                             [b['depth'] for b in chain['backups']])
            self.assertEqual(
                [None, self.full['id'], self.child['id']],
                [b['parent_id'] for b in chain['backups']])
            self.assertEqual(
                [(False, True, False), (True, True, False),
                 (True, False, True)],
                [(b['is_incremental'], b['has_dependent_backups'],
                  b['deletable']) for b in chain['backups']])
            self.assertEqual(self.ids[self.ids.index(backup_id):][::-1],
                             chain['delete_order'])
        self.assertEqual(
            {'id': self.full['id'], 'volume_id': self.volume['id'],
             'project_id': self.api.project_id, 'is_orphan': False,
             'parent_hidden': False, 'hidden_backup_count': 0,
             'backup_count': 3, 'depth': 2, 'size': 3,
             'statuses': {'available': 3},
             'newest_backup_id': self.grandchild['id'],
             # The notifier is not in this cloud: nothing was recorded.
             'stored_bytes': None, 'unmeasured_backup_count': 3},
            {k: v for k, v in chain.items()
             if k not in ('created_at', 'newest_created_at', 'backups',
                          'delete_order')})

    def test_members_read_as_cinder_shows_them(self):
        chain = self.chain(self.child['id'])
        for member in chain['backups']:
            cinder = self.get_backup(member['id'])
            for key in ('id', 'name', 'status', 'size', 'created_at',
                        'is_incremental', 'has_dependent_backups'):
                self.assertEqual(cinder[key], member[key], key)
        self.assertEqual(self.get_backup(self.full['id'])['created_at'],
                         chain['created_at'])
        self.assertEqual(self.get_backup(self.grandchild['id'])[
            'created_at'], chain['newest_created_at'])
        listed, = self.chains()['backup_chains']
        self.assertEqual({k: v for k, v in chain.items()
                          if k not in ('backups', 'delete_order')}, listed)

    def test_deletable_is_cinders_delete_check(self):
        # One member failed, one is still being made: Cinder refuses the
        # creating leaf and every parent above it. Each round tries to
        # delete every member and compares Cinder's answer to deletable.
        extra = self.create_backup(self.volume['id'], incremental=True)
        self.set_backup_columns(extra['id'], status='creating')
        self.set_backup_columns(self.child['id'], status='error')
        for round_ in range(6):
            listed = self.chains()['backup_chains']
            if not listed:
                break
            chain = self.chain(listed[0]['id'])
            accepted = []
            for member in chain['backups']:
                response = self.api.api_request(
                    '/backups/%s' % member['id'], method='DELETE',
                    check_response_status=None)
                self.assertEqual(202 if member['deletable'] else 400,
                                 response.status_code,
                                 (member, response.text))
                if response.status_code == 202:
                    accepted.append(member['id'])
            self.assertEqual(not round_, not accepted)
            for backup_id in accepted:
                self.wait_deleted(backup_id)
            if not round_:  # the creating leaf finishes
                self.set_backup_columns(extra['id'], status='available')
        self.assertEqual(5, round_)
        self.assertEqual([], self.chains()['backup_chains'])

    def test_delete_order_is_accepted_in_order(self):
        order = self.chain(self.full['id'])['delete_order']
        self.assertEqual(self.ids[::-1], order)
        for backup_id in order:
            self.api.api_delete('/backups/%s' % backup_id)
            self.wait_deleted(backup_id)
        self.assertEqual(404, self.status_of(
            '/os-backup-chains/%s' % self.full['id'])[0])

    def test_rows_win_over_a_drifted_counter(self):
        self.set_backup_columns(self.grandchild['id'],
                                num_dependent_backups=4)
        self.set_backup_columns(self.child['id'], num_dependent_backups=0)
        flags = [(b['has_dependent_backups'], b['deletable'])
                 for b in self.chain(self.full['id'])['backups']]
        self.assertEqual([(True, False), (True, False), (False, True)],
                         flags)

    def test_error_members_are_shown_as_they_are(self):
        self.set_backup_columns(self.child['id'], status='error')
        self.set_backup_columns(self.grandchild['id'], status='error',
                                size=None)
        chain = self.chain(self.grandchild['id'])
        self.assertEqual({'available': 1, 'error': 2}, chain['statuses'])
        self.assertEqual(1 + 1, chain['size'])
        self.assertEqual([False, False, True],
                         [b['deletable'] for b in chain['backups']])

    def test_an_orphan_is_its_own_chain(self):
        # The full backup's row is gone (soft-deleted behind Cinder's back):
        # its child is the root of an orphan chain.
        self.set_backup_columns(self.full['id'], deleted=True)
        chain = self.chain(self.grandchild['id'])
        self.assertTrue(chain['is_orphan'])
        self.assertEqual(self.child['id'], chain['id'])
        self.assertEqual(self.full['id'], chain['backups'][0]['parent_id'])
        self.assertEqual([0, 1], [b['depth'] for b in chain['backups']])
        listed, = self.chains()['backup_chains']
        self.assertEqual((self.child['id'], True, 2),
                         (listed['id'], listed['is_orphan'],
                          listed['backup_count']))
        self.assertEqual(404, self.status_of(
            '/os-backup-chains/%s' % self.full['id'])[0])


class TestChainRows(ChainTestMixin, base.CinderTestCase):
    """Chains written as rows: shapes and sizes the API cannot make fast."""

    def test_a_branch_in_tree_order(self):
        ids = self.insert_chain([('full', None), ('a', 'full'), ('b', 'a'),
                                 ('c', 'a'), ('d', 'full')])
        chain = self.chain(ids['a'])
        names = [(b['name'], b['depth']) for b in chain['backups']]
        self.assertEqual([('full', 0), ('a', 1), ('b', 2), ('c', 2),
                          ('d', 1)], names)
        self.assertEqual([ids['c'], ids['b'], ids['a']],
                         chain['delete_order'])
        self.assertEqual(ids['d'], chain['newest_backup_id'])

    def test_statements_on_a_chain_of_200(self):
        names = ['b%d' % n for n in range(200)]
        ids = self.insert_chain(zip(names, [None] + names[:-1]))
        # Another 30 short chains, so the list has a page to fill.
        for n in range(30):
            self.insert_chain([('f', None), ('i', 'f')], start=300 + n)
        counter = self.useFixture(base.StatementCounter(_reads_backups))
        chain = self.chain(ids['b100'])
        self.assertEqual(1, len(counter.statements), counter.statements)
        self.assertEqual(200, chain['backup_count'])
        self.assertEqual(199, chain['depth'])
        self.assertEqual(list(range(200)),
                         [b['depth'] for b in chain['backups']])
        self.assertEqual(100, len(chain['delete_order']))
        del counter.statements[:]
        page = self.chains()['backup_chains']
        self.assertEqual(2, len(counter.statements), counter.statements)
        self.assertEqual(31, len(page))
        self.assertEqual((ids['b0'], 200, 199),
                         (page[-1]['id'], page[-1]['backup_count'],
                          page[-1]['depth']))
        del counter.statements[:]
        self.chains('?limit=5&marker=%s' % page[27]['id'])
        self.assertEqual(3, len(counter.statements), counter.statements)

    def test_the_walk_uses_the_parent_id_index(self):
        statement = chain_rows.chain_statement(str(uuid.uuid4()))
        engine = compat.get_engine()
        with engine.begin() as conn:
            conn.exec_driver_sql(
                'CREATE INDEX IF NOT EXISTS '
                'cinder_backup_ext_backups_parent_id_idx '
                'ON backups (parent_id, deleted)')
            compiled = statement.compile(engine)
            plan = conn.exec_driver_sql(
                'EXPLAIN QUERY PLAN ' + str(compiled),
                tuple(compiled.params[name]
                      for name in compiled.positiontup)).all()
        self.assertIn('cinder_backup_ext_backups_parent_id_idx',
                      ' '.join(str(row) for row in plan))

    def test_a_cycle_is_shown_not_looped(self):
        ids = self.insert_chain([('x', None), ('y', 'x')])
        self.set_backup_columns(ids['x'], parent_id=ids['y'])
        chain = self.chain(ids['y'])
        self.assertEqual(2, chain['backup_count'])
        self.assertEqual(ids['x'], chain['id'])  # the oldest of the cycle

    def test_paging(self):
        roots = []
        for n in range(5):
            ids = self.insert_chain([('f', None), ('i', 'f')], start=10 * n)
            roots.append(ids['f'])
        # Two roots made in the same instant: the id breaks the tie.
        same = self.insert_chain([('f', None)], start=100)['f']
        twin = self.insert_chain([('f', None)], start=100)['f']
        expected = sorted([same, twin], reverse=True) + roots[::-1]
        seen, query, pages = [], '?limit=2', 0
        project_url = '%s/os-backup-chains' % self.api.project_id
        while True:
            # With the project id in the URL, as Keystone catalogs give it.
            body = self.api.api_get(project_url + query)
            pages += 1
            seen += [c['id'] for c in body['backup_chains']]
            if 'backup_chains_links' not in body:
                break
            link, = body['backup_chains_links']
            self.assertEqual('next', link['rel'])
            parsed = urllib.parse.urlsplit(link['href'])
            self.assertEqual('/v3/%s/os-backup-chains'
                             % self.api.project_id, parsed.path)
            params = urllib.parse.parse_qs(parsed.query)
            self.assertEqual({'limit': ['2'], 'marker': [seen[-1]]}, params)
            query = '?' + parsed.query
        self.assertEqual(expected, seen)
        self.assertEqual(4, pages)  # 2 + 2 + 2 + 1
        # No limit: the default page is osapi_max_limit, with the limit
        # in the link.
        self.override_config('osapi_max_limit', 3)
        body = self.chains()
        self.assertEqual(expected[:3],
                         [c['id'] for c in body['backup_chains']])
        self.assertIn('limit=3', body['backup_chains_links'][0]['href'])
        body = self.chains('?limit=1000')
        self.assertEqual(3, len(body['backup_chains']))

    def test_volume_filter(self):
        volume_id = str(uuid.uuid4())
        mine = self.insert_chain([('f', None), ('i', 'f')],
                                 volume_id=volume_id)
        self.insert_chain([('f', None)], start=10)
        listed = self.chains('?volume_id=%s' % volume_id)['backup_chains']
        self.assertEqual([mine['f']], [c['id'] for c in listed])
        self.assertEqual(2, len(self.chains()['backup_chains']))
        self.assertEqual([], self.chains('?volume_id=%s' % uuid.uuid4())[
            'backup_chains'])

    def test_all_tenants_for_admins(self):
        mine = self.insert_chain([('f', None)])['f']
        theirs = self.insert_chain([('f', None), ('i', 'f')],
                                   project_id=OTHER_PROJECT, start=5)['f']
        own = [c['id'] for c in self.chains()['backup_chains']]
        self.assertEqual([mine], own)
        every = self.chains('?all_tenants=1')['backup_chains']
        self.assertEqual([(theirs, OTHER_PROJECT),
                          (mine, self.api.project_id)],
                         [(c['id'], c['project_id']) for c in every])
        self.assertEqual(own, [c['id'] for c in self.chains(
            '?all_tenants=0')['backup_chains']])
        # An admin may page with another project's root as marker.
        self.assertEqual([mine], [c['id'] for c in self.chains(
            '?all_tenants=1&marker=%s' % theirs)['backup_chains']])

    def test_bad_requests(self):
        ids = self.insert_chain([('f', None), ('i', 'f')])
        theirs = self.insert_chain([('f', None)],
                                   project_id=OTHER_PROJECT)['f']
        gone = self.insert_chain([('f', None)], deleted=True)['f']
        for path, message in (
                ('/os-backup-chains/not-a-uuid', 'not a valid UUID'),
                ('/os-backup-chains?limit=0', 'positive integer'),
                ('/os-backup-chains?limit=-1', 'positive integer'),
                ('/os-backup-chains?limit=abc', 'positive integer'),
                ('/os-backup-chains?marker=nope', 'marker nope not found'),
                ('/os-backup-chains?marker=%s' % ids['i'], 'not found'),
                ('/os-backup-chains?marker=%s' % theirs, 'not found'),
                ('/os-backup-chains?marker=%s' % gone, 'not found'),
                ('/os-backup-chains?volume_id=x', 'not a valid UUID'),
                ('/os-backup-chains?all_tenants=maybe', 'boolean'),
                ('/os-backup-chains?sort=id', 'Invalid query parameters'),
                ('/os-backup-chains?offset=1', 'Invalid query parameters')):
            code, text = self.status_of(path)
            self.assertEqual(400, code, path)
            self.assertIn(message, text, path)
        for backup_id in (str(uuid.uuid4()), gone):
            code, text = self.status_of('/os-backup-chains/%s' % backup_id)
            self.assertEqual(404, code)
            self.assertIn('Backup %s could not be found' % backup_id, text)

    def test_database_failure_is_a_503(self):
        ids = self.insert_chain([('f', None)])

        def fail(conn, cursor, statement, parameters, *args):
            # A real failure of the driver, wrapped as SQLAlchemy and
            # oslo.db wrap any database error.
            if _is_chain_sql(statement):
                statement = 'SELECT * FROM chain_table_gone'
            return statement, parameters

        engine = compat.get_engine()
        event.listen(engine, 'before_cursor_execute', fail, retval=True)
        self.addCleanup(event.remove, engine, 'before_cursor_execute', fail)
        logged = self.useFixture(base.fixtures.FakeLogger(
            name='cinder_backup_ext'))
        for path in ('/os-backup-chains', '/os-backup-chains/%s' % ids['f']):
            code, text = self.status_of(path)
            self.assertEqual(503, code, path)
            self.assertIn('could not be read from the database', text)
            self.assertNotIn('Traceback', text)
        self.assertIn('no such table: chain_table_gone', logged.output)


class TestStoredBytes(ChainTestMixin, base.CinderTestCase):
    """What each member stores, from the plugin's table, in the chains."""

    def record(self, ids, **stored):
        for name, size in stored.items():
            sizes.record(compat.get_engine(), ids[name],
                         sizes.Size(size, 1 if size else 0))

    def members(self, backup_id):
        return {m['name']: (m['stored_bytes'], m['stored_bytes_source'],
                            m['restore_bytes'])
                for m in self.chain(backup_id)['backups']}

    def test_members_totals_and_restores(self):
        ids = self.insert_chain([('f', None), ('a', 'f'), ('b', 'a'),
                                 ('c', 'f')])
        self.record(ids, f=1000, a=30, b=0, c=7)
        self.assertEqual({'f': (1000, 'progress', 1000),
                          'a': (30, 'progress', 1030),
                          'b': (0, 'progress', 1030),
                          'c': (7, 'progress', 1007)},
                         self.members(ids['b']))
        chain = self.chain(ids['f'])
        self.assertEqual((1037, 0), (chain['stored_bytes'],
                                     chain['unmeasured_backup_count']))
        [summary] = self.chains('?volume_id=%s' % chain['volume_id'])[
            'backup_chains']
        self.assertEqual((1037, 0), (summary['stored_bytes'],
                                     summary['unmeasured_backup_count']))

    def test_unknown_is_null_never_zero(self):
        ids = self.insert_chain([('f', None), ('a', 'f'), ('b', 'a')])
        self.record(ids, f=1000, b=5)
        self.assertEqual({'f': (1000, 'progress', 1000),
                          'a': (None, None, None),
                          'b': (5, 'progress', None)},
                         self.members(ids['f']))
        chain = self.chain(ids['f'])
        self.assertEqual((None, 1), (chain['stored_bytes'],
                                     chain['unmeasured_backup_count']))

    def test_the_same_statements_with_and_without_numbers(self):
        ids = self.insert_chain([('f', None), ('a', 'f')])
        seen = self.useFixture(base.StatementCounter(_reads_backups))
        self.chain(ids['a'])
        unknown = list(seen.statements)
        self.record(ids, f=1, a=2)
        del seen.statements[:]
        self.assertEqual(3, self.chain(ids['a'])['stored_bytes'])
        self.assertEqual(unknown, seen.statements)

    def test_without_the_table_a_503_says_what_to_do(self):
        ids = self.insert_chain([('f', None)])
        sizes.TABLE.drop(compat.get_engine())
        self.useFixture(base.fixtures.FakeLogger(name='cinder_backup_ext'))
        code, text = self.status_of('/os-backup-chains/%s' % ids['f'])
        self.assertEqual(503, code)
        self.assertIn('cinder-backup-ext-manage db sync', text)


class TestStoredBytesDenied(ChainTestMixin, base.CinderTestCase):

    policy_rules = {policies.SHOW_STORED_BYTES: '!'}

    def test_null_when_the_rule_denies(self):
        ids = self.insert_chain([('f', None)])
        sizes.record(compat.get_engine(), ids['f'], sizes.Size(10, 1))
        chain = self.chain(ids['f'])
        self.assertEqual([(None, None, None)], [
            (m['stored_bytes'], m['stored_bytes_source'], m['restore_bytes'])
            for m in chain['backups']])
        self.assertEqual((None, None), (chain['stored_bytes'],
                                        chain['unmeasured_backup_count']))


class TestAsProjectMember(ChainTestMixin, base.CinderTestCase):
    """A plain member of its project, as the default rules treat one.

    Cinder's noauth API makes every caller an admin; these rules take the
    admin's extra rights away.
    """

    policy_rules = {
        policies.GET_CHAIN: 'project_id:%(project_id)s',
        policies.GET_ALL_CHAINS: 'project_id:%(project_id)s',
        policies.GET_ALL_TENANTS_CHAINS: 'role:nobody',
    }

    def test_other_projects_are_invisible(self):
        mine = self.insert_chain([('f', None)])['f']
        theirs = self.insert_chain([('f', None), ('i', 'f')],
                                   project_id=OTHER_PROJECT)
        for backup_id in theirs.values():
            code, text = self.status_of('/os-backup-chains/%s' % backup_id)
            self.assertEqual(404, code)
            self.assertIn('Backup %s could not be found' % backup_id, text)
        self.assertEqual(mine, self.chain(mine)['id'])
        # all_tenants is ignored, as Cinder's backup list ignores it.
        self.assertEqual([mine], [c['id'] for c in self.chains(
            '?all_tenants=1')['backup_chains']])
        code, text = self.status_of('/os-backup-chains?all_tenants=1'
                                    '&marker=%s' % theirs['f'])
        self.assertEqual(400, code)


class TestDenyingPolicy(ChainTestMixin, base.CinderTestCase):

    policy_rules = {policies.GET_CHAIN: '!', policies.GET_ALL_CHAINS: '!'}

    def test_forbidden(self):
        mine = self.insert_chain([('f', None)])['f']
        for path in ('/os-backup-chains', '/os-backup-chains/%s' % mine):
            code, text = self.status_of(path)
            self.assertEqual(403, code, path)
            self.assertIn('cinder_backup_ext:backup_chain:get', text)


class TestDefaultRules(base.ConfiguredCinder):
    """The rules in code, with real member, reader and admin contexts."""

    def allowed(self, action, roles, project='p1', target='p1'):
        ctxt = cinder_context.RequestContext('u1', project, roles=roles)
        return bool(compat.authorize(ctxt, policies.list_rules(), action,
                                     {'project_id': target}))

    def test_readers_see_their_projects_chains(self):
        for action in (policies.GET_CHAIN, policies.GET_ALL_CHAINS):
            for roles in (['reader'], ['member', 'reader'], ['admin']):
                self.assertTrue(self.allowed(action, roles), roles)
            self.assertFalse(self.allowed(action, ['member', 'reader'],
                                          target='p2'))
            self.assertFalse(self.allowed(action, []))

    def test_all_tenants_is_for_admins(self):
        action = policies.GET_ALL_TENANTS_CHAINS
        self.assertTrue(self.allowed(action, ['admin', 'member', 'reader']))
        self.assertFalse(self.allowed(action, ['member', 'reader']))
        self.assertFalse(self.allowed(action, ['reader']))


@databases.for_each_engine
class TestChainSQL(object):
    """The statements on SQLite, MariaDB and PostgreSQL, SQLAlchemy 1.4/2."""

    def setUp(self):
        super().setUp()
        sizes.TABLE.create(self.engine)

    def insert(self, rows):
        with self.engine.begin() as conn:
            conn.execute(tables.BACKUPS.insert(), [
                dict({'deleted': False, 'status': 'available',
                      'project_id': 'p1', 'volume_id': 'v1', 'size': 1,
                      'num_dependent_backups': 0}, id=id_, parent_id=parent,
                     created_at=T0 + datetime.timedelta(minutes=n), **extra)
                for n, (id_, parent, extra) in enumerate(rows)])

    def ids(self, statement):
        with self.engine.connect() as conn:
            return sorted(row.id for row in conn.execute(statement))

    def test_statements(self):
        self.insert([
            ('full', None, {}), ('a', 'full', {}), ('b', 'a', {}),
            ('c', 'a', {'status': 'error'}),
            ('gone', 'full', {'deleted': True}),
            ('under-gone', 'gone', {}), ('full2', None, {'volume_id': 'v2'}),
            ('x', 'y', {}), ('y', 'x', {}),
            ('theirs', None, {'project_id': 'p2'})])
        whole = ['a', 'b', 'c', 'full']
        for backup_id in whole:
            self.assertEqual(whole, self.ids(
                chain_rows.chain_statement(backup_id)))
        self.assertEqual(['under-gone'], self.ids(
            chain_rows.chain_statement('under-gone')))
        self.assertEqual([], self.ids(chain_rows.chain_statement('gone')))
        self.assertEqual(['x', 'y'], self.ids(
            chain_rows.chain_statement('x')))
        with self.engine.connect() as conn:
            roots = [row.id for row in conn.execute(
                chain_rows.roots_statement(10, 'p1'))]
            self.assertEqual(['full2', 'under-gone', 'full'], roots)
            self.assertEqual(['under-gone'], [row.id for row in conn.execute(
                chain_rows.roots_statement(1, 'p1', after=(
                    T0 + datetime.timedelta(minutes=6), 'full2')))])
            self.assertEqual(['full'], [row.id for row in conn.execute(
                chain_rows.roots_statement(10, 'p1', volume_id='v1', after=(
                    T0 + datetime.timedelta(minutes=5), 'under-gone')))])
            self.assertEqual(4, len(conn.execute(
                chain_rows.roots_statement(10)).all()))
            self.assertIsNotNone(conn.execute(
                chain_rows.marker_statement('under-gone', 'p1')).first())
            for marker, project in (('a', 'p1'), ('theirs', 'p1'),
                                    ('gone', None)):
                self.assertIsNone(conn.execute(
                    chain_rows.marker_statement(marker, project)).first())
        self.assertEqual(whole + ['full2', 'under-gone'], self.ids(
            chain_rows.members_statement(['full', 'full2', 'under-gone'])))

    def test_a_deep_chain(self):
        # Deeper than MariaDB's and MySQL's default recursion limit (1000).
        names = ['n%04d' % n for n in range(1100)]
        self.insert([(name, parent, {})
                     for name, parent in zip(names, [None] + names[:-1])])
        with self.engine.connect() as conn:
            self.assertEqual(names, sorted(
                row['id'] for row in chain_rows.read_chain(conn, 'n0550')))
            chain_rows.unbounded_recursion(conn)
            self.assertEqual(names, sorted(row.id for row in conn.execute(
                chain_rows.members_statement(['n0000']))))
