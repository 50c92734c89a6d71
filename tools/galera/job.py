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

"""``db sync`` on a 3-node MariaDB Galera cluster while writers write.

    python -m tools.galera.job --ports 13306,13307,13308 [--rows 200000]

(tools/galera/run.sh starts the cluster, runs this and
tests/functional/test_galera.py, and stops it.) On node 1: Cinder's
schema (Cinder's migrations), ``--rows`` backup rows, and backup chains
of one project for the API. Then twice, once per Online Schema Upgrade
method: writers insert backup rows on nodes 2 and 3 (one transaction per
row, oslo.db's engine and its retry on deadlock, as Cinder's services),
and ``cinder-backup-ext-manage db sync`` runs against node 1:

- TOI (Galera's default): the ALTER is replicated and runs on every node
  at once; while it runs no node commits;
- RSU (``db sync --galera-rsu``): node by node, each desynced while it
  builds its own copy of the index.

Between the two, ``db downgrade base`` drops the index (TOI). Reported:
the build time, the writers' commits per second and their longest wait
(the stall), failed and retried writes; the index and its use (EXPLAIN)
on every node; the flags read through Cinder's API on each node against
the rows. Exit status 1 when a check fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

URL = 'mysql+pymysql://root@127.0.0.1:%d/%s'
DATABASE = 'cinder'


class NodeWriter(threading.Thread):
    """One row per transaction on one node, with oslo.db's retries.

    Like HAProxy with Galera's clustercheck, as kolla-ansible and
    openstack-ansible deploy it, a writer sends its rows to another node
    while its own is not Synced (desynced by an RSU build).
    """

    def __init__(self, url, name, fallback_url=None):
        super().__init__(daemon=True)
        from oslo_db.sqlalchemy import engines
        self.name_ = name
        self.own = engines.create_engine(url, max_retries=-1)
        self.fallback = (engines.create_engine(fallback_url, max_retries=-1)
                         if fallback_url else None)
        self.engine = self.own
        self.checked = 0
        self.failovers = 0
        self.stop = threading.Event()
        self.commits = []   # (start, end)
        self.errors = []
        self.retries = 0

    def run(self):
        from oslo_db import api as oslo_db_api
        from oslo_db import exception as db_exc
        import sqlalchemy as sa

        from cinder_backup_ext.db import tables
        writer = self

        @oslo_db_api.wrap_db_retry(max_retries=10, retry_on_deadlock=True,
                                   retry_interval=0.05, max_retry_interval=1)
        def insert():
            try:
                with writer.engine.begin() as conn:
                    conn.execute(tables.BACKUPS.insert().values(
                        id=str(uuid.uuid4()), volume_id=str(uuid.uuid4()),
                        project_id='galera-writer', deleted=False,
                        status='creating'))
            except db_exc.DBDeadlock:
                writer.retries += 1
                raise

        while not self.stop.is_set():
            started = time.monotonic()
            if self.fallback is not None and started - self.checked > 0.2:
                self.checked = started
                self.engine = self.own if self._synced() else self.fallback
                self.failovers += self.engine is self.fallback
            try:
                insert()
            except (db_exc.DBError, sa.exc.SQLAlchemyError) as exc:
                self.errors.append(str(exc).splitlines()[0])
            else:
                self.commits.append((started, time.monotonic()))
        self.own.dispose()
        if self.fallback is not None:
            self.fallback.dispose()

    def _synced(self):
        import sqlalchemy as sa
        try:
            with self.own.connect() as conn:
                return conn.execute(sa.text(
                    "SHOW STATUS LIKE 'wsrep_local_state_comment'")
                ).first()[1] == 'Synced'
        except Exception:
            return False


def _stats(writers, start, end):
    """Commits/s, median latency, and the longest wait within [start, end]."""
    commits = sorted(c for w in writers for c in w.commits
                     if start <= c[1] <= end)
    latencies = [e - s for s, e in commits]
    gaps = [b[1] - a[1] for a, b in zip(commits, commits[1:])]
    return {'commits': len(commits),
            'per_s': len(commits) / max(end - start, 1e-9),
            'p50_ms': statistics.median(latencies) * 1e3 if latencies else 0,
            'max_ms': max(latencies) * 1e3 if latencies else 0,
            'longest_gap_ms': max(gaps) * 1e3 if gaps else 0}


def _manage(conf, *args):
    started = time.monotonic()
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable),
                      'cinder-backup-ext-manage'), '--config-file', conf]
        + list(args), capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if out.returncode:
        raise RuntimeError('%s failed: %s%s' % (' '.join(args), out.stdout,
                                                out.stderr))
    return elapsed, out.stdout.strip()


def sync_under_writes(args, conf, method):
    # Writers on nodes 2 and 3; under RSU each falls back to node 1 while
    # its own node is desynced.
    writers = [NodeWriter(URL % (port, DATABASE), 'node%d' % n,
                          URL % (args.ports[0], DATABASE)
                          if method == 'RSU' else None)
               for n, port in enumerate(args.ports[1:], 2)]
    print('  %s: db sync under writes ...' % method, file=sys.stderr,
          flush=True)
    for writer in writers:
        writer.start()
    time.sleep(args.settle)
    before = time.monotonic()
    time.sleep(args.settle)
    started = time.monotonic()
    extra = ['--galera-rsu'] if method == 'RSU' else []
    build, output = _manage(conf, 'db', 'sync', *extra)
    ended = time.monotonic()
    time.sleep(args.settle)
    after = time.monotonic()
    for writer in writers:
        writer.stop.set()
    for writer in writers:
        writer.join()
    return {
        'method': method, 'build_s': build, 'output': output,
        'before': _stats(writers, before, started),
        'during': _stats(writers, started, ended),
        'after': _stats(writers, ended, after),
        'per_node_during': {w.name_: _stats([w], started, ended)
                            for w in writers},
        'errors': [e for w in writers for e in w.errors][:5],
        'error_count': sum(len(w.errors) for w in writers),
        'retries': sum(w.retries for w in writers),
        'failovers': sum(w.failovers for w in writers)}


def index_on_every_node(args, ids):
    import sqlalchemy as sa

    from cinder_backup_ext.db import dependents
    from cinder_backup_ext.db import parent_index
    nodes = {}
    for n, port in enumerate(args.ports, 1):
        engine = sa.create_engine(URL % (port, DATABASE))
        with engine.connect() as conn:
            conn.execute(sa.text('ANALYZE TABLE backups'))
            sql = str(dependents.statement(ids, 'mysql').compile(
                dialect=conn.dialect,
                compile_kwargs={'literal_binds': True}))
            plan = ' '.join(str(c) for row in conn.execute(
                sa.text('EXPLAIN ' + sql)) for c in row)
            nodes['node%d' % n] = {
                'index': parent_index.exists(conn),
                'used': parent_index.NAME in plan,
                'rows': conn.execute(sa.text(
                    'SELECT count(*) FROM backups')).scalar()}
        engine.dispose()
    return nodes


def api_flags_on_every_node(args, expected, tmp):
    """Cinder's API (with the plugin) on each node: flags vs the rows."""
    from tools import testbed
    nodes = {}
    for n, port in enumerate(args.ports, 1):
        output = os.path.join(tmp, 'api-node%d.json' % n)
        out = subprocess.run(
            [sys.executable, '-m', 'tools.cinder_app',
             '--connection', URL % (port, DATABASE), '--project',
             testbed.PROJECT, '--user', testbed.USER, '--output', output,
             '/backups/detail?limit=1000'], capture_output=True, text=True,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
        if out.returncode:
            raise RuntimeError('API on node %d: %s' % (n, out.stderr[-2000:]))
        with open(output) as f:
            got = json.load(f)['plugin']['/backups/detail?limit=1000']
        wrong = [b['id'] for b in got['body']['backups']
                 if (b['is_incremental'], b['has_dependent_backups'])
                 != expected[b['id']]]
        nodes['node%d' % n] = {'status': got['status'],
                               'backups': len(got['body']['backups']),
                               'wrong': wrong}
    return nodes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ports', type=lambda s: [
        int(p) for p in s.split(',')], default=[13306, 13307, 13308])
    parser.add_argument('--rows', type=int, default=200000)
    parser.add_argument('--api-rows', type=int, default=600)
    parser.add_argument('--settle', type=float, default=2.0,
                        help='seconds of writes before and after a sync')
    parser.add_argument('--methods', default='TOI,RSU')
    parser.add_argument('--json', help='also write the results here')
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from tools import cinder_app
    from tools import testbed
    tmp = tempfile.mkdtemp(prefix='cbe-galera-job-')
    url = URL % (args.ports[0], DATABASE)
    admin = sa.create_engine(URL % (args.ports[0], ''),
                             isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % DATABASE))
        conn.execute(sa.text('CREATE DATABASE %s' % DATABASE))
    cinder_app.configure(connection=url, state_path=tmp)
    from cinder_backup_ext import compat
    engine = compat.get_engine()
    started = time.monotonic()
    compat.db_sync(engine)
    testbed.fill(engine, args.rows, chunk=20000)
    rows = testbed.backup_rows(args.api_rows, 7)
    testbed.insert(engine, rows)
    fill_s = time.monotonic() - started
    live_children = {}
    for row in rows:
        if row['parent_id'] and not row['deleted']:
            live_children[row['parent_id']] = True
    expected = {row['id']: (row['parent_id'] is not None,
                            live_children.get(row['id'], False))
                for row in rows if not row['deleted']}
    conf = os.path.join(tmp, 'cinder.conf')
    with open(conf, 'w') as f:
        f.write('[database]\nconnection = %s\n' % url)

    result = {'rows': args.rows + args.api_rows, 'fill_s': fill_s,
              'runs': [], 'load_average': testbed.load_average()}
    failed = []
    try:
        for number, method in enumerate(args.methods.split(',')):
            if number:
                _manage(conf, 'db', 'downgrade', 'base')
            run = sync_under_writes(args, conf, method)
            run['nodes'] = index_on_every_node(
                args, sorted(expected)[:200])
            result['runs'].append(run)
            for name, node in run['nodes'].items():
                if not (node['index'] and node['used']):
                    failed.append('%s: %s index %s' % (method, name, node))
            if run['error_count']:
                failed.append('%s: %d writes failed' % (method,
                                                        run['error_count']))
        result['api'] = api_flags_on_every_node(args, expected, tmp)
        for name, node in result['api'].items():
            if node['status'] != 200 or node['wrong'] or (
                    node['backups'] != min(len(expected), 1000)):
                failed.append('API on %s: %s' % (name, node))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % DATABASE))
        admin.dispose()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    result['failed'] = failed
    report(result)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return 1 if failed else 0


