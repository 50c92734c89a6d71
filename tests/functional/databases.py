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

"""Cinder's schema on real SQLite, MariaDB and PostgreSQL servers.

The servers are found the way oslo.db's own tests find them: the
``openstack_citest`` user and database (``tools/test-setup.sh`` creates
them), or ``OS_TEST_DBAPI_ADMIN_CONNECTION``; each test class gets a fresh
database of its own. A test skips, saying why, only when a server is absent,
and fails instead where ``CBE_REQUIRE_SERVERS`` is set (CI sets it: its
servers must be there). The schema is built by Cinder's own migrations
(``cinder-manage db sync``).
"""

import os
import random
import threading
import time
import uuid

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa
import testtools

from cinder_backup_ext import compat
from cinder_backup_ext.db import tables

ENGINES = {
    'sqlite': test_fixtures.OpportunisticDbFixture,
    'mysql': test_fixtures.MySQLOpportunisticFixture,
    'postgresql': test_fixtures.PostgresqlOpportunisticFixture,
}


class CinderSchemaTestCase(test_fixtures.OpportunisticDBTestMixin,
                           testtools.TestCase):
    """A test with ``self.engine`` on a new database with Cinder's schema."""

    cinder_schema = True

    def skipTest(self, reason):
        # oslo.db's fixture skips when it cannot reach the server.
        if os.environ.get('CBE_REQUIRE_SERVERS') and 'unavailable' in reason:
            self.fail('%s (CBE_REQUIRE_SERVERS is set: the server must be '
                      'there; run tools/test-setup.sh)' % reason)
        super().skipTest(reason)

    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()
        if self.cinder_schema:
            compat.db_sync(self.engine)


def for_each_engine(cls=None, engines=tuple(ENGINES)):
    """Make one concrete test class per engine from a mixin."""
    if cls is None:
        return lambda cls: for_each_engine(cls, engines)
    module = __import__(cls.__module__, fromlist=['_'])
    for name in engines:
        fixture = ENGINES[name]
        concrete = type('%s_%s' % (cls.__name__, name),
                        (cls, CinderSchemaTestCase), {'FIXTURE': fixture})
        concrete.__module__ = cls.__module__
        setattr(module, concrete.__name__, concrete)
    return cls


def chain_rows(count, seed=42, deleted_fraction=0.1, max_depth=5):
    """Backup rows forming chains of mixed depth, some soft-deleted.

    Returns (rows, live children per parent id). The rows hold only the
    columns the count reads; callers that serve them through Cinder's API
    (the bench) add the rest.
    """
    rng = random.Random(seed)
    rows, children = [], {}
    while len(rows) < count:
        volume_id = str(uuid.UUID(int=rng.getrandbits(128)))
        parent = None
        for _depth in range(rng.randint(1, max_depth)):
            if len(rows) >= count:
                break
            row = {'id': str(uuid.UUID(int=rng.getrandbits(128))),
                   'volume_id': volume_id, 'parent_id': parent,
                   'deleted': rng.random() < deleted_fraction,
                   'status': 'available', 'num_dependent_backups': 0}
            if parent is not None and not row['deleted']:
                children[parent] = children.get(parent, 0) + 1
            rows.append(row)
            parent = row['id']
    for row in rows:
        row['num_dependent_backups'] = children.get(row['id'], 0)
    return rows, children


def insert(engine, rows, chunk=5000):
    for start in range(0, len(rows), chunk):
        with engine.begin() as conn:
            conn.execute(sa.insert(tables.BACKUPS),
                         rows[start:start + chunk])


_FILL = {
    # Chains of four: every row but each fourth has the previous as parent.
    'postgresql': """
        INSERT INTO backups (id, volume_id, parent_id, deleted, status,
                             num_dependent_backups)
        SELECT md5(i::text), md5((i / 4)::text),
               CASE WHEN i % 4 <> 0 THEN md5((i - 1)::text) END,
               false, 'available', 0
        FROM generate_series(:start, :stop - 1) AS i""",
    'mysql': """
        INSERT INTO backups (id, volume_id, parent_id, deleted, status,
                             num_dependent_backups)
        WITH RECURSIVE seq (i) AS (
            SELECT :start UNION ALL SELECT i + 1 FROM seq WHERE i < :stop - 1)
        SELECT md5(i), md5(i DIV 4),
               CASE WHEN i % 4 <> 0 THEN md5(i - 1) END,
               false, 'available', 0
        FROM seq""",
}


def fill(engine, count, chunk=50000):
    """Insert ``count`` backup rows server-side, fast, in chains of four."""
    for start in range(0, count, chunk):
        with engine.begin() as conn:
            if conn.dialect.name == 'mysql':
                conn.execute(sa.text(
                    'SET SESSION max_recursive_iterations = %d' % (chunk + 1)))
            conn.execute(sa.text(_FILL[conn.dialect.name]),
                         {'start': start,
                          'stop': min(start + chunk, count)})


class Writer(threading.Thread):
    """Inserts backup rows one by one, timing each, until stopped."""

    def __init__(self, engine):
        super().__init__(daemon=True)
        self.engine = engine
        self.stop = threading.Event()
        self.spans = []  # (started, ended) of each insert, time.monotonic()
        self.errors = []

    @property
    def latencies(self):
        return [ended - started for started, ended in self.spans]

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with self.engine.begin() as conn:
                    conn.execute(tables.BACKUPS.insert().values(
                        id=str(uuid.uuid4()), volume_id=str(uuid.uuid4()),
                        deleted=False, status='creating'))
            except Exception as exc:
                self.errors.append(exc)
            self.spans.append((started, time.monotonic()))
