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

"""``os-backup-chains`` on a volume with many backups, per engine.

    python -m tools.bench.chains                      # smoke size, seconds
    python -m tools.bench.chains --backups 1000 --requests 30   # the full run

For each engine (SQLite file, MariaDB, PostgreSQL), in a process of its
own: a scratch database gets Cinder's schema (Cinder's migrations) and this
package's index; one volume holds ``--backups`` backups as ONE chain (a
full and N-1 incrementals, depth N-1), another the same number as chains
of ``--chain-length`` (10), and ``--other-rows`` backups of other volumes
surround them. Cinder's real v3 WSGI app (api-paste.ini, the plugin in
``osapi_volume_extension``; ``tools/cinder_app.py``) serves,
in process:

- ``GET /os-backup-chains/{leaf}``: show, the chain of the newest backup,
  before and after every member's stored bytes are recorded (the same
  statements either way);
- ``GET /os-backup-chains?volume_id=V``: list, every chain of the volume;
- for scale, Cinder's own ``GET /backups/detail?volume_id=V&limit=N`` of
  the same rows, from a stock app (no plugin).

Each request's SQL statements are counted with a SQLAlchemy event on
Cinder's engine (transaction control excluded), and the latency is taken
around the WSGI call. Servers are found as the tests find them
(``openstack_citest``, ``tools/test-setup.sh``); an engine whose server is
absent is reported as skipped. Every scratch database is dropped.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from tools import testbed

ADMIN_URLS = {
    'mysql': 'mysql+pymysql://openstack_citest:openstack_citest@'
             '127.0.0.1/%s',
    'postgresql': 'postgresql+psycopg2://openstack_citest:openstack_citest'
                  '@127.0.0.1/%s',
}
ADMIN_DB = {'mysql': '', 'postgresql': 'postgres'}
PROJECT = 'c4a1b2e0c0de4c1e9b1a6c0ffee00001'
USER = 'c4a1b2e0c0de4c1e9b1a6c0ffee00002'
TRANSACTION = ('BEGIN', 'COMMIT', 'ROLLBACK')


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1,
                       int(round(fraction * (len(ordered) - 1))))]


# --- the scratch database ----------------------------------------------------

def _admin(engine_name):
    import sqlalchemy as sa
    return sa.create_engine(ADMIN_URLS[engine_name] % ADMIN_DB[engine_name],
                            isolation_level='AUTOCOMMIT')


def create_database(engine_name, name, tmp):
    if engine_name == 'sqlite':
        return 'sqlite:///%s' % os.path.join(tmp, name + '.db')
    import sqlalchemy as sa
    admin = _admin(engine_name)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE %s' % name))
    finally:
        admin.dispose()
    return ADMIN_URLS[engine_name] % name


def drop_database(engine_name, name):
    if engine_name == 'sqlite':
        return  # in the temporary directory
    import sqlalchemy as sa
    admin = _admin(engine_name)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s%s' % (
                name, ' WITH (FORCE)' if engine_name == 'postgresql'
                else '')))
    finally:
        admin.dispose()


# --- the rows --------------------------------------------------------------

def layout_rows(volume_id, count, chain_length, start, first_number):
    """``count`` backups of one volume in chains of ``chain_length``.

    Oldest first, one second apart; each incremental's parent is the
    backup before it in its chain. ``num_dependent_backups`` is right.
    """
    rows = []
    parent = None
    for number in range(count):
        if number % chain_length == 0:
            parent = None
        backup_id = str(uuid.uuid4())
        rows.append(dict(
            id=backup_id, volume_id=volume_id, parent_id=parent,
            deleted=False, status='available',
            num_dependent_backups=0 if (number + 1) % chain_length == 0
            or number == count - 1 else 1,
            project_id=PROJECT, user_id=USER, host='bench',
            availability_zone='nova',
            display_name='b%d' % (first_number + number),
            container='backups',
            service='cinder.backup.drivers.posix.PosixBackupDriver',
            fail_reason=None, size=1, object_count=4,
            created_at=start + datetime.timedelta(seconds=number),
            data_timestamp=start + datetime.timedelta(seconds=number)))
        parent = backup_id
    return rows


def other_rows(count, seed, start):
    """Backups of other volumes and projects (the tests' mixed chains)."""
    rows, _children = testbed.chain_rows(count, seed=seed)
    for number, row in enumerate(rows):
        row.update(project_id=uuid.UUID(int=number % 7).hex,
                   user_id=USER, host='bench', availability_zone='nova',
                   display_name='o%d' % number, container='backups',
                   service='cinder.backup.drivers.posix.PosixBackupDriver',
                   fail_reason=None, size=1, object_count=4,
                   created_at=start + datetime.timedelta(seconds=number),
                   data_timestamp=start)
    return rows


# --- one engine, in its own process ------------------------------------------

def _measure(app, path, requests, counter, check):
    """Warm up, then time ``requests`` GETs; the body is checked once."""
    import webob
    headers = {'X-Auth-Token': '%s:%s' % (USER, PROJECT),
               'OpenStack-API-Version': 'volume 3.0',
               'Accept': 'application/json'}
    latencies, statements = [], []
    for number in range(requests + 1):
        request = webob.Request.blank('/v3/%s%s' % (PROJECT, path),
                                      headers=headers)
        counter[:] = []
        started = time.perf_counter()
        response = request.get_response(app)
        elapsed = time.perf_counter() - started
        if response.status_int != 200:
            raise AssertionError('%s: %s %s' % (path, response.status,
                                                response.body[:300]))
        if number == 0:  # the warm-up: checked, not timed
            items = check(response.json_body)
            continue
        latencies.append(elapsed)
        statements.append(len(counter))
    return {'median': statistics.median(latencies),
            'p90': percentile(latencies, 0.9),
            'statements': statistics.median(statements),
            'statements_max': max(statements), 'items': items}


def worker(args):
    tmp = tempfile.mkdtemp(prefix='cbe-bench-chains-')
    name = 'cbe_bench_chains_%s' % uuid.uuid4().hex[:8]
    try:
        url = create_database(args.engine, name, tmp)
    except Exception as exc:  # no server: the engine is skipped
        print(json.dumps({'engine': args.engine,
                          'skipped': '%s: %s' % (type(exc).__name__,
                                                 str(exc)[:200])}))
        return 0
    try:
        result = _run(args, url, tmp)
    finally:
        import shutil

        from cinder_backup_ext import compat
        try:
            compat.get_engine().dispose()  # Cinder's pool, before the drop
            drop_database(args.engine, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    return 0


def _run(args, url, tmp):
    from tools import cinder_app
    cinder_app.configure(connection=url, state_path=tmp)
    from oslo_config import cfg
    from sqlalchemy import event
    # Cinder's list filters (volume_id on /backups/detail), as installed.
    cfg.CONF.set_override('resource_query_filters_file', os.path.join(
        sys.prefix, 'etc', 'cinder', 'resource_filters.json'))
    limit = max(args.backups, 1000)
    cfg.CONF.set_override('osapi_max_limit', limit)

    from cinder_backup_ext import compat
    from cinder_backup_ext.db import migration
    from cinder_backup_ext.db import sizes

    engine = compat.get_engine()
    compat.db_sync(engine)
    migration.upgrade(engine)  # the index and the sizes table, as deployed
    start = datetime.datetime(2026, 11, 1)
    layouts = {}
    rows = other_rows(args.other_rows, args.seed, start)
    for label, length in (('1 chain of %d' % args.backups, args.backups),
                          ('%d chains of %d' % (
                              -(-args.backups // args.chain_length),
                              args.chain_length), args.chain_length)):
        volume_id = str(uuid.uuid4())
        mine = layout_rows(volume_id, args.backups, length,
                           start + datetime.timedelta(days=1 + len(layouts)),
                           len(rows))
        layouts[label] = (volume_id, mine)
        rows += mine
    testbed.insert(engine, rows)
    testbed.analyze(engine)
    apps = {name: cinder_app.load_app(extensions)
            for name, extensions in cinder_app.EXTENSIONS.items()}

    counter = []
    event.listen(engine, 'before_cursor_execute',
                 lambda *a: a[2].strip().upper() in TRANSACTION
                 or counter.append(a[2]))
    result = {'engine': args.engine, 'rows': len(rows), 'layouts': {}}
    for label, (volume_id, mine) in layouts.items():
        chains = -(-len(mine) // (len(mine) if label.startswith('1 ')
                                  else args.chain_length))

        def show_check(body, mine=mine):
            members = body['backup_chain']['backups']
            assert body['backup_chain']['newest_backup_id'] == mine[-1]['id']
            return len(members)

        def list_check(body, volume_id=volume_id, chains=chains):
            found = body['backup_chains']
            assert len(found) == chains, (len(found), chains)
            assert all(c['volume_id'] == volume_id for c in found)
            assert sum(c['backup_count'] for c in found) == args.backups
            return sum(c['backup_count'] for c in found)

        def detail_check(body, mine=mine):
            assert len(body['backups']) == len(mine), len(body['backups'])
            return len(body['backups'])

        def sized_check(body):
            # Every member's bytes known: the chain has its total.
            chain = body['backup_chain']
            assert chain['stored_bytes'] == chain['backup_count'] * 1024
            return show_check(body)

        measured = {
            'chain show': _measure(
                apps['plugin'], '/os-backup-chains/%s' % mine[-1]['id'],
                args.requests, counter, show_check),
            'chain list': _measure(
                apps['plugin'], '/os-backup-chains?volume_id=%s' % volume_id,
                args.requests, counter, list_check),
            'backups/detail (stock)': _measure(
                apps['stock'], '/backups/detail?volume_id=%s&limit=%d'
                % (volume_id, limit), args.requests, counter, detail_check),
        }
        # The same show once the notifier has recorded every member's
        # stored bytes: the same statements (an outer join), bytes shown.
        for row in mine:
            sizes.record(engine, row['id'], sizes.Size(1024, 1))
        measured['chain show, sizes known'] = _measure(
            apps['plugin'], '/os-backup-chains/%s' % mine[-1]['id'],
            args.requests, counter, sized_check)
        result['layouts'][label] = measured
    return result


# --- the report -------------------------------------------------------------

def report(results, args):
    print('\nos-backup-chains on a volume with %d backups, through Cinder\'s '
          'v3 WSGI app in process (%d other backups in the table; %d timed '
          'requests each)' % (args.backups, args.other_rows, args.requests))
    header = '%-11s %-18s %-23s %6s %6s %10s %9s' % (
        'engine', 'volume', 'request', 'stmts', 'items', 'median ms',
        'p90 ms')
    print(header)
    print('-' * len(header))
    for result in results:
        if 'skipped' in result:
            print('%-11s skipped: %s' % (result['engine'], result['skipped']))
            continue
        for label, measured in result['layouts'].items():
            for request, m in measured.items():
                stmts = '%d' % m['statements']
                if m['statements_max'] != m['statements']:
                    stmts += '-%d' % m['statements_max']
                print('%-11s %-18s %-23s %6s %6d %10.1f %9.1f' % (
                    result['engine'], label, request, stmts, m['items'],
                    m['median'] * 1e3, m['p90'] * 1e3))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--engines', default='sqlite,mysql,postgresql')
    parser.add_argument('--backups', type=int, default=100,
                        help='backups on each measured volume (full run: '
                             '1000)')
    parser.add_argument('--chain-length', type=int, default=10)
    parser.add_argument('--other-rows', type=int, default=2000,
                        help='backups of other volumes in the table')
    parser.add_argument('--requests', type=int, default=5,
                        help='timed requests per measurement (full run: 30)')
    parser.add_argument('--seed', type=int, default=20261125)
    parser.add_argument('--engine', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.backups < 1 or args.chain_length < 1 or args.requests < 1:
        parser.error('--backups, --chain-length and --requests must be >= 1')
    if args.engine:
        return worker(args)
    results = []
    for engine in args.engines.split(','):
        command = [sys.executable, '-m', 'tools.bench.chains',
                   '--engine', engine] + (sys.argv[1:] if argv is None
                                          else list(argv))
        print('Running %s ...' % engine, file=sys.stderr, flush=True)
        started = time.monotonic()
        out = subprocess.run(command, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONWARNINGS='ignore'))
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print('  %s: %.0f s' % (engine, time.monotonic() - started),
              file=sys.stderr, flush=True)
    report(results, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
