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

"""Stock Cinder vs Cinder with the plugin under load, many API workers.

    tox -e bench -- --engines= --load                       # load only
    python -m tools.bench.load --rounds 6 --seconds 5 --plot load.png

For each engine (PostgreSQL, MariaDB): a scratch database gets Cinder's
schema (Cinder's migrations), backup chains and this package's index. Two
gunicorn servers run Cinder's own WSGI application
(``cinder.wsgi.api:application``, through tools/local-cloud/cinder_wsgi.py
as the local cloud runs it), each with ``--workers`` (4) sync worker
processes that build their own app after the fork: one stock, one with the
plugin in ``osapi_volume_extension``, on the same database.

For each number of concurrent clients (1, 8, 32), ``--rounds`` rounds; in
each round the clients drive the stock server for ``--seconds``, then the
plugin server (the order alternates round by round), each client looping
over a mix: ``show`` of a random live backup, ``detail?limit=--page`` (the
newest page, where the churn is), and creates (a full backup or an
incremental child of a live one) and soft-deletes of backup rows, written
to the database directly as Cinder's backup service would. Throughput is
API requests per second; the plugin/stock ratio has a 95 % bootstrap
interval over the rounds.

A checker then re-reads the rows: every flag of every plugin response must
agree with the rows at some instant between the request and its response
(the writes are logged with their own start and commit times, so a write
racing a read may go either way and nothing else may). Any 5xx, transport
error or disagreeing flag makes the run fail (exit status 1).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from tools import testbed

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL_CLOUD = os.path.join(os.path.dirname(HERE), 'local-cloud')
DATABASE = 'cbe_load'
# testbed's URLs name no port.
DEFAULT_PORTS = {'mysql': 3306, 'postgresql': 5432}
EXTENSIONS = {
    'stock': ['cinder.api.contrib.standard_extensions'],
    'plugin': ['cinder.api.contrib.standard_extensions',
               'cinder_backup_ext.api.loader.load'],
}
GUNICORN_HOOKS = '''
import os
def post_worker_init(worker):
    # The app is built: this worker accepts requests from now on.
    open(os.path.join(%r, 'ready-%%d' %% worker.pid), 'w').close()
'''


# --- the database ----------------------------------------------------------

def prepare(engine_name, rows, seed):
    """In a process of its own: schema, rows and index; print the ids."""
    from tools import cinder_app
    with tempfile.TemporaryDirectory(prefix='cbe-load-prep-') as state:
        url = testbed.scratch_database(engine_name, DATABASE, state)
        cinder_app.configure(connection=url, state_path=state)
        from cinder_backup_ext import compat
        from cinder_backup_ext.db import migration
        engine = compat.get_engine()
        compat.db_sync(engine)
        testbed.insert(engine, testbed.backup_rows(rows, seed))
        migration.upgrade(engine)
        testbed.analyze(engine)
        engine.dispose()
    print(json.dumps({'url': url}))


def _row(backup_id, parent_id, volume_id, number):
    import datetime
    now = datetime.datetime.utcnow()
    return dict(
        id=backup_id, parent_id=parent_id, volume_id=volume_id,
        deleted=False, status='available', num_dependent_backups=0,
        project_id=testbed.PROJECT, user_id=testbed.USER,
        availability_zone='nova', size=1, object_count=4,
        container='backups',
        service='cinder.backup.drivers.posix.PosixBackupDriver',
        host='bench', created_at=now, updated_at=now, data_timestamp=now,
        display_name='load%d' % number)


# --- the servers -------------------------------------------------------------

def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server(object):
    """Cinder's WSGI app under gunicorn, as the local cloud runs it."""

    def __init__(self, name, url, workers, tmp):
        self.name, self.workers = name, workers
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, 'state'))
        self.port = _free_port()
        conf = os.path.join(self.dir, 'cinder.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nauth_strategy = noauth\n'
                    'transport_url = fake:/\nstate_path = %s\n'
                    'api_paste_config = %s\n'
                    'resource_query_filters_file = %s\n'
                    'debug = false\n'
                    % (os.path.join(self.dir, 'state'),
                       os.path.join(sys.prefix, 'etc', 'cinder',
                                    'api-paste.ini'),
                       os.path.join(sys.prefix, 'etc', 'cinder',
                                    'resource_filters.json')))
            for extension in EXTENSIONS[name]:
                f.write('osapi_volume_extension = %s\n' % extension)
            f.write('[database]\nconnection = %s\n'
                    '[oslo_policy]\npolicy_file = /nonexistent/policy.yaml\n'
                    '[oslo_messaging_notifications]\ndriver = noop\n' % url)
        hooks = os.path.join(self.dir, 'hooks.py')
        with open(hooks, 'w') as f:
            f.write(GUNICORN_HOOKS % self.dir)
        command = [sys.executable, '-m', 'gunicorn', '--chdir', LOCAL_CLOUD,
                   '-c', hooks, '-b', '127.0.0.1:%d' % self.port,
                   '--workers', str(workers), '--worker-class', 'sync',
                   '--timeout', '300', '--graceful-timeout', '5',
                   '--backlog', '256', 'cinder_wsgi:application']
        self.log = open(os.path.join(self.dir, 'gunicorn.log'), 'w')
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True, env=dict(
                os.environ, PYTHONWARNINGS='ignore',
                CBE_CINDER_ARGS='--config-file %s --log-file %s' % (
                    conf, os.path.join(self.dir, 'cinder-api.log'))))

    def ready(self):
        if self.process.poll() is not None:
            raise RuntimeError('gunicorn (%s) exited; see %s' % (
                self.name, self.log.name))
        return sum(1 for f in os.listdir(self.dir)
                   if f.startswith('ready-')) >= self.workers

    def db_connections(self, port):
        """TCP connections to the database held by this server's processes."""
        import psutil
        try:
            master = psutil.Process(self.process.pid)
            processes = [master] + master.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0
        held = 0
        for process in processes:
            try:
                held += sum(1 for c in process.net_connections('tcp')
                            if c.raddr and c.raddr.port == port
                            and c.status == psutil.CONN_ESTABLISHED)
            except psutil.NoSuchProcess:
                pass
        return held

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --- the clients -------------------------------------------------------------

