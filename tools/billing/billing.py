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

"""The steps of tools/billing/run.sh that talk to the services' APIs.

    billing.py keystone-setup --admin CLOUDS.yaml --password P --gnocchi-url U
        --cloudkitty-url U
    billing.py gnocchi-setup   --admin CLOUDS.yaml
    billing.py cloudkitty-setup --admin CLOUDS.yaml
    billing.py seed-state --ck-conf FILE PROJECT_ID...
    billing.py scenario --cloud-dir DIR --out FILE
    billing.py gnocchi-check --admin CLOUDS.yaml --positive FILE --bus FILE
        --negative FILE --bus FILE
    billing.py cloudkitty-check --admin CLOUDS.yaml --positive FILE
        --negative FILE

Every check raises (exit status 1) when what it expects is not there.
Every wait is for a state (measures in Gnocchi, a window rated by
CloudKitty); WAIT_LIMIT only bounds a service that is broken, and the
message then says what was last seen.
"""

import argparse
import collections
import datetime
import decimal
import json
import os
import subprocess
import sys
import time

import openstack
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ETC = os.path.join(TOP, 'etc')
HASHMAP = os.path.join(ETC, 'cloudkitty', 'hashmap-backup.yaml')
RESOURCE_TYPE = os.path.join(ETC, 'gnocchi',
                             'cinder_backup.resource_type.json')
METERS = os.path.join(ETC, 'ceilometer', 'meters.d', 'cinder-backup-ext.yaml')
PERIOD = datetime.timedelta(seconds=60)  # CloudKitty's [collect] period
# Each state below takes seconds on a healthy machine, loaded or not;
# this bounds only a broken service.
WAIT_LIMIT = 900


class Failed(Exception):
    pass


def log(msg, *args):
    print('billing: ' + (msg % args if args else msg), flush=True)


def admin_session(clouds_yaml):
    os.environ['OS_CLIENT_CONFIG_FILE'] = clouds_yaml
    return openstack.connect(cloud='cbe-admin').session


def api(session, service_type, method, path, **kw):
    resp = session.request(path, method, endpoint_filter={
        'service_type': service_type, 'interface': 'public',
        'region_name': 'RegionOne'}, raise_exc=False, **kw)
    if resp.status_code >= 400:
        raise Failed('%s %s %s: %s %s' % (service_type, method, path,
                                          resp.status_code, resp.text[:500]))
    return resp.json() if resp.content else None


def wait_for(what, probe, interval=2):
    """Poll probe() -> (value, seen) until value; seen says what is there."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        value, seen = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failed('waited %ds for %s; last seen: %s'
                         % (WAIT_LIMIT, what, seen))
        time.sleep(interval)


def utc(ts):
    dt = datetime.datetime.fromisoformat(ts)
    if dt.tzinfo is None:  # Cinder, Gnocchi and CloudKitty speak UTC
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt


def minute(ts):
    """The start of the CloudKitty window (period) that ts falls in."""
    return utc(ts).replace(second=0, microsecond=0)


# --- setup -----------------------------------------------------------------
def keystone_setup(args):
    """The billing services' user, services and endpoints, in one go."""
    os.environ['OS_CLIENT_CONFIG_FILE'] = args.admin
    conn = openstack.connect(cloud='cbe-admin')
    idm = conn.identity
    service_project = idm.find_project('service')
    user = idm.find_user('cbe-billing') or idm.create_user(
        name='cbe-billing', password=args.password,
        default_project_id=service_project.id)
    for role in ('admin', 'service'):
        idm.assign_project_role_to_user(service_project, user,
                                        idm.find_role(role))
    for name, stype, url in (('gnocchi', 'metric', args.gnocchi_url),
                             ('cloudkitty', 'rating', args.cloudkitty_url)):
        svc = idm.find_service(name) or idm.create_service(name=name,
                                                           type=stype)
        have = {e.interface for e in idm.endpoints(service_id=svc.id)}
        for interface in ('public', 'internal', 'admin'):
            if interface not in have:
                idm.create_endpoint(service_id=svc.id, interface=interface,
                                    url=url, region_id='RegionOne')
        log('keystone: %s (%s) at %s', name, stype, url)


def gnocchi_setup(args):
    """The operator's step: the cinder_backup resource type."""
    session = admin_session(args.admin)
    with open(RESOURCE_TYPE) as f:
        body = json.load(f)
    rt = api(session, 'metric', 'POST', '/v1/resource_type', json=body)
    log('gnocchi: resource type %s created: %s', rt['name'],
        ', '.join(sorted(rt['attributes'])))


