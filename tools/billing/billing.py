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
    billing.py scenario --cloud-dir DIR --label L --out FILE [--stored-mib N]
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
import random
import subprocess
import sys
import time

import openstack
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ETC = os.path.join(TOP, 'etc')
sys.path.insert(0, TOP)
from tools import volume_data  # noqa: E402
HASHMAP = os.path.join(ETC, 'cloudkitty', 'hashmap-backup.yaml')
HASHMAP_STORED = os.path.join(ETC, 'cloudkitty', 'hashmap-backup-stored.yaml')
CK_METRICS = os.path.join(ETC, 'cloudkitty', 'metrics.yml')
RESOURCE_TYPE = os.path.join(ETC, 'gnocchi',
                             'cinder_backup.resource_type.json')
METERS = os.path.join(ETC, 'ceilometer', 'meters.d', 'cinder-backup-ext.yaml')
PERIOD = datetime.timedelta(seconds=60)  # CloudKitty's [collect] period
# The Ceilometer meters the job follows into Gnocchi and CloudKitty.
METERED = ('backup.size', 'backup.stored')
# Quantities and amounts that CloudKitty keeps as floats, compared to the
# decimals computed here: equal to a part in 10^9.
TOLERANCE = decimal.Decimal('1e-9')
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
    """etc/cloudkitty/hashmap-backup*.yaml through CloudKitty's v1 API."""
    session = admin_session(args.admin)
    base = '/v1/rating'
    api(session, 'rating', 'PUT', base + '/modules/hashmap',
        json={'module_id': 'hashmap', 'enabled': True, 'priority': 1})
    # CloudKitty 25's rules are valid from their "start" (by default their
    # creation) and rate nothing before it: these are valid from a few
    # minutes back, before the first period seed-state lets it rate (a
    # start in the past needs force).
    start = datetime.datetime.now(datetime.timezone.utc).replace(
        second=0, microsecond=0, tzinfo=None) - datetime.timedelta(minutes=5)
    mods = api(session, 'rating', 'GET', base + '/modules')
    enabled = [m['module_id'] for m in mods['modules'] if m['enabled']]
    log('cloudkitty: rating modules enabled: %s', enabled)
    if 'hashmap' not in enabled:
        raise Failed('hashmap is not enabled')
    for path in (HASHMAP, HASHMAP_STORED):
        with open(path) as f:
            hm = yaml.safe_load(f)
        svc = api(session, 'rating', 'POST', base + '/module_config/'
                  'hashmap/services', json={'name': hm['service']})
        field = api(session, 'rating', 'POST', base + '/module_config/'
                    'hashmap/fields', json={'service_id': svc['service_id'],
                                            'name': hm['field']})
        for value, cost in hm['mappings'].items():
            api(session, 'rating', 'POST', base + '/module_config/hashmap/'
                'mappings', params={'force': 'true'},
                json={'field_id': field['field_id'], 'value': value,
                      'cost': str(cost), 'type': hm['type'],
                      'start': start.isoformat()})
        log('cloudkitty: hashmap service %s, field %s, %s (valid from %s)',
            hm['service'], hm['field'], ', '.join(
                '%s=%s' % kv for kv in hm['mappings'].items()), start)


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
    backup.exists, as it does in production. With --stored-mib N, what
    each backup stores is known: the volume's file (file_volume_dir,
    filedriver.py) is filled with random data before the full, N MiB of
    it changed before the first incremental, nothing before the second.
    """
    os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.join(args.cloud_dir,
                                                       'clouds.yaml')
    conn = openstack.connect(cloud='cbe-member')
    bs = conn.block_storage
    started = datetime.datetime.now(datetime.timezone.utc)
    vol = bs.create_volume(size=args.size, name='billing-vol')
    vol = bs.wait_for_status(vol, 'available', failures=['error'],
                             interval=2, wait=300)
    stored = None
    if args.stored_mib:
        path = os.path.join(args.cloud_dir, 'volumes', vol.id)
        block, file_size = volume_data.backup_block_sizes(args.cloud_dir)
        seed = int(os.environ.get('BILLING_STORED_SEED')
                   or random.SystemRandom().randrange(1 << 32))
        rng = random.Random(seed)
        written = volume_data.fill_random(path)
        low = args.stored_mib * volume_data.MIB
        runs = volume_data.scatter(rng, written, block, low,
                                   args.stored_runs)
        stored = {'written': written, 'block': block,
                  'file_size': file_size, 'seed': seed, 'runs': runs,
                  'changed': low,
                  'touched': volume_data.touched_bytes(runs, block),
                  'expect': [(written, written), (low, low + 2 * block
                                                  * len(runs)), (0, 0)]}
        log('%s: volume %s: %d random bytes written to %s; '
            'backup_sha_block_size_bytes %d, backup_file_size %d',
            args.label, vol.id, written, path, block, file_size)
    backups = []
    for i, incremental in enumerate((False, True, True)):
        if stored and i == 1:
            volume_data.rewrite(path, stored['runs'], rng)
            log('%s: %d MiB changed in %d runs of %d bytes, none on a block '
                'edge (BILLING_STORED_SEED=%d): %d blocks touched, %d bytes',
                args.label, args.stored_mib, len(stored['runs']),
                stored['runs'][0][1], stored['seed'],
                stored['touched'] // stored['block'], stored['touched'])
        b = bs.create_backup(volume_id=vol.id, name='billing-%d' % i,
                             is_incremental=incremental)
        b = bs.wait_for_status(b, 'available', failures=['error'],
                               interval=2, wait=600)
        b = bs.get_backup(b.id)
        backups.append({'id': b.id, 'name': b.name, 'size': b.size,
                        'parent_id': cinder_parent_id(args.cloud_dir, b.id),
                        'expected': 'incremental' if incremental else 'full'})
        if stored:
            backups[-1]['stored'] = stored['expect'][i]
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
           'started': started.isoformat(), 'stored': stored}
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)


# --- the checks --------------------------------------------------------------
def meter_sources():
    """{meter: (event types, payload key)} from the shipped meter file."""
    with open(METERS) as f:
        meters = {m['name']: m for m in yaml.safe_load(f)['metric']}
    sources = {}
    for name in METERED:
        events, volume = meters[name]['event_type'], meters[name]['volume']
        prefix = '$.payload.'
        if not volume.startswith(prefix):
            raise Failed('%s: volume %r is not a payload key' % (name, volume))
        sources[name] = ([events] if isinstance(events, str) else events,
                         volume[len(prefix):])
    return sources


def ck_metrics():
    """{meter: its entry in etc/cloudkitty/metrics.yml}."""
    with open(CK_METRICS) as f:
        return yaml.safe_load(f)['metrics']


def gnocchi_resources(session, run):
    return api(session, 'metric', 'POST',
               '/v1/search/resource/cinder_backup',
               json={'=': {'project_id': run['project_id']}})


def bus_measures(run, bus):
    """What Gnocchi must hold: {(meter, backup id): {window: max value}}.

    From the notifications the tap recorded on the cloud's topic (Cinder
    sends each to Ceilometer's topic too, with the same timestamp, which
    becomes the sample's): those of the event types that meter backup.size
    and backup.stored. A null or absent value makes no measure: Ceilometer
    drops such a sample.
    """
    sources = meter_sources()
    ids = {b['id'] for b in run['backups']}
    want = {}
    with open(bus) as f:
        for line in f:
            m = json.loads(line)
            backup_id = m['payload'].get('backup_id')
            if backup_id not in ids:
                continue
            for meter, (events, key) in sources.items():
                value = m['payload'].get(key)
                if m['event_type'] not in events or value is None:
                    continue
                windows = want.setdefault((meter, backup_id), {})
                window = minute(m['metadata']['timestamp'])
                windows[window] = max(windows.get(window, value), value)
    for backup_id in sorted(ids):
        if ('backup.size', backup_id) not in want:
            raise Failed('%s: no backup.size event of backup %s on the bus'
                         % (run['label'], backup_id))
    return want


def gnocchi_measures(session, resource, meter, refresh=False):
    """{window: max} of the resource's metric, or None if it has none."""
    if meter not in resource['metrics']:
        return None
    measures = api(session, 'metric', 'GET', '/v1/metric/%s/measures'
                   % resource['metrics'][meter],
                   params={'aggregation': 'max', 'granularity': 60,
                           'refresh': 'true' if refresh else 'false'})
    return {minute(ts): value for ts, _gran, value in measures}


