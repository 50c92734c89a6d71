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

"""Checks run.sh makes on its cloud after tempest.

    python check_cloud.py workers --master PID --log cinder-api.log
    python check_cloud.py flags --auth-url ... --access-log ... --db-url ...
    python check_cloud.py notifications --events events.jsonl
    python check_cloud.py delete-queues --url rabbit://... --topic cbe_x

``workers``: every live worker of the gunicorn master has logged
"cinder-backup-ext: loaded API extension backup_flags" under its own pid.
``flags``: a chain full -> incremental -> incremental made as a member,
Cinder's ``num_dependent_backups`` counters then set wrong on purpose in
the database (what stock Cinder would answer is then the opposite of the
rows), and N concurrent GETs of show and detail: every answer must carry
the plugin's values; gunicorn's access log (pid, request id) tells which
worker answered each one, and every worker must have answered.
``notifications``: the backup.* events the listener recorded carry
parent_id and is_incremental == (parent_id is not None).
Each prints a summary and exits 1 on a failed check.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import time

LOADED = 'cinder-backup-ext: loaded API extension backup_flags'
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical',
              'sample')


def fail(message):
    print('FAILED: ' + message, flush=True)
    return 1


# --- workers ---------------------------------------------------------------
def children(pid):
    kids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return sorted(kids)


def loaded_pids(log):
    # oslo.log's default format: "<date> <time> <pid> INFO <logger> ..."
    counts = collections.Counter()
    with open(log, encoding='utf-8', errors='replace') as lines:
        for line in lines:
            if LOADED in line:
                counts[int(line.split()[2])] += 1
    return counts


def check_workers(args):
    deadline = time.time() + args.timeout
    while True:
        workers = children(args.master)
        counts = loaded_pids(args.log)
        missing = [pid for pid in workers if pid not in counts]
        if len(workers) >= args.expect and not missing:
            break
        if time.time() > deadline:
            return fail('gunicorn master %d: workers %s, %d expected; '
                        'no "%s" from %s' % (args.master, workers,
                                             args.expect, LOADED, missing))
        time.sleep(1)
    print('workers: gunicorn master %d has %d workers %s; "%s" logged by '
          'pids %s' % (args.master, len(workers), workers, LOADED,
                       dict(sorted(counts.items()))), flush=True)
    return 0


# --- flags -----------------------------------------------------------------
class Cloud(object):
    def __init__(self, args):
        from keystoneauth1 import loading
        from keystoneauth1 import session
        auth = loading.get_plugin_loader('password').load_from_options(
            auth_url=args.auth_url, username=args.username,
            password=args.password, project_name=args.project,
            user_domain_name='Default', project_domain_name='Default')
        self.session = session.Session(auth=auth)
        self.filter = {'service_type': 'block-storage',
                       'interface': 'public'}

    def call(self, method, path, body=None, ok=(200, 202)):
        resp = self.session.request(path, method, json=body,
                                    endpoint_filter=self.filter,
                                    raise_exc=False)
        if resp.status_code not in ok:
            raise RuntimeError('%s %s: %d %s' % (method, path,
                                                 resp.status_code,
                                                 resp.text[:300]))
        return resp

    def wait(self, kind, ident, status='available', timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            resp = self.call('GET', '/%s/%s' % (kind, ident), ok=(200, 404))
            if resp.status_code == 404:
                if status == 'deleted':
                    return
            else:
                current = resp.json()[kind[:-1]]['status']
                if current == status:
                    return
                if current.startswith('error'):
                    raise RuntimeError('%s %s went %s' % (kind, ident,
                                                          current))
            time.sleep(1)
        raise RuntimeError('%s %s not %s in %ds' % (kind, ident, status,
                                                    timeout))


def set_counters(db_url, counters):
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for backup_id, value in counters.items():
            conn.execute(sa.text('UPDATE backups SET num_dependent_backups'
                                 ' = :v WHERE id = :id'),
                         {'v': value, 'id': backup_id})
    engine.dispose()


def access_log_pids(path):
    # run.sh's access-log format: "<pid> <method> <path> <status> <req-id>"
    pids = {}
    with open(path, encoding='utf-8', errors='replace') as lines:
        for line in lines:
            fields = line.split()
            if len(fields) >= 5 and fields[4].startswith('req-'):
                pids[fields[4]] = int(fields[0].strip('<>'))
    return pids


def check_flags(args):
    cloud = Cloud(args)
    chain, volume = [], None
    try:
        volume = cloud.call('POST', '/volumes', {'volume': {
            'size': 1, 'name': 'cbe-check'}}).json()['volume']['id']
        cloud.wait('volumes', volume)
        for name in ('full', 'incr-1', 'incr-2'):
            backup = cloud.call('POST', '/backups', {'backup': {
                'volume_id': volume, 'name': 'cbe-check-' + name,
                'incremental': bool(chain)}}).json()['backup']['id']
            cloud.wait('backups', backup)
            cloud.wait('volumes', volume)
            chain.append(backup)
        full, mid, leaf = chain
        expected = {full: (False, True), mid: (True, True),
                    leaf: (True, False)}
        # Stock Cinder reads has_dependent_backups from this counter; make
        # it lie, so that only the plugin gives the expected answers.
        set_counters(args.db_url, {full: 0, leaf: 3})

        def one(i):
            if i % 4 == 3:
                resp = cloud.call('GET', '/backups/detail')
                bodies = resp.json()['backups']
            else:
                resp = cloud.call('GET', '/backups/%s' % chain[i % 4])
                bodies = [resp.json()['backup']]
            got = {b['id']: (b.get('is_incremental'),
                             b.get('has_dependent_backups'))
                   for b in bodies if b['id'] in expected}
            want = {k: v for k, v in expected.items() if k in got}
            wrong = got != want or not got
            return (resp.headers.get('x-openstack-request-id'), wrong,
                    got, want)

        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as ex:
            results = list(ex.map(one, range(args.requests)))
        set_counters(args.db_url, {full: 1, mid: 1, leaf: 0})
    finally:
        for backup in reversed(chain):
            try:
                cloud.call('DELETE', '/backups/%s' % backup)
                cloud.wait('backups', backup, 'deleted')
            except Exception as exc:
                print('cleanup: backup %s: %s' % (backup, exc))
        if volume:
            try:
                cloud.wait('volumes', volume)
                cloud.call('DELETE', '/volumes/%s' % volume)
                cloud.wait('volumes', volume, 'deleted')
            except Exception as exc:
                print('cleanup: volume %s: %s' % (volume, exc))

    time.sleep(1)  # the access log line is written after the response
    served_by = access_log_pids(args.access_log)
    per_pid = collections.defaultdict(lambda: [0, 0])
    unknown = 0
    for request_id, wrong, got, want in results:
        pid = served_by.get(request_id)
        if pid is None:
            unknown += 1
            continue
        per_pid[pid][0] += 1
        per_pid[pid][1] += wrong
        if wrong:
            print('wrong flags from pid %d (%s): got %s, want %s'
                  % (pid, request_id, got, want))
    workers = children(args.master) if args.master else []
    print('flags: %d GETs (show and detail of a 3-backup chain, counters '
          'set wrong in the database), %d at a time; answered by %s; '
          'wrong: %d; not in the access log: %d; workers %s'
          % (len(results), args.concurrency,
             {pid: '%d requests, %d wrong' % tuple(v)
              for pid, v in sorted(per_pid.items())},
             sum(v[1] for v in per_pid.values()), unknown, workers),
          flush=True)
    if sum(v[1] for v in per_pid.values()) or unknown:
        return fail('flags')
    if workers and sorted(per_pid) != workers:
        return fail('answering pids %s != workers %s'
                    % (sorted(per_pid), workers))
    return 0


# --- notifications ---------------------------------------------------------
def check_notifications(args):
    # Deletes notify after the API answered: give stragglers time.
    time.sleep(args.settle)
    types = collections.Counter()
    bad, incrementals, fulls, others = [], set(), set(), 0
    with open(args.events, encoding='utf-8') as lines:
        for line in lines:
            event = json.loads(line)
            kind = event['event_type']
            if not kind.startswith('backup.'):
                others += 1
                continue
            types[kind] += 1
            payload = event['payload']
            if not isinstance(payload, dict) or 'backup_id' not in payload:
                continue
            if 'parent_id' not in payload or (
                    payload.get('is_incremental')
                    is not (payload['parent_id'] is not None)):
                bad.append((kind, payload.get('backup_id'),
                            payload.get('parent_id', '<absent>'),
                            payload.get('is_incremental', '<absent>')))
            elif payload['is_incremental']:
                incrementals.add(payload['backup_id'])
            else:
                fulls.add(payload['backup_id'])
    print('notifications: %d backup.* events (%d others) %s; backups '
          'seen: %d full, %d incremental; payloads without a right '
          'parent_id/is_incremental: %d'
          % (sum(types.values()), others, dict(sorted(types.items())),
             len(fulls), len(incrementals), len(bad)), flush=True)
    for item in bad[:10]:
        print('  bad: %s backup %s parent_id=%s is_incremental=%s' % item)
    if not types['backup.create.end']:
        return fail('no backup.create.end notification received')
    if bad:
        return fail('backup payloads without the right flags')
    if not incrementals:
        return fail('no incremental backup in the notifications')
    return 0


def delete_queues(args):
    import kombu
    with kombu.Connection(args.url) as conn:
        channel = conn.channel()
        for priority in PRIORITIES:
            channel.queue_delete('%s.%s' % (args.topic, priority))
    print('deleted the queues %s.{%s}' % (args.topic, ','.join(PRIORITIES)))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('workers')
    p.add_argument('--master', type=int, required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--expect', type=int, default=2)
    p.add_argument('--timeout', type=float, default=120)
    p.set_defaults(func=check_workers)
    p = sub.add_parser('flags')
    for name in ('auth-url', 'username', 'password', 'project', 'db-url',
                 'access-log'):
        p.add_argument('--' + name, required=True)
    p.add_argument('--master', type=int)
    p.add_argument('--requests', type=int, default=60)
    p.add_argument('--concurrency', type=int, default=4)
    p.set_defaults(func=check_flags)
    p = sub.add_parser('notifications')
    p.add_argument('--events', required=True)
    p.add_argument('--settle', type=float, default=5)
    p.set_defaults(func=check_notifications)
    p = sub.add_parser('delete-queues')
    p.add_argument('--url', required=True)
    p.add_argument('--topic', required=True)
    p.set_defaults(func=delete_queues)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
