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

"""The index on ``backups.parent_id`` that the dependents count needs.

Cinder has no index on ``backups.parent_id`` (checked up to 29.0.0), so
``parent_id IN (...) AND deleted = false GROUP BY parent_id`` scans the
whole table. The index is ``(parent_id, deleted)``: it covers every column
the count reads, so the count is answered from the index alone (EXPLAIN:
PostgreSQL "Index Only Scan", MariaDB "Using where; Using index", SQLite
"USING COVERING INDEX"), while ``(parent_id)`` alone needs a row lookup per
child to read ``deleted``. ``tests/functional/test_migration.py`` prints
and checks the plans on each engine.

It is built without blocking writers where the engine can:
PostgreSQL ``CREATE INDEX CONCURRENTLY`` (outside a transaction; an INVALID
index left by an interrupted build is dropped and built again), MariaDB and
MySQL ``ALGORITHM=INPLACE, LOCK=NONE``; SQLite has no online build.

An index that already leads with ``parent_id`` (a future Cinder may add
one) is adopted instead of duplicated; only an index under this package's
name is ever dropped.
"""

import sqlalchemy as sa

NAME = 'cinder_backup_ext_backups_parent_id_idx'
TABLE = 'backups'
COLUMNS = ('parent_id', 'deleted')


def _columns():
    return ', '.join(COLUMNS)


def find(conn):
    """Return the name of a usable index leading with parent_id, or None.

    This package's own index wins over an adopted one. An INVALID
    PostgreSQL index is not usable.
    """
    names = [index['name'] for index in sa.inspect(conn).get_indexes(TABLE)
             if index['column_names'][:1] == ['parent_id']]
    names.sort(key=lambda name: name != NAME)
    for name in names:
        if is_valid(conn, name):
            return name
    return None


def exists(conn, name=NAME):
    if conn.dialect.name == 'postgresql':
        # Older SQLAlchemy leaves INVALID indexes out of get_indexes().
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_class WHERE relname = :name "
            "AND relkind = 'i'"), {'name': name}).scalar() > 0
    return name in {i['name'] for i in sa.inspect(conn).get_indexes(TABLE)}


def is_valid(conn, name=NAME):
    if conn.dialect.name != 'postgresql':
        return exists(conn, name)
    valid = conn.execute(sa.text(
        'SELECT i.indisvalid FROM pg_index i JOIN pg_class c '
        'ON c.oid = i.indexrelid WHERE c.relname = :name'),
        {'name': name}).scalar()
    return bool(valid)


def create(conn):
    """Build the index online; ``conn`` must be in autocommit mode."""
    dialect = conn.dialect.name
    if dialect == 'postgresql':
        if exists(conn) and not is_valid(conn):
            conn.execute(sa.text('DROP INDEX CONCURRENTLY IF EXISTS %s'
                                 % NAME))
        conn.execute(sa.text('CREATE INDEX CONCURRENTLY IF NOT EXISTS '
                             '%s ON %s (%s)' % (NAME, TABLE, _columns())))
    elif dialect == 'mysql':
        if not exists(conn):
            conn.execute(sa.text('ALTER TABLE %s ADD INDEX %s (%s), '
                                 'ALGORITHM=INPLACE, LOCK=NONE'
                                 % (TABLE, NAME, _columns())))
    else:
        conn.execute(sa.text('CREATE INDEX IF NOT EXISTS %s ON %s (%s)'
                             % (NAME, TABLE, _columns())))


def drop(conn):
    """Drop this package's index, if present; never an adopted one."""
    dialect = conn.dialect.name
    if dialect == 'postgresql':
        conn.execute(sa.text('DROP INDEX CONCURRENTLY IF EXISTS %s' % NAME))
    elif dialect == 'mysql':
        if exists(conn):
            conn.execute(sa.text('ALTER TABLE %s DROP INDEX %s, '
                                 'ALGORITHM=INPLACE, LOCK=NONE'
                                 % (TABLE, NAME)))
    else:
        conn.execute(sa.text('DROP INDEX IF EXISTS %s' % NAME))