def cloudkitty_setup(args):
    """etc/cloudkitty/hashmap-backup.yaml through CloudKitty's v1 API."""
    session = admin_session(args.admin)
    with open(HASHMAP) as f:
        hm = yaml.safe_load(f)
    base = '/v1/rating'
    api(session, 'rating', 'PUT', base + '/modules/hashmap',
        json={'module_id': 'hashmap', 'enabled': True, 'priority': 1})
    svc = api(session, 'rating', 'POST', base + '/module_config/hashmap/'
              'services', json={'name': hm['service']})
    field = api(session, 'rating', 'POST', base + '/module_config/hashmap/'
                'fields', json={'service_id': svc['service_id'],
                                'name': hm['field']})
    # CloudKitty 25's rules are valid from their "start" (by default their
    # creation) and rate nothing before it: these are valid from a few
    # minutes back, before the first period seed-state lets it rate (a
    # start in the past needs force).
    start = datetime.datetime.now(datetime.timezone.utc).replace(
        second=0, microsecond=0, tzinfo=None) - datetime.timedelta(minutes=5)
    for value, cost in hm['mappings'].items():
        api(session, 'rating', 'POST', base + '/module_config/hashmap/'
            'mappings', params={'force': 'true'},
            json={'field_id': field['field_id'], 'value': value,
                  'cost': str(cost), 'type': hm['type'],
                  'start': start.isoformat()})
    mods = api(session, 'rating', 'GET', base + '/modules')
    enabled = [m['module_id'] for m in mods['modules'] if m['enabled']]
    log('cloudkitty: rating modules enabled: %s; hashmap service %s, field '
        '%s, %s (valid from %s)', enabled, hm['service'], hm['field'],
        ', '.join('%s=%s' % kv for kv in hm['mappings'].items()), start)
    if 'hashmap' not in enabled:
        raise Failed('hashmap is not enabled')


def seed_state(args):
    """Start rating the scopes now, not at the start of the month.

    A scope CloudKitty has never seen is rated from the first day of the
    month on, one period after the other; this sets where it starts, as
    CloudKitty's own state manager records it.
    """
    from cloudkitty import service
    from cloudkitty import storage_state
    from cloudkitty.utils import tz as tzutils
    service.prepare_service(['seed', '--config-file', args.ck_conf], [])
    state = storage_state.StateManager()
    now = tzutils.localized_now().replace(second=0, microsecond=0)
    start = now - datetime.timedelta(minutes=args.minutes_back)
    for project_id in args.projects:
        state.set_last_processed_timestamp(
            project_id, start, fetcher='gnocchi', collector='gnocchi',
            scope_key='project_id')
        log('cloudkitty: scope %s rated from %s', project_id,
            start.isoformat())


# --- the scenario ------------------------------------------------------------
def cinder_parent_id(cloud_dir, backup_id):
    """The parent_id in Cinder's database (its API does not show it)."""
    import pymysql
    env = {}
    with open(os.path.join(cloud_dir, 'cloud.env')) as f:
        for line in f:
            key, sep, value = line.strip().partition('=')
            if sep and not key.startswith('#'):
                env[key] = value
    conn = pymysql.connect(host='127.0.0.1', user='root', database=env['DB'])
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT parent_id FROM backups WHERE id = %s',
                        (backup_id,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def scenario(args):
    """A volume, a full and two incremental backups, then the usage audit.

    As the project member; cinder-volume-usage-audit over the period sends
    backup.exists, as it does in production.
    """
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(args.cloud_dir,
                                                       'clouds.yaml')
    conn = openstack.connect(cloud='cbe-member')
    bs = conn.block_storage
    started = datetime.datetime.now(datetime.timezone.utc)
    vol = bs.create_volume(size=args.size, name='billing-vol')
    vol = bs.wait_for_status(vol, 'available', failures=['error'],
                             interval=2, wait=300)
    backups = []
    for i, incremental in enumerate((False, True, True)):
        b = bs.create_backup(volume_id=vol.id, name='billing-%d' % i,
                             is_incremental=incremental)
        b = bs.wait_for_status(b, 'available', failures=['error'],
                               interval=2, wait=300)
        b = bs.get_backup(b.id)
        backups.append({'id': b.id, 'name': b.name, 'size': b.size,
                        'parent_id': cinder_parent_id(args.cloud_dir, b.id),
                        'expected': 'incremental' if incremental else 'full'})
        log('%s: backup %s (%s, %s GiB, parent %s)', args.label, b.id,
            backups[-1]['expected'], b.size, backups[-1]['parent_id'])
    ended = datetime.datetime.now(datetime.timezone.utc)
    fmt = '%Y-%m-%d %H:%M:%S'
    audit = ['cinder-volume-usage-audit', '--config-file',
             os.path.join(args.cloud_dir, 'cinder.conf'),
             '--start_time', (started - datetime.timedelta(minutes=1))
             .strftime(fmt),
             '--end_time', (ended + datetime.timedelta(minutes=1))
             .strftime(fmt)]
    log('%s: %s', args.label, ' '.join(audit[:1] + audit[3:]))
    subprocess.run(audit, check=True, stdout=subprocess.DEVNULL)
    out = {'label': args.label, 'project_id': conn.current_project_id,
           'volume_id': vol.id, 'backups': backups,
           'started': started.isoformat()}
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)


