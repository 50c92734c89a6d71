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

"""What the plugin costs, side by side with stock Cinder, in one run.

    tox -e bench                                   # smoke size, seconds
    tox -e bench -- --rows 100000 --count-rows 1000000 --requests 30 \\
        --plot doc/source/contributor/bench-latency.png   # the full run
    tox -e bench -- --load     # then many API workers under load (load.py)

For each engine (SQLite, MariaDB, PostgreSQL), in a process of its own:
Cinder's schema is built by Cinder's migrations in a scratch database and
filled with backup chains of mixed depth (a fraction soft-deleted); two of
Cinder's real v3 WSGI apps are built from Cinder's api-paste.ini, one stock
and one with the plugin in ``osapi_volume_extension``, and requests
alternate between them, without and then with this package's index;
with the index, also an incremental POST /backups and a restore (the
chain cap's and the restore check's one statement each). Then
the count query alone runs on a larger table, with and without the index,
and the index is built while a writer inserts rows.

Servers are found as the tests find them (``tools/test-setup.sh``).
"""

import argparse
import atexit
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from tools import testbed


# --- one engine, in its own process ---------------------------------------

def _apps(paste_ini):
    """Cinder's real v3 app, stock and with the plugin, from api-paste.ini."""
    from oslo_config import cfg
    from paste import deploy
    stock_ext = ['cinder.api.contrib.standard_extensions']
    apps = {}
    for name, extensions in (('stock', stock_ext),
                             ('plugin', stock_ext + [
                                 'cinder_backup_ext.api.loader.load'])):
        cfg.CONF.set_override('osapi_volume_extension', extensions)
        apps[name] = deploy.loadapp('config:%s' % paste_ini,
                                    name='osapi_volume')
    return apps


def _timed_requests(apps, paths, requests, counter, collect_every=25):
    """Alternate the apps request by request; return per-app latencies.

    The garbage collector stays off while requests are timed, so that no
    collection lands inside one member of a pair. It runs every
    ``collect_every`` pairs, untimed, followed by one untimed request to
    each app: a full collection walks the whole heap and leaves the CPU's
    caches cold for whatever runs next, which a server in use never sees
    on every request.
    """
    import webob
    headers = {'X-Auth-Token': '%s:%s' % (testbed.USER, testbed.PROJECT),
               'OpenStack-API-Version': 'volume 3.0'}
    latencies = {name: [] for name in apps}
    statements = {name: [] for name in apps}
    order = list(apps)

    def call(name, path):
        request = webob.Request.blank(path, headers=headers)
        counter[:] = []
        started = time.perf_counter()
        response = request.get_response(apps[name])
        elapsed = time.perf_counter() - started
        assert response.status_int == 200, (path, response.body[:300])
        return elapsed

    gc.disable()
    try:
        for i in range(requests):
            path = paths[i % len(paths)]
            if i % collect_every == 0:
                gc.collect()
                for name in order:
                    call(name, path)
            for name in (order if i % 2 else order[::-1]):
                latencies[name].append(call(name, path))
                statements[name].append(len(counter))
                if os.environ.get('CBE_BENCH_SHOW_SQL') and i == 0:
                    print(name, path, *counter, sep='\n  ', file=sys.stderr)
    finally:
        gc.enable()
    return latencies, statements


def _write_setup(engine):
    """What a POST /backups and a restore need.

    Two available volumes, the first with a chain of three available
    backups, and a cinder-backup service that is up.
    """
    import datetime

    from cinder import context
    from cinder import objects
    from cinder.volume import volume_types
    ctxt = context.get_admin_context()
    type_id = volume_types.get_default_volume_type(ctxt)['id']
    volumes = []
    for name in ('chain', 'target'):
        volume = objects.Volume(
            ctxt, size=1, status='available', attach_status='detached',
            host='bench@file#file', availability_zone='nova',
            project_id=testbed.PROJECT, user_id=testbed.USER,
            volume_type_id=type_id,
            display_name='bench-%s' % name)
        volume.create()
        volumes.append(volume.id)
    now = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    chain = [str(uuid.uuid4()) for _ in range(3)]
    testbed.insert(engine, [dict(
        id=backup_id, volume_id=volumes[0],
        parent_id=chain[number - 1] if number else None, deleted=False,
        status='available', num_dependent_backups=int(number < 2),
        project_id=testbed.PROJECT, user_id=testbed.USER,
        availability_zone='nova', size=1,
        object_count=4, container='backups', fail_reason=None,
        service='cinder.backup.drivers.posix.PosixBackupDriver',
        host='bench', display_name='bench-%d' % number,
        created_at=now + datetime.timedelta(minutes=number),
        data_timestamp=now + datetime.timedelta(minutes=number))
        for number, backup_id in enumerate(chain)])
    service = objects.Service(ctxt, host='bench', binary='cinder-backup',
                              topic='cinder-backup', availability_zone='nova',
                              report_count=0, disabled=False)
    service.create()
    return volumes, chain[-1], service