def check_gnocchi(session, run, bus, positive):
    """Wait until Gnocchi holds every measure the bus says it must."""
    want = bus_measures(run, bus)
    ids = {b['id'] for b in run['backups']}

    def probe():
        res = {r['id']: r for r in gnocchi_resources(session, run)
               if r['id'] in ids}
        seen, done = [], len(res) == len(ids)
        for (meter, backup_id), windows in sorted(want.items()):
            got = (gnocchi_measures(session, res[backup_id], meter,
                                    refresh=True)
                   if backup_id in res else None)
            if got is None or any(w not in got for w in windows):
                done = False
            seen.append('%s of %s: %s, events on the bus at %s' % (
                meter, backup_id, 'no resource' if backup_id not in res
                else 'no metric' if got is None else
                'measures at %s' % sorted(w.strftime('%H:%M') for w in got),
                sorted(w.strftime('%H:%M') for w in windows)))
        return (res if done else None), '; '.join(seen)
    by_id = wait_for('Gnocchi to hold the measures of %s' % run['label'],
                     probe)
    for (meter, backup_id), windows in sorted(want.items()):
        got = gnocchi_measures(session, by_id[backup_id], meter)
        if got != windows:
            raise Failed('%s: backup %s has %s measures %s in Gnocchi, the '
                         'bus says %s' % (run['label'], backup_id, meter, got,
                                          windows))
    for backup_id, r in by_id.items():
        metrics = sorted(m for m in r['metrics'] if m in METERED)
        expected = sorted(m for m, b in want if b == backup_id)
        if metrics != expected:
            raise Failed('%s: backup %s has the metrics %s in Gnocchi, the '
                         'bus says %s' % (run['label'], backup_id, metrics,
                                          expected))
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
    check_stored_gnocchi(run, want, positive)
    return max(max(w) for w in want.values())


