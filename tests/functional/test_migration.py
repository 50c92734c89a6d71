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

"""The migrations on SQLite, MariaDB and PostgreSQL.

0001 builds the parent_id index, 0002 the table of backup sizes
(``test_stored_sizes.py`` checks its upsert and that it is made online).
"""

import sqlalchemy as sa

from cinder_backup_ext import compat
from cinder_backup_ext.db import dependents
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext.db import sizes
from tests.functional import databases
from tools import testbed


def explain(conn, statement):
    sql = str(statement.compile(dialect=conn.dialect,
                                compile_kwargs={'literal_binds': True}))
    prefix = {'sqlite': 'EXPLAIN QUERY PLAN ',
              'mysql': 'EXPLAIN ',
              'postgresql': 'EXPLAIN '}[conn.dialect.name]
    return '\n'.join(' '.join(str(c) for c in row)
                     for row in conn.execute(sa.text(prefix + sql)))


def analyze(conn):
    if conn.dialect.name == 'postgresql':
        conn.execute(sa.text('ANALYZE backups'))
    elif conn.dialect.name == 'mysql':
        conn.execute(sa.text('ANALYZE TABLE backups'))
    else:
        conn.execute(sa.text('ANALYZE'))


@databases.for_each_engine
class MigrationTests(object):

    def index_name(self):
        with self.engine.connect() as conn:
            return parent_index.find(conn)

    def sizes_columns(self):
        """The sizes table's columns (name, nullable), or None if absent."""
        with self.engine.connect() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(sizes.NAME):
                return None
            return [(c['name'], c['nullable'])
                    for c in inspector.get_columns(sizes.NAME)]

    def test_round_trip(self):
        self.assertIsNone(migration.version(self.engine))
        self.assertIsNone(self.index_name())
        migration.upgrade(self.engine)
        self.assertEqual('0002', migration.head())
        self.assertEqual(migration.head(), migration.version(self.engine))
        self.assertEqual(parent_index.NAME, self.index_name())
        columns = [('backup_id', False), ('stored_bytes', True),
                   ('object_count', True), ('source', False),
                   ('recorded_at', False)]
        self.assertEqual(columns, self.sizes_columns())
        migration.upgrade(self.engine)  # again: nothing to do
        self.assertEqual(migration.head(), migration.version(self.engine))
        migration.downgrade(self.engine, 'base')
        self.assertIsNone(migration.version(self.engine))
        self.assertIsNone(self.index_name())
        self.assertIsNone(self.sizes_columns())
        migration.upgrade(self.engine)
        self.assertEqual(parent_index.NAME, self.index_name())
        self.assertEqual(columns, self.sizes_columns())
        # Cinder's own chain is untouched and still syncs after ours.
        with self.engine.connect() as conn:
            cinder_rev = conn.execute(sa.text(
                'SELECT version_num FROM alembic_version')).scalar()
        compat.db_sync(self.engine)
        with self.engine.connect() as conn:
            self.assertEqual(cinder_rev, conn.execute(sa.text(
                'SELECT version_num FROM alembic_version')).scalar())

    def test_sync_rebuilds_a_lost_index(self):
        self.assertFalse(migration.upgrade(self.engine))
        with self.engine.begin() as conn:  # as a hand-made rebuild would
            conn.execute(sa.text('DROP INDEX %s%s' % (
                parent_index.NAME,
                ' ON backups' if conn.dialect.name == 'mysql' else '')))
        self.assertIsNone(self.index_name())
        self.assertEqual(migration.head(), migration.version(self.engine))
        self.assertTrue(migration.upgrade(self.engine))
        self.assertEqual(parent_index.NAME, self.index_name())
        self.assertFalse(migration.upgrade(self.engine))

    def test_adopts_an_existing_index(self):
        with self.engine.begin() as conn:
            conn.execute(sa.text(
                'CREATE INDEX future_cinder_parent_idx ON backups '
                '(parent_id)'))
        migration.upgrade(self.engine)
        self.assertEqual('future_cinder_parent_idx', self.index_name())
        with self.engine.connect() as conn:
            self.assertFalse(parent_index.exists(conn))
        migration.downgrade(self.engine, 'base')
        self.assertEqual('future_cinder_parent_idx', self.index_name())

    def test_count_query_uses_the_index(self):
        rows, children = testbed.chain_rows(20000)
        testbed.insert(self.engine, rows)
        migration.upgrade(self.engine)
        ids = sorted(children)[:50]
        with self.engine.begin() as conn:
            analyze(conn)
        for dialect in (None, self.engine.dialect.name):
            # The portable form, and the one the API sends on this engine.
            statement = dependents.statement(ids, dialect)
            with self.engine.connect() as conn:
                plan = explain(conn, statement)
                got = dict(conn.execute(statement).all())
            self.addDetail('plan %s' % dialect, _text(plan))
            self.assertIn(parent_index.NAME, plan)
            self.assertEqual({i: children[i] for i in ids}, got)


@databases.for_each_engine
class EmptyDatabaseTests(object):

    cinder_schema = False

    def test_no_cinder_schema(self):
        self.assertRaises(migration.NotCinderDatabase,
                          migration.upgrade, self.engine)
        self.assertIsNone(migration.version(self.engine))
        with self.engine.connect() as conn:
            self.assertEqual([], sa.inspect(conn).get_table_names())


def _text(text):
    from testtools import content
    return content.text_content(text)