# --- the checks --------------------------------------------------------------
def gnocchi_resources(session, run):
    return api(session, 'metric', 'POST',
               '/v1/search/resource/cinder_backup',
               json={'=': {'project_id': run['project_id']}})


def bus_measures(run, bus):
    """What Gnocchi must hold: {backup id: {window: max size}}.

    From the notifications the tap recorded on the cloud's topic (Cinder
    sends each to Ceilometer's topic too, with the same timestamp, which
    becomes the sample's): those of the event types that meter backup.size.
    """
    with open(METERS) as f:
        meter, = [m for m in yaml.safe_load(f)['metric']
                  if m['name'] == 'backup.size']
    want = {b['id']: {} for b in run['backups']}
    with open(bus) as f:
        for line in f:
            m = json.loads(line)
            backup = want.get(m['payload'].get('backup_id'))
            if m['event_type'] in meter['event_type'] and backup is not None:
                window = minute(m['metadata']['timestamp'])
                backup[window] = max(backup.get(window, 0),
                                     m['payload']['size'])
    for backup_id, windows in want.items():
        if not windows:
            raise Failed('%s: no backup.size event of backup %s on the bus'
                         % (run['label'], backup_id))
    return want


def gnocchi_measures(session, resource, refresh=False):
    measures = api(session, 'metric', 'GET', '/v1/metric/%s/measures'
                   % resource['metrics']['backup.size'],
                   params={'aggregation': 'max', 'granularity': 60,
                           'refresh': 'true' if refresh else 'false'})
    return {minute(ts): value for ts, _gran, value in measures}


def check_gnocchi(session, run, bus, positive):
    """Wait until Gnocchi holds every measure the bus says it must."""
    want = bus_measures(run, bus)

    def probe():
        res = {r['id']: r for r in gnocchi_resources(session, run)
               if r['id'] in want}
        seen, done = [], len(res) == len(want)
        for backup_id, windows in want.items():
            got = (gnocchi_measures(session, res[backup_id], refresh=True)
                   if backup_id in res else None)
            if got is None or any(w not in got for w in windows):
                done = False
            seen.append('%s: %s, events on the bus at %s' % (
                backup_id, 'no resource' if got is None else
                'measures at %s' % sorted(w.strftime('%H:%M') for w in got),
                sorted(w.strftime('%H:%M') for w in windows)))
        return (res if done else None), '; '.join(seen)
    by_id = wait_for('Gnocchi to hold the measures of %s' % run['label'],
                     probe)
    for backup_id, windows in want.items():
        got = gnocchi_measures(session, by_id[backup_id])
        if got != windows:
            raise Failed('%s: backup %s has measures %s in Gnocchi, the bus '
                         'says %s' % (run['label'], backup_id, got, windows))
    log('%s: Gnocchi holds the %d measures of the bus; resources of type '
        'cinder_backup in project %s:', run['label'],
        sum(map(len, want.values())), run['project_id'])
    for b in run['backups']:
        r = by_id[b['id']]
        log('  %s  backup_type=%-12s parent_id=%s  (created as %s)',
            r['id'], r.get('backup_type'), r.get('parent_id'), b['expected'])
    for b in run['backups']:
        r = by_id[b['id']]
        want_type = b['expected'] if positive else None
        if r.get('backup_type') != want_type:
            raise Failed('%s: backup %s has backup_type %r in Gnocchi, '
                         'expected %r' % (run['label'], b['id'],
                                          r.get('backup_type'), want_type))
        if positive and r.get('parent_id') != b['parent_id']:
            raise Failed('%s: backup %s has parent_id %r in Gnocchi, '
                         'Cinder says %r' % (run['label'], b['id'],
                                             r.get('parent_id'),
                                             b['parent_id']))
        if r.get('volume_id') != run['volume_id']:
            raise Failed('%s: backup %s volume_id %r' % (
                run['label'], b['id'], r.get('volume_id')))
    return max(max(w) for w in want.values())