def _timed_writes(engine, apps, counter, requests):
    """POST /backups and POST /backups/{id}/restore, stock vs plugin.

    Interleaved; an incremental backup of the chain's volume, and a
    restore of its newest backup; Cinder's answer is 202 to each.

    Cinder casts each to the backup service (over oslo.messaging's fake
    transport here: nothing runs it), so the rows are put back untimed
    before every request: the volume available again, the backup no longer
    restoring.
    """
    from oslo_config import cfg
    import sqlalchemy as sa
    import webob
    # The bench's project makes more backups than Cinder's default quota
    # (its migrations store the defaults as the "default" quota class).
    cfg.CONF.set_override('use_default_quota_class', False)
    cfg.CONF.set_override('quota_backups', -1)
    cfg.CONF.set_override('quota_backup_gigabytes', -1)
    volumes, leaf, service = _write_setup(engine)
    calls = {
        'POST /backups': (
            '/v3/%s/backups' % testbed.PROJECT,
            {'backup': {'volume_id': volumes[0], 'incremental': True,
                        'name': 'bench'}}),
        'POST .../restore': (
            '/v3/%s/backups/%s/restore' % (testbed.PROJECT, leaf),
            {'restore': {'volume_id': volumes[1]}}),
    }
    reset = sa.text("UPDATE volumes SET status = 'available' "
                    "WHERE id IN (:a, :b)")
    reset_backup = sa.text("UPDATE backups SET status = 'available', "
                           "restore_volume_id = NULL WHERE id = :id")
    headers = {'X-Auth-Token': '%s:%s' % (testbed.USER, testbed.PROJECT),
               'OpenStack-API-Version': 'volume 3.0',
               'Content-Type': 'application/json'}

    def call(name, path, body):
        with engine.begin() as conn:
            conn.execute(reset, {'a': volumes[0], 'b': volumes[1]})
            conn.execute(reset_backup, {'id': leaf})
        request = webob.Request.blank(path, headers=headers, method='POST',
                                      body=json.dumps(body).encode())
        counter[:] = []
        started = time.perf_counter()
        response = request.get_response(apps[name])
        elapsed = time.perf_counter() - started
        assert response.status_int == 202, (path, response.body[:300])
        if os.environ.get('CBE_BENCH_SHOW_SQL'):
            print(name, path, *counter, sep='\n  ', file=sys.stderr)
        return elapsed, len(counter)

    results = {}
    for label, (path, body) in calls.items():
        latencies = {name: [] for name in apps}
        statements = {name: [] for name in apps}
        for i in range(requests + 2):
            if i % 10 == 0:  # the service's heartbeat: it stays "up"
                service.report_count += 1
                service.save()
            for name in (list(apps) if i % 2 else list(apps)[::-1]):
                elapsed, count = call(name, path, body)
                if i >= 2:  # two warm-up rounds
                    latencies[name].append(elapsed)
                    statements[name].append(count)
        results[label] = (latencies, statements)
    return results


def _summary(latencies, statements):
    """Per app: median, p95, statements; over the pairs: ratio, delta."""
    entry = {name: {'median': statistics.median(values),
                    'p95': testbed.percentile(values, 0.95),
                    'statements': statistics.median(statements[name])}
             for name, values in latencies.items()}
    pairs = list(zip(latencies['stock'], latencies['plugin']))
    entry['pairs'] = len(pairs)
    entry['ratio'] = testbed.bootstrap(pairs, testbed.ratio_of_medians)
    entry['delta'] = testbed.bootstrap(pairs, testbed.delta_of_medians)
    return entry


