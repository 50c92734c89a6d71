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

"""Building the index on a live table: writers must not fail or stall.

Cinder keeps writing backup rows while an operator runs ``db sync``; on
MariaDB and PostgreSQL the build must let those inserts through.
"""

import threading
import time
import uuid

from oslo_db import exception as db_exc
import sqlalchemy as sa
from testtools import content

from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext.db import tables
from tests.functional import databases
from tools import testbed

ROWS = 200000


@databases.for_each_engine(engines=('mysql', 'postgresql'))
class OnlineBuildTests(object):

    def _time_the_build_statement(self):
        window = []

        def build(statement):
            return (statement.startswith('CREATE INDEX')
                    or statement.startswith('ALTER TABLE')
                    and 'ADD INDEX' in statement)

        def before(conn, cursor, statement, *args):
            if build(statement):
                window.append(time.monotonic())

        def after(conn, cursor, statement, *args):
            if build(statement):
                window.append(time.monotonic())

        sa.event.listen(self.engine, 'before_cursor_execute', before)
        sa.event.listen(self.engine, 'after_cursor_execute', after)
        self.addCleanup(sa.event.remove, self.engine,
                        'before_cursor_execute', before)
        self.addCleanup(sa.event.remove, self.engine,
                        'after_cursor_execute', after)
        return window

    def test_inserts_go_on_during_the_build(self):
        testbed.fill(self.engine, ROWS)
        window = self._time_the_build_statement()
        writer = testbed.Writer(self.engine)
        writer.start()
        time.sleep(0.5)  # the writer's steady state, before the build
        migration.upgrade(self.engine)
        writer.stop.set()
        writer.join()
        self.assertEqual(2, len(window), 'the build statement was not seen')
        first, last = window
        # Inserts that began after the build statement began and ended
        # before it ended: a build that blocks writes lets none through
        # (each one started during it waits for its end); the time a stall
        # costs is reported, not asserted, since on a busy machine a stall
        # without any lock behind it can be as long as a short build.
        inside = sum(1 for start, end in writer.spans
                     if first <= start and end <= last)
        worst = max(writer.latencies)
        report = ('%s: index on %d rows built in %.2fs; %d inserts began '
                  'and ended during the build, worst insert %.1f ms, '
                  '%d failed' % (self.engine.dialect.name, ROWS, last - first,
                                 inside, worst * 1000,
                                 len(writer.errors)))
        print(report)
        self.addDetail('online build', content.text_content(report))
        self.assertEqual([], writer.errors)
        self.assertGreaterEqual(inside, 5, report)
        with self.engine.connect() as conn:
            self.assertEqual(parent_index.NAME, parent_index.find(conn))


@databases.for_each_engine(engines=('postgresql',))
class ConcurrentBuildTests(object):
    """The lock PostgreSQL's build holds, shown without a stopwatch.

    A build that waits for an open transaction is in progress for as long
    as that transaction lasts. ``CREATE INDEX CONCURRENTLY`` waits holding
    a lock that inserts pass; a plain ``CREATE INDEX`` queues for a lock
    that every insert then queues behind, so the insert below would run
    into its ``lock_timeout``.
    """

    def _build_waiting(self):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() "
                "AND query LIKE 'CREATE INDEX%' AND state = 'active' "
                "AND wait_event_type = 'Lock'")).scalar()

    def test_inserts_pass_a_build_in_progress(self):
        testbed.fill(self.engine, 1000)
        holder = self.engine.connect()
        self.addCleanup(holder.close)
        open_transaction = holder.begin()
        holder.execute(tables.BACKUPS.insert().values(
            id=str(uuid.uuid4()), volume_id=str(uuid.uuid4()),
            deleted=False, status='creating'))
        errors = []

        def build():
            try:
                migration.upgrade(self.engine)
            except Exception as exc:
                errors.append(exc)

        builder = threading.Thread(target=build, daemon=True)
        builder.start()
        deadline = time.monotonic() + 60
        while not self._build_waiting():
            self.assertTrue(builder.is_alive(), errors)
            self.assertLess(time.monotonic(), deadline,
                            'the build never waited for the open '
                            'transaction')
            time.sleep(0.05)
        with self.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(tables.BACKUPS.insert().values(
                id=str(uuid.uuid4()), volume_id=str(uuid.uuid4()),
                deleted=False, status='creating'))
        self.assertTrue(builder.is_alive())
        with self.engine.connect() as conn:
            self.assertIsNone(parent_index.find(conn))  # still building
        open_transaction.commit()
        builder.join(60)
        self.assertFalse(builder.is_alive())
        self.assertEqual([], errors)
        with self.engine.connect() as conn:
            self.assertEqual(parent_index.NAME, parent_index.find(conn))
            self.assertEqual(1002, conn.execute(sa.text(
                'SELECT count(*) FROM backups')).scalar())


@databases.for_each_engine(engines=('postgresql',))
class InterruptedBuildTests(object):

    def test_invalid_index_is_rebuilt(self):
        testbed.fill(self.engine, 20000)
        # A concurrent build that fails half-way leaves an INVALID index
        # under our name; here the failure is a division by zero.
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level='AUTOCOMMIT')
            self.assertRaises(
                db_exc.DBError, conn.execute, sa.text(
                    'CREATE INDEX CONCURRENTLY %s ON backups '
                    '((1 / (length(id) - 32)))' % parent_index.NAME))
            self.assertTrue(parent_index.exists(conn))
            self.assertFalse(parent_index.is_valid(conn))
            self.assertIsNone(parent_index.find(conn))
        migration.upgrade(self.engine)
        with self.engine.connect() as conn:
            self.assertTrue(parent_index.is_valid(conn))
            self.assertEqual(parent_index.NAME, parent_index.find(conn))
            columns = [i['column_names'] for i in sa.inspect(conn)
                       .get_indexes('backups')
                       if i['name'] == parent_index.NAME]
        self.assertEqual([list(parent_index.COLUMNS)], columns)