def check_stored_gnocchi(run, want, positive):
    """backup.stored: each backup's one measure is what it wrote.

    Gnocchi holds what the bus carried (check_gnocchi); here that is what
    the scenario wrote: the full, the volume's bytes; the incremental,
    the N MiB changed, within a hash block at each end of each run
    (exactly the blocks the runs touch); the incremental of an unchanged
    volume, 0. Without the notification driver, no backup has one.
    """
    stored = [(b, want.get(('backup.stored', b['id'])))
              for b in run['backups']]
    if not positive:
        have = [b['id'] for b, windows in stored if windows]
        if have:
            raise Failed('%s: backups %s have backup.stored measures '
                         'without the notification driver' % (
                             run['label'], have))
        log('%s: no backup.stored measure (no stored_bytes on the bus)',
            run['label'])
        return
    made = run['stored']
    log('%s: backup.stored in Gnocchi, bytes (backup_sha_block_size_bytes '
        '%d, backup_file_size %d):', run['label'], made['block'],
        made['file_size'])
    for b, windows in stored:
        if not windows or len(windows) != 1:
            raise Failed('%s: backup %s has backup.stored measures %s, '
                         'expected one, from backup.create.end' % (
                             run['label'], b['id'], windows))
        [value] = windows.values()
        low, high = b['stored']
        log('  %s  %-11s %10d bytes = %9.4f MiB  (expected %d to %d)',
            b['id'], b['expected'], value, value / volume_data.MIB, low, high)
        if not low <= value <= high:
            raise Failed('%s: backup %s (%s) stored %d bytes, expected %d '
                         'to %d (BILLING_STORED_SEED=%d)' % (
                             run['label'], b['id'], b['expected'], value,
                             low, high, made['seed']))
    incremental = stored[1][1]
    [value] = incremental.values()
    if value != made['touched']:
        raise Failed('%s: the incremental stored %d bytes; the runs touch '
                     '%d bytes (BILLING_STORED_SEED=%d)' % (
                         run['label'], value, made['touched'], made['seed']))
    log('  the full stored the %d bytes written; the incremental %d MiB '
        'changed + %d bytes of partial blocks (%d runs); the unchanged '
        'incremental 0', made['written'], made['changed'] // volume_data.MIB,
        value - made['changed'], len(made['runs']))