def _without_index(conn, sql):
    """``sql`` (the count, compiled) kept off this package's index.

    On the same table as the indexed runs, so that the two alternate:
    MariaDB ``IGNORE INDEX``; SQLite ``INDEXED BY`` Cinder's index on
    ``deleted``, its plan before the build;
    PostgreSQL no index scans in that transaction (its plan without the
    index is a sequential scan).
    """
    from cinder_backup_ext.db import parent_index
    dialect = conn.dialect.name
    if dialect == 'mysql':
        return sql.replace('FROM backups', 'FROM backups IGNORE INDEX '
                           '(%s)' % parent_index.NAME, 1)
    if dialect == 'sqlite':
        # The plan before the build: Cinder's index on (deleted, ...).
        return sql.replace('FROM backups', 'FROM backups INDEXED BY '
                           'backups_deleted_project_id_idx', 1)
    for setting in ('enable_indexscan', 'enable_bitmapscan',
                    'enable_indexonlyscan'):
        conn.exec_driver_sql('SET LOCAL %s = off' % setting)
    return sql


def _count_alone(engine, ids, runs):
    """(no index, index) pairs of the count of ``ids``, interleaved."""
    from cinder_backup_ext.db import dependents
    statement = dependents.statement(ids, engine.dialect.name)
    sql = str(statement.compile(dialect=engine.dialect,
                                compile_kwargs={'literal_binds': True}))
    pairs = []
    for run in range(runs):
        timing = {}
        for indexed in ((False, True) if run % 2 else (True, False)):
            with engine.begin() as conn:
                text = sql if indexed else _without_index(conn, sql)
                started = time.perf_counter()
                conn.exec_driver_sql(text).all()
                timing[indexed] = time.perf_counter() - started
        pairs.append((timing[False], timing[True]))
    return pairs


def _explain(engine, ids, indexed=True):
    import sqlalchemy as sa

    from cinder_backup_ext.db import dependents
    with engine.begin() as conn:
        sql = str(dependents.statement(ids, conn.dialect.name).compile(
            dialect=conn.dialect, compile_kwargs={'literal_binds': True}))
        if not indexed:
            sql = _without_index(conn, sql)
        prefix = ('EXPLAIN QUERY PLAN ' if conn.dialect.name == 'sqlite'
                  else 'EXPLAIN ')
        # The 1000 literal ids make a very long line: keep the plan's shape.
        return [' | '.join(str(c) for c in row)[:150]
                for row in conn.execute(sa.text(prefix + sql))]


def _show_stages(engine, backup_id, runs):
    """The plugin's part of a ``show``, stage by stage, in isolation.

    Median seconds of each stage, run ``runs`` times in a row: the policy
    check (as ``noauth`` builds the context), what "guarded by a policy
    rule" costs on every request, a checkout and return on the
    plugin's count engine (``db/count_engine.py``), the count statement on
    an open connection, a bare ``SELECT 1`` round trip for scale, and the
    whole count as the hook runs it (checkout + statement).
    """
    import sqlalchemy as sa

    from cinder import context
    from cinder_backup_ext import compat
    from cinder_backup_ext.db import count_engine
    from cinder_backup_ext.db import dependents
    from cinder_backup_ext import policies

    ctxt = context.RequestContext(testbed.USER, testbed.PROJECT, is_admin=True)
    query = dependents.statement([backup_id], engine.dialect.name)

    def policy():
        compat.authorize(ctxt, policies.list_rules(), policies.SHOW_FLAGS,
                         {'project_id': testbed.PROJECT})

    counts = count_engine.engine()

    def checkout():
        with counts.connect():
            pass

    def count():
        dependents.count_children([backup_id])

    def timed(stage, conn=None):
        values = []
        for _ in range(runs):
            started = time.perf_counter()
            stage() if conn is None else stage(conn)
            values.append(time.perf_counter() - started)
        return statistics.median(values)

    policy()  # the enforcer's rules loaded, as Cinder's check leaves them
    stages = {'policy check': timed(policy),
              'checkout + return': timed(checkout)}
    with counts.connect() as conn:
        stages['count statement'] = timed(
            lambda c: c.execute(query).all(), conn)
        stages['SELECT 1 round trip'] = timed(
            lambda c: c.execute(sa.text('SELECT 1')).all(), conn)
    stages['count, as the hook runs it'] = timed(count)
    return stages