class Shared(object):
    """What the clients share: live ids, the write log, the responses."""

    def __init__(self, live, volumes):
        self.lock = threading.Lock()
        self.live = list(live)
        self.created = []
        self.volumes = volumes
        self.writes = []     # (start, end, parent_id, +1/-1)
        self.checks = []     # (start, end, [(id, is_inc, has_dep)])
        self.stock_flags = []
        self.number = 0


def _get(port, path):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
    try:
        conn.request('GET', '/v3/%s%s' % (testbed.PROJECT, path), headers={
            'X-Auth-Token': '%s:%s' % (testbed.USER, testbed.PROJECT),
            'OpenStack-API-Version': 'volume 3.0',
            'Accept': 'application/json'})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _flags(body):
    return [(b['id'], b.get('is_incremental'), b.get('has_dependent_backups'))
            for b in body]


def client(shared, stats, port, target, engine, deadline, rng, page, mix):
    import sqlalchemy as sa
    backups = sa.table('backups', sa.column('id'), sa.column('parent_id'),
                       sa.column('deleted'), sa.column('deleted_at'),
                       sa.column('status'))
    while time.perf_counter() < deadline:
        op = rng.choices(('show', 'detail', 'create', 'delete'), mix)[0]
        if op in ('show', 'detail'):
            if op == 'show':
                with shared.lock:
                    backup_id = rng.choice(shared.live)
                path = '/backups/%s' % backup_id
            else:
                path = '/backups/detail?limit=%d' % page
            started = time.perf_counter()
            try:
                status, body = _get(port, path)
            except (OSError, http.client.HTTPException) as exc:
                stats['errors'].append('%s %s' % (path, exc))
                continue
            ended = time.perf_counter()
            stats['latency'][op].append(ended - started)
            stats['status'][status] = stats['status'].get(status, 0) + 1
            if status != 200:
                continue
            data = json.loads(body)
            items = _flags([data['backup']] if op == 'show'
                           else data['backups'])
            if target == 'plugin':
                shared.checks.append((started, ended, items))
            else:
                shared.stock_flags.append((started, ended, items))
        elif op == 'create':
            with shared.lock:
                shared.number += 1
                number = shared.number
                parent = (rng.choice(shared.live) if rng.random() < 0.7
                          else None)
            volume = rng.choice(shared.volumes)
            backup_id = str(uuid.uuid4())
            started = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(sa.table('backups', *[
                    sa.column(c) for c in _row('x', None, 'v', 0)]).insert(),
                    [_row(backup_id, parent, volume, number)])
            ended = time.perf_counter()
            stats['writes'] += 1
            with shared.lock:
                shared.live.append(backup_id)
                shared.created.append(backup_id)
                if parent:
                    shared.writes.append((started, ended, parent, 1))
                shared.parents[backup_id] = parent
        else:
            with shared.lock:
                if not shared.created:
                    continue
                backup_id = shared.created.pop(
                    rng.randrange(len(shared.created)))
                parent = shared.parents[backup_id]
            started = time.perf_counter()
            with engine.begin() as conn:
                done = conn.execute(
                    backups.update().where(backups.c.id == backup_id)
                    .where(backups.c.deleted == sa.false())
                    .values(deleted=True, status='deleted',
                            deleted_at=sa.func.now())).rowcount
            ended = time.perf_counter()
            stats['writes'] += 1
            with shared.lock:
                if backup_id in shared.live:
                    shared.live.remove(backup_id)
                if done and parent:
                    shared.writes.append((started, ended, parent, -1))