def expected_amounts(session, run, prices):
    """What CloudKitty must charge, computed from Gnocchi's own measures.

    CloudKitty rates one point per backup and period: the max of the
    period's measures, at the price of the backup's backup_type. Its
    collector asks Gnocchi with use_history: a period counts the measures
    of the resource revisions that began before it ended. A sample's time
    is its notification's and Ceilometer creates the resource a moment
    later, so on a loaded machine a backup's first period can end in
    between: that measure is not rated.
    """
    want = collections.defaultdict(lambda: [decimal.Decimal(0),
                                            decimal.Decimal(0)])
    ids = {b['id'] for b in run['backups']}
    windows = []
    for r in gnocchi_resources(session, run):
        if r['id'] not in ids:
            continue
        created = min(utc(h['revision_start']) for h in api(
            session, 'metric', 'GET',
            '/v1/resource/cinder_backup/%s/history' % r['id']))
        for window, value in gnocchi_measures(session, r).items():
            windows.append(window)
            if window + PERIOD <= created:
                log('%s: backup %s: its measure of %s is not rated, the '
                    'resource was created in Gnocchi at %s', run['label'],
                    r['id'], window.isoformat(), created.isoformat())
                continue
            qty = decimal.Decimal(str(value))
            price = prices.get(r.get('backup_type'), decimal.Decimal(0))
            want[r.get('backup_type')][0] += qty
            want[r.get('backup_type')][1] += qty * price
    return want, min(windows), max(windows)


def summary(session, run, begin, end):
    body = api(session, 'rating', 'GET', '/v2/summary', params={
        'groupby': ['backup_type', 'type', 'project_id'],
        'filters': 'project_id:%s' % run['project_id'],
        'begin': begin.isoformat(), 'end': end.isoformat(),
        'response_format': 'object'})
    rows = [row for row in body['results'] if row.get('type') == 'backup']
    for row in rows:  # a storage may give "" for a missing group key
        row['backup_type'] = row.get('backup_type') or None
    return rows


def wait_rated(session, runs):
    """Wait until CloudKitty has rated each project's last window.

    Its processor records, per scope, the start of the last window it
    rated (and stored) as last_processed_timestamp.
    """
    need = {run['project_id']: last for run, last in runs}

    def probe():
        body = api(session, 'rating', 'GET', '/v2/scope',
                   params={'scope_id': sorted(need)})
        state = {s['scope_id']: minute(s['last_processed_timestamp'])
                 for s in body['results']}
        seen = ', '.join('%s rated up to the window of %s (needs %s)' % (
            p, state[p].strftime('%H:%M') if p in state else '-',
            last.strftime('%H:%M')) for p, last in need.items())
        return all(p in state and state[p] >= last
                   for p, last in need.items()), seen
    wait_for('CloudKitty to rate the last window of each project', probe)