def worker(args):
    # Cinder's configuration must be complete before its modules load.
    import cinder.tests.functional  # noqa: F401 (eventlet, objects)
    from oslo_config import cfg
    from oslo_messaging import conffixture
    from sqlalchemy import event

    from cinder.common import config  # noqa: F401
    from cinder import rpc
    from cinder_backup_ext import compat
    from cinder_backup_ext.db import count_engine
    from cinder_backup_ext.db import migration

    tmp = tempfile.mkdtemp(prefix='cbe-bench-')
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    # Names of this run's own, dropped however the run ends, so that two
    # runs on one server never meet and a failed one leaves nothing.
    names = ['cbe_bench_%s_%s' % (kind, uuid.uuid4().hex[:8])
             for kind in ('api', 'count')]
    if args.engine != 'sqlite':
        atexit.register(testbed.drop_databases, args.engine, names)
    url = testbed.scratch_database(args.engine, names[0], tmp)
    paste_ini = os.path.join(sys.prefix, 'etc', 'cinder', 'api-paste.ini')
    cfg.CONF([], project='cinder', default_config_files=[])
    cfg.CONF.set_override('connection', url, 'database')
    cfg.CONF.set_override('auth_strategy', 'noauth')
    messaging = conffixture.ConfFixture(cfg.CONF)  # registers its options
    messaging.setUp()
    messaging.transport_url = 'fake:/'  # nothing here is sent
    cfg.CONF.set_override('policy_file', '/nonexistent/policy.yaml',
                          'oslo_policy')
    cfg.CONF.set_override('state_path', tmp)
    rpc.init(cfg.CONF)

    engine = compat.get_engine()
    compat.db_sync(engine)
    rows = testbed.backup_rows(args.rows, args.seed)
    testbed.insert(engine, rows)
    testbed.analyze(engine)
    apps = _apps(paste_ini)

    counter = []

    # Statements, not transaction control: SQLite's driver sends a BEGIN
    # of its own before each transaction.
    def seen(*args):
        if args[2].strip().upper() not in ('BEGIN', 'COMMIT', 'ROLLBACK'):
            counter.append(args[2])
    # Cinder's engine, and the plugin's own for the counts.
    for each in {engine, count_engine.engine()}:
        event.listen(each, 'before_cursor_execute', seen)
    live = [r['id'] for r in rows if not r['deleted']]
    rng = random.Random(args.seed)
    base = '/v3/%s/backups' % testbed.PROJECT
    result = {'engine': args.engine, 'rows': len(rows), 'api': {}}
    for indexed in (False, True):
        if indexed:
            migration.upgrade(engine)
            testbed.analyze(engine)
        key = 'index' if indexed else 'no index'
        shows = ['%s/%s' % (base, rng.choice(live)) for _ in range(50)]
        for label, paths in (
                ('detail?limit=1000',
                 ['%s/detail?limit=1000' % base]),
                ('show', shows)):
            _timed_requests(apps, paths, 2, counter)  # warm up both
            latencies, statements = _timed_requests(
                apps, paths, args.requests * (
                    args.show_factor if label == 'show' else 1), counter)
            result['api']['%s, %s' % (label, key)] = _summary(latencies,
                                                              statements)
        if indexed:
            result['stages'] = _show_stages(engine, rng.choice(live),
                                            args.requests * 50)
            for label, (latencies, statements) in _timed_writes(
                    engine, apps, counter, args.requests * 2).items():
                result['api']['%s, index' % label] = _summary(latencies,
                                                              statements)
        if indexed and args.page_sizes:
            result['pages'] = {}
            for size in args.page_sizes:
                latencies, _ = _timed_requests(
                    apps, ['%s/detail?limit=%d' % (base, size)],
                    args.requests, counter)
                result['pages'][size] = {
                    name: statistics.median(values)
                    for name, values in latencies.items()}

    # The count query alone, and the index build, on a larger table.
    count_url = testbed.scratch_database(args.engine, names[1], tmp)
    import sqlalchemy as sa
    count_engine = sa.create_engine(count_url)
    compat.db_sync(count_engine)
    started = time.perf_counter()
    if args.engine == 'sqlite':
        testbed.insert(count_engine,
                       testbed.backup_rows(args.count_rows, args.seed + 1),
                       chunk=20000)
    else:
        testbed.fill(count_engine, args.count_rows)
    fill_time = time.perf_counter() - started
    testbed.analyze(count_engine)
    with count_engine.connect() as conn:
        parents = [r[0] for r in conn.execute(sa.text(
            'SELECT parent_id FROM backups WHERE parent_id IS NOT NULL '
            'ORDER BY id LIMIT 1000'))]
    ids = sorted(set(parents))[:1000]

    # SQLite has no online build (and one writer at a time): no writer.
    writer = testbed.Writer(count_engine)
    if args.engine != 'sqlite':
        writer.start()
        time.sleep(0.3)
    started = time.perf_counter()
    migration.upgrade(count_engine)
    build = time.perf_counter() - started
    if args.engine != 'sqlite':
        writer.stop.set()
        writer.join()
    testbed.analyze(count_engine)
    pairs = _count_alone(count_engine, ids, args.count_runs)
    result['count'] = {
        'rows': args.count_rows, 'ids': len(ids), 'fill_s': fill_time,
        'without_s': statistics.median(a for a, _b in pairs),
        'with_s': statistics.median(b for _a, b in pairs),
        'speedup': testbed.bootstrap([(b, a) for a, b in pairs],
                                     testbed.ratio_of_medians),
        'plan_without': _explain(count_engine, ids, indexed=False),
        'plan_with': _explain(count_engine, ids),
        'build_s': build,
        'writer_worst_s': max(writer.latencies, default=0),
        'writer_inserts': len(writer.latencies),
        'writer_errors': len(writer.errors)}
    count_engine.dispose()
    engine.dispose()
    result['testbed.load_average'] = testbed.load_average()
    print(json.dumps(result))