def phase(server, shared, engine, clients, seconds, seed, page, mix):
    stats = [{'latency': {'show': [], 'detail': []}, 'status': {},
              'errors': [], 'writes': 0} for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds
    threads = [threading.Thread(target=client, args=(
        shared, stats[i], server.port, server.name, engine, deadline,
        random.Random(seed * 1000 + i), page, mix)) for i in range(clients)]
    for thread in threads:
        thread.start()
    # The database connections the server holds, sampled while it works.
    held = [0]
    while any(thread.is_alive() for thread in threads):
        held.append(server.db_connections(
            engine.url.port or DEFAULT_PORTS[engine.dialect.name]))
        time.sleep(0.25)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    merged = {'latency': {'show': [], 'detail': []}, 'status': {},
              'errors': [], 'writes': 0, 'elapsed': elapsed,
              'db_connections': max(held)}
    for s in stats:
        for op in ('show', 'detail'):
            merged['latency'][op] += s['latency'][op]
        for status, n in s['status'].items():
            merged['status'][status] = merged['status'].get(status, 0) + n
        merged['errors'] += s['errors']
        merged['writes'] += s['writes']
    merged['requests'] = sum(merged['status'].values())
    return merged


# --- the checker ------------------------------------------------------------

def check(engine, shared, checks):
    """Flags that no instant of their request's window explains."""
    import sqlalchemy as sa
    with engine.connect() as conn:
        parent_of = dict(conn.execute(sa.text(
            'SELECT id, parent_id FROM backups')).all())
        live_now = dict(conn.execute(sa.text(
            'SELECT parent_id, count(*) FROM backups WHERE deleted = %s '
            'AND parent_id IS NOT NULL GROUP BY parent_id'
            % ('false' if engine.dialect.name == 'postgresql' else '0')))
            .all())
    writes = {}
    for start, end, parent, delta in shared.writes:
        writes.setdefault(parent, []).append((start, end, delta))
    wrong = []
    for start, end, items in checks:
        for backup_id, is_inc, has_dep in items:
            if is_inc != (parent_of.get(backup_id) is not None):
                wrong.append((backup_id, 'is_incremental', is_inc))
                continue
            count = live_now.get(backup_id, 0)
            low = high = 0
            for w_start, w_end, delta in writes.get(backup_id, ()):
                if w_start > end:         # surely after the read
                    count -= delta
                elif w_end >= start:      # may have been seen, or not
                    count -= delta
                    if delta > 0:
                        high += delta
                    else:
                        low += delta
            possible = set()
            if count + high > 0:
                possible.add(True)
            if count + low <= 0:
                possible.add(False)
            if has_dep not in possible:
                wrong.append((backup_id, 'has_dependent_backups', has_dep))
    return wrong


# --- one engine --------------------------------------------------------------

def run_engine(args, engine_name, tmp):
    import sqlalchemy as sa
    out = subprocess.run(
        [sys.executable, '-m', 'tools.bench.load', '--prepare', engine_name,
         '--rows', str(args.rows)], capture_output=True, text=True,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if out.returncode:
        raise RuntimeError('preparing %s failed:\n%s'
                           % (engine_name, out.stderr[-3000:]))
    url = json.loads(out.stdout.strip().splitlines()[-1])['url']
    engine = sa.create_engine(url, pool_size=max(args.concurrency) + 2,
                              max_overflow=10)
    servers = {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT id, volume_id, parent_id FROM backups WHERE '
                'deleted = %s' % ('false' if engine_name == 'postgresql'
                                  else '0'))).all()
        shared = Shared([r[0] for r in rows],
                        sorted({r[1] for r in rows}))
        shared.parents = {r[0]: r[2] for r in rows}
        for name in ('stock', 'plugin'):
            servers[name] = Server(name, url, args.workers,
                                   os.path.join(tmp, engine_name))
        deadline = time.time() + args.start_timeout
        while not all(s.ready() for s in servers.values()):
            if time.time() > deadline:
                raise RuntimeError('gunicorn workers not ready after %ds'
                                   % args.start_timeout)
            time.sleep(0.5)
        for server in servers.values():   # warm every worker's pool
            phase(server, shared, engine, args.workers, 1.0, 0, args.page,
                  (1, 1, 0, 0))
        result = {'engine': engine_name, 'workers': args.workers,
                  'levels': {}, 'load_average': []}
        for clients in args.concurrency:
            rounds = []
            for number in range(args.rounds):
                order = ('stock', 'plugin') if number % 2 else (
                    'plugin', 'stock')
                got = {}
                for name in order:
                    got[name] = phase(servers[name], shared, engine, clients,
                                      args.seconds, args.seed + number,
                                      args.page, args.mix)
                rounds.append(got)
            result['levels'][clients] = _summary(rounds)
            result['load_average'].append(testbed.load_average())
            print('  %s, %d clients: done' % (engine_name, clients),
                  file=sys.stderr, flush=True)
        wrong = check(engine, shared, shared.checks)
        stock_wrong = check(engine, shared, shared.stock_flags)
        result['checked'] = sum(len(i) for _s, _e, i in shared.checks)
        result['wrong'] = wrong[:20]
        result['wrong_count'] = len(wrong)
        result['stock_checked'] = sum(
            len(i) for _s, _e, i in shared.stock_flags)
        result['stock_wrong'] = len(stock_wrong)
        return result
    finally:
        for server in servers.values():
            server.stop()
        engine.dispose()
        testbed.drop_databases(engine_name, (DATABASE,))


def _summary(rounds):
    summary = {}
    for name in ('stock', 'plugin'):
        latencies = [x for r in rounds for op in ('show', 'detail')
                     for x in r[name]['latency'][op]]
        shows = [x for r in rounds for x in r[name]['latency']['show']]
        requests = sum(r[name]['requests'] for r in rounds)
        elapsed = sum(r[name]['elapsed'] for r in rounds)
        status = {}
        for r in rounds:
            for code, n in r[name]['status'].items():
                status[code] = status.get(code, 0) + n
        summary[name] = {
            'throughput': requests / elapsed, 'requests': requests,
            'p50': testbed.percentile(latencies, 0.5) if latencies else None,
            'p99': testbed.percentile(latencies, 0.99) if latencies else None,
            'show_p50': testbed.percentile(shows, 0.5) if shows else None,
            'status': {str(k): v for k, v in status.items()},
            '5xx': sum(n for code, n in status.items() if code >= 500),
            'errors': [e for r in rounds for e in r[name]['errors']][:5],
            'db_connections': max(r[name]['db_connections']
                                  for r in rounds),
            'error_count': sum(len(r[name]['errors']) for r in rounds),
            'writes': sum(r[name]['writes'] for r in rounds)}
    pairs = [(r['stock']['requests'] / r['stock']['elapsed'],
              r['plugin']['requests'] / r['plugin']['elapsed'])
             for r in rounds]
    summary['ratio'] = testbed.bootstrap(
        pairs, lambda p: (statistics.mean(b for _a, b in p)
                          / statistics.mean(a for a, _b in p)))
    return summary


# --- the report -----------------------------------------------------------

def report(results, args):
    print('\nUnder load: Cinder\'s WSGI app under gunicorn, %d sync workers '
          'per server, stock vs plugin on one database; %d rounds of %.0f s '
          'per server and level, alternating; mix show/detail?limit=%d/'
          'create/delete = %s' % (args.workers, args.rounds, args.seconds,
                                  args.page, '/'.join(map(str, args.mix))))
    header = '%-10s %7s %9s %9s %22s %15s %15s %5s %7s %13s' % (
        'engine', 'clients', 'stock/s', 'plugin/s', 'plugin/stock',
        'stock p50/p99', 'plugin p50/p99', '5xx', 'writes',
        'db conns s/p')
    print(header)
    print('-' * len(header))
    failed = False
    for result in results:
        for clients, level in sorted(result['levels'].items(),
                                     key=lambda kv: int(kv[0])):
            stock, plugin = level['stock'], level['plugin']
            errors = (stock['5xx'] + plugin['5xx'] + stock['error_count']
                      + plugin['error_count'])
            failed |= bool(errors)
            print('%-10s %7s %9.1f %9.1f %6.3f [%5.3f, %5.3f] %6.0f/%-6.0f '
                  '%6.0f/%-6.0f %5d %7d %6d/%-6d'
                  % (result['engine'], clients, stock['throughput'],
                     plugin['throughput'], level['ratio'][0],
                     level['ratio'][1], level['ratio'][2],
                     stock['p50'] * 1e3, stock['p99'] * 1e3,
                     plugin['p50'] * 1e3, plugin['p99'] * 1e3, errors,
                     stock['writes'] + plugin['writes'],
                     stock['db_connections'], plugin['db_connections']))
            for name in ('stock', 'plugin'):
                for error in level[name]['errors']:
                    print('    %s: %s' % (name, error))
    for result in results:
        failed |= bool(result['wrong_count'])
        print('%s: %d flags of plugin responses checked against the rows, '
              '%d disagree%s; stock Cinder: %d of %d disagree (its '
              'counter is not kept by these writes); load average %s'
              % (result['engine'], result['checked'], result['wrong_count'],
                 ' %s' % result['wrong'] if result['wrong'] else '',
                 result['stock_wrong'], result['stock_checked'],
                 ', '.join('%.1f' % x for x in result['load_average']
                           if x is not None)))
    if args.plot:
        _plot(results, args)
    return failed


def _plot(results, args):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(7, 7),
                                            sharex=True)
    for result in results:
        levels = sorted(result['levels'], key=int)
        x = [int(c) for c in levels]
        for name, style in (('stock', '--'), ('plugin', '-')):
            label = '%s, %s' % (result['engine'], name)
            top.plot(x, [result['levels'][c][name]['throughput']
                         for c in levels], style, marker='o', label=label)
            bottom.plot(x, [result['levels'][c][name]['p99'] * 1e3
                            for c in levels], style, marker='o',
                        label=label)
    top.set_ylabel('API requests / s')
    bottom.set_ylabel('p99 latency, ms')
    bottom.set_xlabel('concurrent clients')
    bottom.set_xscale('log', base=2)
    top.set_title('Cinder API under gunicorn (%d workers), stock vs '
                  'cinder-backup-ext' % args.workers)
    top.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(args.plot, dpi=110)
    print('\nPlot written to %s' % args.plot)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--engines', default='postgresql,mysql')
    parser.add_argument('--concurrency', type=lambda s: [
        int(x) for x in s.split(',')], default=[1, 8, 32])
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=4)
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--rows', type=int, default=3000)
    parser.add_argument('--page', type=int, default=100)
    parser.add_argument('--mix', type=lambda s: [
        float(x) for x in s.split(',')], default=[60, 25, 10, 5],
        help='weights of show, detail, create, delete')
    parser.add_argument('--seed', type=int, default=20261125)
    parser.add_argument('--start-timeout', type=int, default=300)
    parser.add_argument('--plot')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--prepare', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        return prepare(args.prepare, args.rows, args.seed)
    tmp = tempfile.mkdtemp(prefix='cbe-load-')
    results = []
    try:
        for engine_name in args.engines.split(','):
            print('Load on %s ...' % engine_name, file=sys.stderr,
                  flush=True)
            results.append(run_engine(args, engine_name, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 1 if report(results, args) else 0


if __name__ == '__main__':
    sys.exit(main())
