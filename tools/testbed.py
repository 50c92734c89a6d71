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

"""What the tests, the benchmarks, the Galera job and the demo share.

Scratch databases on the servers ``tools/test-setup.sh`` prepares, backup
rows (chains of mixed depth, a fast server-side fill, a concurrent
writer), and the statistics the benchmarks report (percentiles, ratios
with bootstrap intervals over interleaved pairs). It loads no Cinder
module: Cinder's configuration must be complete before those load.
"""

import datetime
import os
import random
import statistics
import threading
import time
import uuid

import sqlalchemy as sa

from cinder_backup_ext.db import tables

URLS = {
    'sqlite': None,  # a file in a temporary directory
    'mysql': 'mysql+pymysql://openstack_citest:openstack_citest@'
             '127.0.0.1/%s',
    'postgresql': 'postgresql+psycopg2://openstack_citest:openstack_citest'
                  '@127.0.0.1/%s',
}
PROJECT = 'b3c1e5a0c0de4c1e9b1a6c0ffee00001'
USER = 'b3c1e5a0c0de4c1e9b1a6c0ffee00002'


# --- statistics --------------------------------------------------------------

def bootstrap(pairs, statistic, runs=2000, seed=1, level=0.95):
    """``statistic`` of interleaved (a, b) pairs, with a bootstrap interval.

    The pairs are resampled whole, so that drift of a noisy machine, which
    both members of a pair see alike, stays inside each pair. Returns
    (value, low, high).
    """
    pairs = list(pairs)
    rng = random.Random(seed)
    draws = sorted(
        statistic([pairs[rng.randrange(len(pairs))] for _ in pairs])
        for _ in range(runs))
    tail = (1 - level) / 2
    return (statistic(pairs), draws[int(tail * (runs - 1))],
            draws[int(round((1 - tail) * (runs - 1)))])


def ratio_of_medians(pairs):
    """median(b) / median(a) of (a, b) pairs: plugin/stock, index/none."""
    return (statistics.median(b for _a, b in pairs)
            / statistics.median(a for a, _b in pairs))


def delta_of_medians(pairs):
    return (statistics.median(b for _a, b in pairs)
            - statistics.median(a for a, _b in pairs))


def load_average():
    """The 1-minute load average, printed with results taken under load."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered)
                                                               - 1))))]


# --- scratch databases -----------------------------------------------------

def scratch_database(engine_name, name, tmp):
    """A new, empty database ``name`` on the engine's citest server."""
    if engine_name == 'sqlite':
        return 'sqlite:///%s' % os.path.join(tmp, name + '.db')
    url = URLS[engine_name] % name
    admin = sa.create_engine(URLS[engine_name] % (
        'postgres' if engine_name == 'postgresql' else ''),
        isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    admin.dispose()
    return url


def drop_databases(engine_name, names):
    admin = sa.create_engine(URLS[engine_name] % (
        'postgres' if engine_name == 'postgresql' else ''),
        isolation_level='AUTOCOMMIT')
    # PostgreSQL's FORCE ends what a failed run left connected.
    force = ' WITH (FORCE)' if engine_name == 'postgresql' else ''
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s%s'
                                 % (name, force)))
    admin.dispose()


def analyze(engine):
    """The table as autovacuum and fresh statistics leave it in use.

    On PostgreSQL that is ``VACUUM ANALYZE``: a table just filled has no
    page marked all-visible, so every index scan also reads the heap, which
    a table autovacuum has been through does not (the count of 1000 ids on
    100,000 rows: 12.9 ms just filled, 2.3 ms vacuumed, an index-only scan).
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level='AUTOCOMMIT')
        conn.execute(sa.text({'postgresql': 'VACUUM ANALYZE backups',
                              'mysql': 'ANALYZE TABLE backups'}.get(
                                  conn.dialect.name, 'ANALYZE')))


# --- backup rows -------------------------------------------------------------

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


def backup_rows(count, seed):
    """chain_rows, with what Cinder's API needs to list them."""
    rows, _children = chain_rows(count, seed=seed)
    now = datetime.datetime(2026, 11, 1)
    for number, row in enumerate(rows):
        row.update(
            project_id=PROJECT, user_id=USER, availability_zone='nova',
            size=1, object_count=4, container='backups',
            service='cinder.backup.drivers.posix.PosixBackupDriver',
            host='bench', created_at=now + datetime.timedelta(seconds=number),
            data_timestamp=now, fail_reason=None,
            display_name='b%d' % number)
    return rows