def rateable(session, run):
    """What CloudKitty can rate, from Gnocchi's own measures.

    {meter: {backup id: {window: value}}}, the backups' backup_type, and
    the first and last window with a measure. Its collector asks Gnocchi
    with use_history: a period counts the measures of the resource
    revisions that began before it ended. A sample's time is its
    notification's and Ceilometer creates the resource a moment later, so
    on a loaded machine a backup's first period can end in between: that
    measure is not rated (backup.stored has only that one).
    """
    points = {meter: {} for meter in METERED}
    types, windows = {}, []
    ids = {b['id'] for b in run['backups']}
    for r in gnocchi_resources(session, run):
        if r['id'] not in ids:
            continue
        types[r['id']] = r.get('backup_type')
        created = min(utc(h['revision_start']) for h in api(
            session, 'metric', 'GET',
            '/v1/resource/cinder_backup/%s/history' % r['id']))
        for meter in METERED:
            for window, value in (gnocchi_measures(session, r, meter)
                                  or {}).items():
                windows.append(window)
                if window + PERIOD <= created:
                    log('%s: backup %s: its %s measure of %s is not rated, '
                        'the resource was created in Gnocchi at %s',
                        run['label'], r['id'], meter, window.isoformat(),
                        created.isoformat())
                    continue
                points[meter].setdefault(r['id'], {})[window] = value
    return points, types, min(windows), max(windows)


def expected_amounts(points, types, meter, prices, by_id):
    """What CloudKitty must charge: {group: [qty, amount]}.

    One rated point per backup and period: the max of the period's
    measures, times the metric's factor (CloudKitty's own conversion), at
    the price of the backup's backup_type. Grouped by backup_type, or by
    (id, backup_type) when by_id.
    """
    from cloudkitty import utils as ck_utils
    conf = ck_metrics()[meter]
    want = collections.defaultdict(lambda: [decimal.Decimal(0),
                                            decimal.Decimal(0)])
    for backup_id, windows in points[meter].items():
        btype = types[backup_id]
        key = (backup_id, btype) if by_id else btype
        for value in windows.values():
            qty = ck_utils.convert_unit(value, conf.get('factor', 1),
                                        conf.get('offset', 0))
            want[key][0] += qty
            want[key][1] += qty * prices.get(btype, decimal.Decimal(0))
    return want


def summary(session, run, begin, end, rtype, groupby):
    body = api(session, 'rating', 'GET', '/v2/summary', params={
        'groupby': groupby + ['type', 'project_id'],
        'filters': 'project_id:%s' % run['project_id'],
        'begin': begin.isoformat(), 'end': end.isoformat(),
        'response_format': 'object'})
    rows = [row for row in body['results'] if row.get('type') == rtype]
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


def compare_rated(run, rtype, rows, want, key):
    """CloudKitty's rows equal want ({key(row): [qty, amount]}), exactly."""
    got = {key(row): row for row in rows}
    for group, (qty, amount) in sorted(want.items(), key=str):
        row = got.get(group)
        rate = decimal.Decimal(str(row['rate'])) if row else None
        rated_qty = decimal.Decimal(str(row['qty'])) if row else None
        log('  expected %s qty=%s amount=%s; rated qty=%s amount=%s',
            group, qty.normalize(), amount.normalize(), rated_qty, rate)
        if rated_qty is None or abs(rated_qty - qty) > qty * TOLERANCE:
            raise Failed('%s: CloudKitty rated %s of %s %s, Gnocchi holds %s'
                         % (run['label'], rated_qty, rtype, group, qty))
        if abs(rate - amount) > amount * TOLERANCE:
            raise Failed('%s: CloudKitty rated %s %s at %s, expected %s'
                         % (run['label'], rtype, group, rate, amount))
    if set(got) != set(want):
        raise Failed('%s: CloudKitty %s groups %s, expected %s' % (
            run['label'], rtype, sorted(got, key=str),
            sorted(want, key=str)))
    return got


