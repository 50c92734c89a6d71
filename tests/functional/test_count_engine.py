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

"""The count's own connections on a SQLite file, MariaDB and PostgreSQL.

Cinder's engine is the one oslo.db builds from ``[database] connection``,
as in Cinder; the count engine must find the same rows through it, in one
round trip, and survive a connection the server has dropped.
"""

import os
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
import testtools

from cinder_backup_ext import compat
from cinder_backup_ext.db import count_engine
from cinder_backup_ext.db import dependents
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import tables
from cinder_backup_ext import opts
from tests.functional import databases
from tools import testbed


class _CountEngineTests(object):
    """Mixin: ``self.engine`` is Cinder's engine on a database with rows."""

    def setUp(self):
        super().setUp()
        self.engine = self.cinder_engine()
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        opts.register_opts(cfg.CONF)
        self.patch_cinder_engine(self.engine)
        rows, self.children = testbed.chain_rows(400, seed=7)
        testbed.insert(self.engine, rows)
        migration.upgrade(self.engine)
        self.parents = sorted(self.children)[:60]

    def cinder_engine(self):
        return self.engine  # CinderSchemaTestCase's

    def patch_cinder_engine(self, engine):
        self.useFixture(fixtures.MockPatchObject(
            compat, 'get_engine', return_value=engine))
        self.addCleanup(self._forget)

    @staticmethod
    def _forget():
        state = count_engine._state
        if state['engine'] not in (None, state['source']):
            state['engine'].dispose()
        state.update(source=None, engine=None)

    def expected(self, ids):
        return {i: self.children[i] for i in ids if i in self.children}

    def test_same_counts_as_cinders_engine(self):
        counts = count_engine.engine()
        self.assertIsNot(self.engine, counts)
        self.assertEqual(self.engine.url, counts.url)
        for ids in (self.parents[:1], self.parents, self.parents + ['x']):
            self.assertEqual(self.expected(ids),
                             dependents.count_children(ids))
            with self.engine.connect() as conn:
                self.assertEqual(self.expected(ids), dict(conn.execute(
                    dependents.statement(ids, conn.dialect.name)).all()))

    def test_one_round_trip(self):
        counts = count_engine.engine()
        dependents.count_children(self.parents)  # opens the connection
        rollbacks = self.rollbacks(counts)
        sent = []
        sa.event.listen(counts, 'before_cursor_execute',
                        lambda *args: sent.append(args[2]))
        with mock.patch.object(counts.dialect, 'do_ping') as ping:
            for ids in (self.parents[:1], self.parents) * 5:
                dependents.count_children(ids)
        self.assertEqual(10, len(sent))
        ping.assert_not_called()
        self.assertEqual(1, counts.pool.checkedin())
        if rollbacks is None:
            return  # psycopg2 and sqlite3 send nothing for it in autocommit
        rollbacks = self.rollbacks(counts) - rollbacks
        if count_engine.SENDS_ROLLBACK:  # Cinder 26.3 and 27.0's pins
            self.assertGreaterEqual(rollbacks, 10)
        else:
            self.assertEqual(0, rollbacks)

    @staticmethod
    def rollbacks(counts):
        """ROLLBACKs the server got on the pooled connection (MariaDB)."""
        with counts.connect() as conn:
            if conn.dialect.name != 'mysql':
                return None
            return int(conn.execute(sa.text(
                "SHOW SESSION STATUS LIKE 'Com_rollback'")).one()[1])

    def test_ids_with_quotes_commas_and_braces(self):
        # Not ids Cinder makes, but a page must still count them exactly
        # (PostgreSQL gets the ids as one array literal).
        odd = ['a"b', 'c\\d', 'e,f', '{g}', 'h i']
        rows = [dict(id=i, volume_id='v', parent_id=None, deleted=False,
                     status='available', num_dependent_backups=0)
                for i in odd]
        rows += [dict(row, id='child-%d' % n, parent_id=row['id'])
                 for n, row in enumerate(rows)]
        testbed.insert(self.engine, rows)
        self.assertEqual({i: 1 for i in odd},
                         dependents.count_children(odd))
        self.assertEqual(dict({i: 1 for i in odd[:2]},
                              **self.expected(self.parents)),
                         dependents.count_children(odd[:2] + self.parents))

    def test_sees_a_commit_at_once(self):
        parent = self.parents[0]
        dependents.count_children([parent])
        with self.engine.begin() as conn:
            conn.execute(tables.BACKUPS.update().where(
                tables.BACKUPS.c.parent_id == parent).values(deleted=True))
        self.assertEqual({}, dependents.count_children([parent]))

    def test_pool_size_zero_counts_on_cinders_engine(self):
        self.conf.config(count_pool_size=0, group=opts.GROUP)
        self.assertIs(self.engine, count_engine.engine())
        self.assertEqual(self.expected(self.parents),
                         dependents.count_children(self.parents))

    def test_never_more_connections_than_count_pool_size(self):
        self.conf.config(pool_timeout=1, group='database')
        counts = count_engine.build(self.engine)
        self.addCleanup(counts.dispose)
        held = [counts.connect() for _ in range(2)]  # the default size
        for conn in held:
            self.addCleanup(conn.close)
        # A third waits for one of them instead of opening another.
        self.assertRaises(sa.exc.TimeoutError, counts.connect)
        self.assertEqual(2, counts.pool.checkedout())

    def test_follows_a_new_cinder_engine(self):
        first = count_engine.engine()
        other = engines.create_engine(self.engine.url)
        self.addCleanup(other.dispose)
        self.patch_cinder_engine(other)
        self.assertIsNot(first, count_engine.engine())
        self.assertEqual(first.pool.checkedin(), 0)