# --- the report -------------------------------------------------------------

def report(results, plot):
    print('\nLatency through Cinder\'s v3 WSGI app, stock vs plugin, '
          'interleaved request by request (median / p95 ms; plugin-stock '
          'and plugin/stock of the medians with 95 % bootstrap intervals '
          'over the pairs; SQL statements per request)')
    header = '%-10s %-26s %15s %15s %24s %22s %5s %7s' % (
        'engine', 'request', 'stock', 'plugin', 'plugin-stock ms',
        'ratio', 'pairs', 'stmts')
    print(header)
    print('-' * len(header))
    for result in results:
        for label, apps in result['api'].items():
            stock, plugin = apps['stock'], apps['plugin']
            delta, ratio = apps['delta'], apps['ratio']
            print('%-10s %-26s %6.1f / %6.1f %6.1f / %6.1f '
                  '%+6.2f [%+6.2f, %+6.2f] %5.3f [%5.3f, %5.3f] %5d %3d/%-3d'
                  % (result['engine'], label,
                     stock['median'] * 1e3, stock['p95'] * 1e3,
                     plugin['median'] * 1e3, plugin['p95'] * 1e3,
                     delta[0] * 1e3, delta[1] * 1e3, delta[2] * 1e3,
                     ratio[0], ratio[1], ratio[2], apps['pairs'],
                     stock['statements'], plugin['statements']))
    print('\nThe plugin\'s part of a show, stage by stage (median µs of '
          'each stage run alone, with the index)')
    header = '%-28s' % 'stage' + ''.join(
        ' %11s' % r['engine'] for r in results)
    print(header)
    print('-' * len(header))
    for stage in results[0].get('stages', {}):
        print('%-28s' % stage + ''.join(
            ' %11.1f' % (r['stages'][stage] * 1e6) for r in results))
    print('\nThe count query alone (1000 ids), without and with the index '
          'interleaved on one table (speed-up with its 95 % interval), and '
          'the online index build')
    header = '%-11s %9s %12s %12s %22s %9s %14s' % (
        'engine', 'rows', 'no index ms', 'index ms', 'speed-up',
        'build s', 'worst insert')
    print(header)
    print('-' * len(header))
    for result in results:
        c = result['count']
        worst = ('%11.1f ms' % (c['writer_worst_s'] * 1e3)
                 if c['writer_inserts'] else '  (no writer)')
        print('%-11s %9d %12.2f %12.3f %6.0fx [%5.0f, %5.0f] %9.2f %s%s'
              % (result['engine'], c['rows'], c['without_s'] * 1e3,
                 c['with_s'] * 1e3, c['speedup'][0], c['speedup'][1],
                 c['speedup'][2], c['build_s'], worst,
                 ' (%d failed)' % c['writer_errors']
                 if c['writer_errors'] else ''))
    for result in results:
        c = result['count']
        print('\nEXPLAIN on %s, without the index:\n  %s\nwith it:\n  %s'
              % (result['engine'], '\n  '.join(c['plan_without']),
                 '\n  '.join(c['plan_with'])))
    print('\nLoad average (1 min) at the end of each engine\'s run: %s'
          % ', '.join('%s %s' % (r['engine'], r.get('testbed.load_average'))
                      for r in results))
    if plot:
        _plot(results, plot)