def check_cloudkitty(session, run, rated, prices, positive):
    """backup.size: rated by backup_type, at its price per GiB."""
    points, types, first, last = rated
    rtype = ck_metrics()['backup.size']['alt_name']
    want = expected_amounts(points, types, 'backup.size', prices[rtype],
                            by_id=False)
    rows = summary(session, run, first, last + PERIOD, rtype,
                   ['backup_type'])
    log('%s: CloudKitty summary for project %s, %s to %s, type %s, grouped '
        'by backup_type:', run['label'], run['project_id'],
        first.isoformat(), (last + PERIOD).isoformat(), rtype)
    for row in sorted(rows, key=lambda r: str(r.get('backup_type'))):
        log('  backup_type=%-12s qty=%-6s GiB-periods  rate=%s',
            row.get('backup_type'), row['qty'], row['rate'])
    got = compare_rated(run, rtype, rows, want,
                        lambda row: row.get('backup_type'))
    if positive:
        if set(got) != {'full', 'incremental'}:
            raise Failed('positive: expected full and incremental groups')
        unit = {k: decimal.Decimal(str(got[k]['rate']))
                / decimal.Decimal(str(got[k]['qty'])) for k in got}
        log('  price per GiB-period: %s', ', '.join(
            '%s %s' % (k, unit[k].normalize()) for k in sorted(unit)))
        for k in unit:
            if abs(unit[k] - prices[rtype][k]) > decimal.Decimal('0.000001'):
                raise Failed('%s priced at %s, configured %s'
                             % (k, unit[k], prices[rtype][k]))
    else:
        if set(got) != {None}:
            raise Failed('negative: expected one group without backup_type,'
                         ' got %s' % sorted(got, key=str))


def check_cloudkitty_stored(session, run, rated, prices, positive):
    """backup.stored: each backup rated by what it wrote.

    Per backup (grouped by id): CloudKitty's quantity is Gnocchi's bytes
    in GiB, at the price of its backup_type; without the notification
    driver there is nothing to rate.
    """
    points, types, first, last = rated
    conf = ck_metrics()['backup.stored']
    rtype = conf['alt_name']
    want = expected_amounts(points, types, 'backup.stored', prices[rtype],
                            by_id=True)
    rows = summary(session, run, first, last + PERIOD, rtype,
                   ['id', 'backup_type'])
    log('%s: CloudKitty summary for project %s, type %s, grouped by id:',
        run['label'], run['project_id'], rtype)
    from cloudkitty import utils as ck_utils
    per_gib = ck_utils.num2decimal(conf['factor'])
    for row in sorted(rows, key=lambda r: r['id']):
        qty = decimal.Decimal(str(row['qty']))
        log('  %s  %-11s qty=%-16s GiB = %10.0f bytes = %9.4f MiB  rate=%s',
            row['id'], row.get('backup_type'), row['qty'], qty / per_gib,
            qty / per_gib / volume_data.MIB, row['rate'])
    compare_rated(run, rtype, rows, want,
                  lambda row: (row['id'], row.get('backup_type')))
    if not positive:
        if rows:
            raise Failed('negative: %s rated without stored_bytes' % rtype)
        return
    rated_ids = {row['id'] for row in rows}
    for b in run['backups']:
        if b['id'] not in rated_ids:
            log('  %s (%s): its only backup.stored measure was not rated '
                '(above); Gnocchi holds it (checked)', b['id'],
                b['expected'])
            continue
        [row] = [row for row in rows if row['id'] == b['id']]
        stored = round(decimal.Decimal(str(row['qty'])) / per_gib)
        low, high = b['stored']
        if not low <= stored <= high:
            raise Failed('%s: CloudKitty rated %s (%s) at %d bytes, expected '
                         '%d to %d' % (run['label'], b['id'], b['expected'],
                                       stored, low, high))
        price = prices[rtype][b['expected']]
        log('  %s: %d bytes rated, %s GiB x %s = %s', b['expected'], stored,
            row['qty'], price, row['rate'])


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
    prices = {}
    for path in (HASHMAP, HASHMAP_STORED):
        with open(path) as f:
            hm = yaml.safe_load(f)
        prices[hm['service']] = {k: decimal.Decimal(str(v))
                                 for k, v in hm['mappings'].items()}
    runs = [(run, rateable(session, run), positive)
            for run, positive in load_runs(args)]
    wait_rated(session, [(run, rated[3]) for run, rated, _ in runs])
    for run, rated, positive in runs:
        check_cloudkitty(session, run, rated, prices, positive)
        check_cloudkitty_stored(session, run, rated, prices, positive)
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
    p.add_argument('--stored-mib', type=int, default=0,
                   help='fill the volume with random data and change this '
                   'many MiB between the full and the first incremental')
    p.add_argument('--stored-runs', type=int, default=6,
                   help='in this many runs')
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