@databases.for_each_engine(engines=('mysql', 'postgresql'))
class CountEngineOnServersTests(_CountEngineTests):

    def test_counts_again_on_a_dropped_connection(self):
        counts = count_engine.engine()
        self.assertEqual(self.expected(self.parents),
                         dependents.count_children(self.parents))
        # The server ends the kept connection, as a restart or a proxy's
        # idle timeout would; nothing on the client notices until used.
        with counts.connect() as conn:
            backend = conn.execute(sa.text(
                'SELECT CONNECTION_ID()' if conn.dialect.name == 'mysql'
                else 'SELECT pg_backend_pid()')).scalar()
        with self.engine.connect() as conn:
            conn.execute(sa.text(
                'KILL %d' % backend if conn.dialect.name == 'mysql'
                else 'SELECT pg_terminate_backend(%d)' % backend))
        logged = self.useFixture(fixtures.FakeLogger(
            name='cinder_backup_ext'))
        self.assertEqual(self.expected(self.parents),
                         dependents.count_children(self.parents))
        self.assertIn('counting again on a new one', logged.output)

    def test_an_error_that_is_not_a_lost_connection_is_raised(self):
        statement = sa.text('SELECT no_such_column FROM backups')
        logged = self.useFixture(fixtures.FakeLogger(
            name='cinder_backup_ext'))
        self.assertRaises((db_exc.DBError, sa.exc.DBAPIError),
                          count_engine.execute, statement, {})
        self.assertNotIn('counting again', logged.output)


class CountEngineOnSQLiteFileTests(_CountEngineTests,
                                   testtools.TestCase):
    """SQLite as the demo and small clouds run it: a file."""

    def cinder_engine(self):
        path = self.useFixture(fixtures.TempDir()).path
        engine = engines.create_engine(
            'sqlite:///%s' % os.path.join(path, 'cinder.db'))
        self.addCleanup(engine.dispose)
        compat.db_sync(engine)
        return engine

    def test_a_forked_child_opens_its_own(self):
        dependents.count_children(self.parents)
        self.assertEqual(1, count_engine.engine().pool.checkedin())
        pid = os.fork()
        if pid == 0:  # the child: counts on a connection of its own
            try:
                fresh = count_engine.engine().pool.checkedin() == 0
                counted = dependents.count_children(self.parents)
                os._exit(0 if fresh and counted == self.expected(
                    self.parents) else 1)
            finally:
                os._exit(2)
        _pid, status = os.waitpid(pid, 0)
        self.assertEqual(0, os.waitstatus_to_exitcode(status))
        self.assertEqual(self.expected(self.parents),
                         dependents.count_children(self.parents))

    def test_keeps_its_connection(self):
        counts = count_engine.engine()
        opened = []
        sa.event.listen(counts, 'connect', lambda *args: opened.append(1))
        for _ in range(5):
            dependents.count_children(self.parents)
        self.assertEqual(1, len(opened))


class CountEngineOnSQLiteMemoryTests(testtools.TestCase):

    def test_memory_database_counts_on_cinders_engine(self):
        engine = engines.create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        self.assertIs(engine, count_engine.build(engine))