def report(result):
    print('\nGalera, 3 nodes on one machine: %d backup rows; writers insert '
          'on nodes 2 and 3 while db sync runs against node 1 (load '
          'average %s)' % (result['rows'], result['load_average']))
    header = '%-4s %8s %22s %22s %22s %8s %7s' % (
        'OSU', 'build s', 'before: /s, p50, max', 'during: /s, max, gap',
        'after: /s, p50, max', 'failed', 'retried')
    print(header)
    print('-' * len(header))
    for run in result['runs']:
        b, d, a = run['before'], run['during'], run['after']
        print('%-4s %8.2f %6.0f %6.1f %7.1f %6.0f %7.0f %7.0f %6.0f %6.1f '
              '%7.1f %8d %7d'
              % (run['method'], run['build_s'], b['per_s'], b['p50_ms'],
                 b['max_ms'], d['per_s'], d['max_ms'], d['longest_gap_ms'],
                 a['per_s'], a['p50_ms'], a['max_ms'], run['error_count'],
                 run['retries']))
    for run in result['runs']:
        print('%s: writes sent to node 1 while their node was desynced: %d'
              % (run['method'], run['failovers']))
        print('%s: per node during the sync: %s' % (run['method'], ', '.join(
            '%s %d commits, longest wait %.0f ms' % (
                name, s['commits'], s['max_ms'])
            for name, s in sorted(run['per_node_during'].items()))))
        print('%s: index and its use (EXPLAIN) per node: %s' % (
            run['method'], ', '.join(
                '%s %s/%s' % (name, 'index' if n['index'] else 'NO INDEX',
                              'used' if n['used'] else 'NOT USED')
                for name, n in sorted(run['nodes'].items()))))
        for line in run['output'].splitlines():
            print('  db sync: %s' % line)
        for error in run['errors']:
            print('  failed write: %s' % error)
    for name, node in sorted(result.get('api', {}).items()):
        print('API flags through %s: %d backups, %d disagree with the rows'
              % (name, node['backups'], len(node['wrong'])))
    print('FAILED: %s' % result['failed'] if result['failed']
          else 'All checks passed.')


if __name__ == '__main__':
    sys.exit(main())