def check_cloudkitty(session, run, expected, prices, positive):
    want, first, last = expected
    rows = summary(session, run, first, last + PERIOD)
    log('%s: CloudKitty summary for project %s, %s to %s, grouped by '
        'backup_type:', run['label'], run['project_id'], first.isoformat(),
        (last + PERIOD).isoformat())
    for row in sorted(rows, key=lambda r: str(r.get('backup_type'))):
        log('  backup_type=%-12s qty=%-6s GiB-periods  rate=%s',
            row.get('backup_type'), row['qty'], row['rate'])
    got = {row.get('backup_type'): row for row in rows}
    for btype, (qty, amount) in sorted(want.items(), key=str):
        row = got.get(btype)
        rate = decimal.Decimal(str(row['rate'])) if row else None
        rated_qty = decimal.Decimal(str(row['qty'])) if row else None
        log('  expected %-12s qty=%s amount=%s; rated qty=%s amount=%s',
            btype, qty, amount, rated_qty, rate)
        if rated_qty != qty:
            raise Failed('%s: CloudKitty rated %s GiB-periods of %s backups,'
                         ' Gnocchi holds %s' % (run['label'], rated_qty,
                                                btype, qty))
        if abs(rate - amount) > decimal.Decimal('0.0001'):
            raise Failed('%s: CloudKitty rated %s backups %s, expected %s'
                         % (run['label'], btype, rate, amount))
    if set(got) != set(want):
        raise Failed('%s: CloudKitty groups %s, expected %s' % (
            run['label'], sorted(got, key=str), sorted(want, key=str)))
    if positive:
        if set(got) != {'full', 'incremental'}:
            raise Failed('positive: expected full and incremental groups')
        unit = {k: decimal.Decimal(str(got[k]['rate']))
                / decimal.Decimal(str(got[k]['qty'])) for k in got}
        log('  price per GiB-period: %s', ', '.join(
            '%s %s' % (k, unit[k].normalize()) for k in sorted(unit)))
        for k in unit:
            if abs(unit[k] - prices[k]) > decimal.Decimal('0.000001'):
                raise Failed('%s priced at %s, configured %s'
                             % (k, unit[k], prices[k]))
    else:
        if set(got) != {None}:
            raise Failed('negative: expected one group without backup_type,'
                         ' got %s' % sorted(got, key=str))


def load_runs(args):
    runs = []
    for path, positive in ((args.positive, True), (args.negative, False)):
        with open(path) as f:
            runs.append((json.load(f), positive))
    return runs


def gnocchi_check(args):
    """Gnocchi holds every measure; then the last window must be over.

    CloudKitty rates each window once, when it is over ([collect]
    wait_periods = 1: cloudkitty.utils.check_time_state gives the window
    [T, T + period) once T + wait_periods * period is past): run.sh starts
    its processor only after this, so its first cycle rates every window,
    complete.
    """
    session = admin_session(args.admin)
    last = max(check_gnocchi(session, run, bus, positive)
               for (run, positive), bus in zip(load_runs(args), args.bus))
    over = last + PERIOD
    wait = (over - datetime.datetime.now(datetime.timezone.utc)
            ).total_seconds()
    log('the last window with a measure ends at %s%s', over.isoformat(),
        ': waiting %.0fs for it to be over' % wait if wait > 0 else '')
    if wait > 0:
        time.sleep(wait + 1)


def cloudkitty_check(args):
    session = admin_session(args.admin)
    with open(HASHMAP) as f:
        hm = yaml.safe_load(f)
    prices = {k: decimal.Decimal(str(v)) for k, v in hm['mappings'].items()}
    runs = [(run, expected_amounts(session, run, prices), positive)
            for run, positive in load_runs(args)]
    wait_rated(session, [(run, expected[2]) for run, expected, _ in runs])
    for run, expected, positive in runs:
        check_cloudkitty(session, run, expected, prices, positive)
    log('all checks passed')


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('keystone-setup')
    p.add_argument('--admin', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--gnocchi-url', required=True)
    p.add_argument('--cloudkitty-url', required=True)
    p.set_defaults(func=keystone_setup)
    p = sub.add_parser('gnocchi-setup')
    p.add_argument('--admin', required=True)
    p.set_defaults(func=gnocchi_setup)
    p = sub.add_parser('cloudkitty-setup')
    p.add_argument('--admin', required=True)
    p.set_defaults(func=cloudkitty_setup)
    p = sub.add_parser('seed-state')
    p.add_argument('--ck-conf', required=True)
    p.add_argument('--minutes-back', type=int, default=2)
    p.add_argument('projects', nargs='+')
    p.set_defaults(func=seed_state)
    p = sub.add_parser('scenario')
    p.add_argument('--cloud-dir', required=True)
    p.add_argument('--label', required=True)
    p.add_argument('--size', type=int, default=1)
    p.add_argument('--out', required=True)
    p.set_defaults(func=scenario)
    p = sub.add_parser('gnocchi-check')
    p.add_argument('--admin', required=True)
    p.add_argument('--positive', required=True)
    p.add_argument('--negative', required=True)
    p.add_argument('--bus', required=True, action='append',
                   help="the tap's notifications of each cloud, in order")
    p.set_defaults(func=gnocchi_check)
    p = sub.add_parser('cloudkitty-check')
    p.add_argument('--admin', required=True)
    p.add_argument('--positive', required=True)
    p.add_argument('--negative', required=True)
    p.set_defaults(func=cloudkitty_check)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Failed as exc:
        print('billing: FAILED: %s' % exc, file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
