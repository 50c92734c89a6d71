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

import time

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


def galera_nodes(conn):
    """The client addresses (host:port) of a Galera cluster's nodes.

    Empty when ``conn`` is not on a Galera node (or on any other engine).
    """
    if conn.dialect.name != 'mysql':
        return []
    row = conn.execute(sa.text(
        "SHOW STATUS LIKE 'wsrep_incoming_addresses'")).first()
    if not row or not row[1] or row[1] == 'AUTO':
        return []
    return [address for address in row[1].split(',') if address]


def _wait_synced(conn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        state = conn.execute(sa.text(
            "SHOW STATUS LIKE 'wsrep_local_state_comment'")).first()
        if state and state[1] == 'Synced':
            return
        if time.monotonic() > deadline:
            raise RuntimeError('Galera node not Synced after %ds: %s'
                               % (timeout, state and state[1]))
        time.sleep(0.2)


def _create_rsu_on_node(conn, address, report, synced_timeout,
                        lock_wait_timeout, attempts, drain_seconds):
    """RSU on one node; retried while a local transaction holds the table.

    RSU pauses the node's provider before the ALTER asks for its metadata
    lock; a write transaction already open on that node then cannot commit
    (paused) and holds the lock the ALTER waits for. A short
    ``lock_wait_timeout`` turns that deadlock into an error after which
    the node resumes, its writes commit and the build is tried again. The
    node must be out of the load balancer for the build to get through:
    it is desynced (``wsrep_desync``) ``drain_seconds`` before the ALTER,
    so that HAProxy's clustercheck reports it down and its open
    transactions finish first.
    """
    for attempt in range(1, attempts + 1):
        conn.execute(sa.text('SET GLOBAL wsrep_desync = ON'))
        time.sleep(drain_seconds)
        conn.execute(sa.text('SET SESSION lock_wait_timeout = %d'
                             % lock_wait_timeout))
        conn.execute(sa.text("SET SESSION wsrep_OSU_method = 'RSU'"))
        try:
            create(conn)
            return
        except sa.exc.OperationalError as exc:
            if attempt == attempts or 'Lock wait timeout' not in str(exc):
                raise RuntimeError(
                    'RSU build on %s failed: %s; take the node out of the '
                    'load balancer and run db sync --galera-rsu again'
                    % (address, str(exc.orig).splitlines()[0]))
            report('%s: a local transaction held the table for %d s '
                   '(attempt %d of %d); retrying'
                   % (address, lock_wait_timeout, attempt, attempts))
        finally:
            conn.execute(sa.text("SET SESSION wsrep_OSU_method = 'TOI'"))
            conn.execute(sa.text('SET GLOBAL wsrep_desync = OFF'))
            _wait_synced(conn, synced_timeout)


def create_rsu(engine, report=print, synced_timeout=600,
               lock_wait_timeout=10, attempts=6, drain_seconds=3):
    """Build the index on every Galera node, one at a time, with RSU.

    Galera runs DDL in Total Order Isolation by default: the ALTER is
    replicated and runs on every node at once, and no node commits any
    write while it runs. With ``wsrep_OSU_method=RSU`` the ALTER is not
    replicated: each node, in turn, leaves flow control (desyncs), builds
    the index locally (online, ``LOCK=NONE``), catches up with what the
    others committed meanwhile and is Synced again before the next one
    starts. The nodes are found in ``wsrep_incoming_addresses`` and reached
    with ``engine``'s credentials. Returns the addresses built on.
    """
    with engine.connect() as conn:
        nodes = galera_nodes(conn)
    if not nodes:
        raise ValueError('--galera-rsu needs a MariaDB Galera cluster; '
                         'wsrep_incoming_addresses is empty here')
    built = []
    for address in nodes:
        host, _sep, port = address.rpartition(':')
        node = sa.create_engine(
            engine.url.set(host=host, port=int(port)),
            poolclass=sa.pool.NullPool, isolation_level='AUTOCOMMIT')
        try:
            with node.connect() as conn:
                _wait_synced(conn, synced_timeout)
                if TABLE not in sa.inspect(conn).get_table_names():
                    raise ValueError('no backups table on node %s' % address)
                if exists(conn):
                    report('%s: index already there' % address)
                    continue
                started = time.monotonic()
                _create_rsu_on_node(conn, address, report, synced_timeout,
                                    lock_wait_timeout, attempts,
                                    drain_seconds)
                built.append(address)
                report('%s: index built with RSU in %.1f s'
                       % (address, time.monotonic() - started))
        finally:
            node.dispose()
    return built