def _plot(results, path):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for result in results:
        sizes = sorted(result.get('pages', {}), key=int)
        for name, style in (('stock', '--'), ('plugin', '-')):
            axes.plot([int(s) for s in sizes],
                      [result['pages'][s][name] * 1e3 for s in sizes],
                      style, marker='o',
                      label='%s, %s' % (result['engine'], name))
    axes.set_xscale('log')
    axes.set_xlabel('page size (limit) of GET /backups/detail')
    axes.set_ylabel('median latency, ms')
    axes.set_title('Cinder v3 API, stock vs with cinder-backup-ext '
                   '(%d rows, indexed)' % results[0]['rows'])
    axes.legend(fontsize='small')
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print('\nPlot written to %s' % path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--engines', default='sqlite,mysql,postgresql')
    parser.add_argument('--rows', type=int, default=3000,
                        help='backup rows behind the API (full run: 100000)')
    parser.add_argument('--count-rows', type=int, default=20000,
                        help='rows for the count alone and the index build '
                             '(full run: 1000000)')
    parser.add_argument('--requests', type=int, default=10)
    parser.add_argument('--count-runs', type=int, default=20)
    parser.add_argument('--show-factor', type=int, default=10,
                        help='show requests per detail request (a show is '
                             'about 50x shorter; its pairs need numbers)')
    parser.add_argument('--load', action='store_true',
                        help='then Cinder under gunicorn with concurrent '
                             'clients (tools/bench/load.py); the --load-* '
                             'options are passed to it')
    parser.add_argument('--load-args', default='',
                        help='arguments for tools/bench/load.py, quoted')
    parser.add_argument('--page-sizes', type=lambda s: [
        int(x) for x in s.split(',')], default=[])
    parser.add_argument('--plot', help='write a PNG of latency by page size')
    parser.add_argument('--seed', type=int, default=20261125)
    parser.add_argument('--engine', help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args()
    if unknown:
        parser.error('unrecognized arguments: %s' % ' '.join(unknown))
    if args.plot and not args.page_sizes:
        args.page_sizes = [10, 100, 300, 1000]
    if args.engine:
        return worker(args)
    results = []
    for engine in args.engines.split(','):
        if not engine:
            continue
        command = [sys.executable, '-m', 'tools.bench.run',
                   '--engine', engine] + sys.argv[1:]
        print('Running %s ...' % engine, file=sys.stderr, flush=True)
        out = subprocess.run(command, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONWARNINGS='ignore'))
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if results:
        report(results, args.plot)
    if args.load:
        import shlex
        from tools.bench import load
        return load.main(shlex.split(args.load_args))
    return 0


if __name__ == '__main__':
    sys.exit(main())
