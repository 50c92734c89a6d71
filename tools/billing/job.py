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

"""Billing end to end (``tox -e billing``, run.sh calls this).

Cinder with cinder-backup-ext's notifier -> RabbitMQ ->
ceilometer-agent-notification (etc/ceilometer/) -> Gnocchi (etc/gnocchi/;
API + metricd, PostgreSQL indexer, file storage) -> CloudKitty
(etc/cloudkitty/; processor + API, InfluxDB 1.x storage, MariaDB database,
hashmap rating).

Two local clouds (tools/local-cloud/cloud.py up): A with the notifier hook
(the positive run), B with plain messagingv2 (the negative run), each with
a project member who makes a volume, a full and two incremental backups,
then runs cinder-volume-usage-audit. On A the volume is filled with random
data before the full and STORED_MIB of it changed before the first
incremental, so that what each backup stores (backup.stored) is known. One
Gnocchi and one CloudKitty rate both; the checks are in billing.py.
Gnocchi and CloudKitty use keystone auth against cloud A's Keystone, where
the job registers the metric and rating services and a service user;
Ceilometer and CloudKitty's collector authenticate as that user. A
healthy run logs no error: an ERROR, CRITICAL or traceback in the log of
any service it started (the clouds' too) fails it.

Environment: BILLING_KS_PORT (15200), BILLING_CINDER_PORT (18976) for
cloud A (cloud B uses the next port of each: ports apart from the shared
local cloud's), BILLING_GNOCCHI_PORT (18041), BILLING_CLOUDKITTY_PORT
(18889), BILLING_INFLUX_PORT (18086; and +2 for its RPC), CBE_KEEP_LOGS=1
keeps the work folders (/tmp/cbe-billing.*, the clouds') with every log;
the services are always stopped, the databases dropped (tools/harness.py).
BILLING_REUSE_CLOUDS="DIR_A DIR_B", for working on this job: two kept
clouds (started with cinder-hook-on/off.conf.in's settings), used and
left up. Needs MariaDB, PostgreSQL and RabbitMQ on 127.0.0.1, and influxd
(Debian's influxdb package; installed here when absent and root).
"""

import glob
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import yaml

from tools import harness

HERE = os.path.dirname(os.path.abspath(__file__))
# Changed between cloud A's full backup and its first incremental.
STORED_MIB = 3
TOP = os.path.dirname(os.path.dirname(HERE))
CLOUD_PY = os.path.join(TOP, 'tools', 'local-cloud', 'cloud.py')
ERRORS = re.compile(r' (ERROR|CRITICAL) |\[(ERROR|CRITICAL)\]|lvl=(error|crit)'
                    r'|^(ERROR|CRITICAL):|Traceback \(most recent')
# Error records that are not errors, each with its traceback (the lines of
# one record share file, time and pid). Keystone logs a 409 Conflict at
# ERROR: the clouds' `openstack ... create --or-show` get one when their
# create was retried on a loaded machine and the first try had stored it.
EXPECTED = re.compile(r'ERROR keystone[.a-z]* .*Conflict occurred attempting'
                      r' to store (project|user)')


def error_lines(folders):
    """The error lines of every service log in folders, but expected ones."""
    found = []
    for folder in folders:
        for path in sorted(glob.glob(os.path.join(folder, '*.log'))
                           + glob.glob(os.path.join(folder, '*.out'))):
            if path.endswith('-access.log'):
                continue
            with open(path, errors='replace') as f:
                hits = [(n, ln.rstrip('\n')) for n, ln in enumerate(f, 1)
                        if ERRORS.search(ln)]
            skip = {tuple(ln.split()[:3]) for _n, ln in hits
                    if EXPECTED.search(ln)}
            found += ['%s:%d:%s' % (path, n, ln[:400]) for n, ln in hits
                      if tuple(ln.split()[:3]) not in skip]
    return found


def check_bus(paths):
    """Recorded backup events: is_incremental with the hook on, not off.

    And stored_bytes in backup.create.end with the hook on (an int: the
    scenario's backups all end with the driver's progress event), absent
    with it off.
    """
    for path, hook in zip(paths, ('hook on', 'hook off')):
        n = 0
        with open(path) as f:
            for m in map(json.loads, f):
                p = m['payload']
                if not m['event_type'].startswith('backup.'):
                    continue
                if ('is_incremental' in p) != (hook == 'hook on'):
                    raise SystemExit('%s: %s %s: is_incremental %s' % (
                        hook, m['event_type'], p.get('backup_id'),
                        p.get('is_incremental', 'absent')))
                if m['event_type'] == 'backup.create.end' and (
                        (type(p.get('stored_bytes')) is int)
                        != (hook == 'hook on')):
                    raise SystemExit('%s: backup.create.end %s: stored_bytes '
                                     '%r' % (hook, p.get('backup_id'),
                                             p.get('stored_bytes', 'absent')))
                if m['event_type'] in ('backup.create.end', 'backup.exists'):
                    harness.log('  %-8s %-17s %s is_incremental=%s '
                                'parent_id=%s%s' % (
                                    hook, m['event_type'], p['backup_id'],
                                    p.get('is_incremental', '(absent)'),
                                    p.get('parent_id'),
                                    ' stored_bytes=%s' % p.get(
                                        'stored_bytes', '(absent)')
                                    if m['event_type'] == 'backup.create.end'
                                    else ''))
                    n += 1
        if not n:
            raise SystemExit('no backup event recorded in %s' % path)


class Billing(object):

    def __init__(self, job):
        self.job, self.v = job, {'WORK': job.work, 'HERE': HERE, 'TOP': TOP}
        self.clouds = {}

    def phase(self, message):
        harness.log('=== %.0fs: %s' % (
            time.monotonic() - self.job.started, message))

    def render(self, template, name=None, **values):
        return harness.render(os.path.join(HERE, template + '.in'),
                              self.job.path(name or template),
                              **dict(self.v, **values))

    def billing(self, *args):
        self.job.run([sys.executable, os.path.join(HERE, 'billing.py')]
                     + list(args))

    def start_clouds(self, ports):
        """Clouds A and B (cloud.py up), stopped when the job ends.

        A cloud still starting stops itself on SIGTERM.
        """
        procs = {}

        def stop():
            for label, proc in procs.items():
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
            for folder in self.clouds.values():
                if os.path.isfile(os.path.join(folder, harness.STATE)):
                    harness.stop_kept(folder)
        self.job.callback(stop)
        for label, hook in (('a', 'on'), ('b', 'off')):
            extra = self.render('cinder-hook-%s.conf' % hook)
            env = dict(os.environ, KS_PORT=str(ports[label][0]),
                       CINDER_PORT=str(ports[label][1]),
                       CBE_CINDER_CONF_EXTRA=extra)
            with open(self.job.path('cloud-%s.out' % label), 'w') as out:
                procs[label] = subprocess.Popen(
                    [sys.executable, CLOUD_PY, 'up'], env=env,
                    stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT)
            # Their first steps (Keystone's db_sync) are the heaviest: B
            # starts once A's Keystone answers, or A has ended.
            if label == 'a':
                harness.until('cloud A past its Keystone', lambda: (
                    procs['a'].poll() is not None
                    or harness.port_in_use(ports['a'][0])), timeout=300)
        for label, proc in procs.items():
            status = proc.wait()
            with open(self.job.path('cloud-%s.out' % label)) as f:
                out = f.read()
            found = re.search(r'^local cloud: work folder (\S+)', out, re.M)
            if found:
                self.clouds[label] = found.group(1)
            if status:
                harness.log(out[-3000:])
                raise SystemExit('cloud %s did not start' % label)
            harness.log('cloud %s: %s' % (label, re.search(
                r'^cloud up in .*', out, re.M).group(0)))

    def run(self):
        v, job = self.v, self.job
        run = job.run_id
        ks_port = int(os.environ.get('BILLING_KS_PORT', '15200'))
        cinder_port = int(os.environ.get('BILLING_CINDER_PORT', '18976'))
        v.update(TOPIC_CEILO='billing_' + run,
                 TOPIC_TAP='billing_%s_tap' % run,
                 GNOCCHI_PORT=os.environ.get('BILLING_GNOCCHI_PORT', '18041'),
                 CK_PORT=os.environ.get('BILLING_CLOUDKITTY_PORT', '18889'),
                 INFLUX_PORT=int(os.environ.get('BILLING_INFLUX_PORT',
                                                '18086')))
        v['INFLUX_RPC'] = v['INFLUX_PORT'] + 2
        reuse = os.environ.get('BILLING_REUSE_CLOUDS', '').split()
        if reuse:
            self.clouds = dict(zip('ab', reuse))
            with open(os.path.join(reuse[0], 'cinder.conf')) as f:
                v['TOPIC_CEILO'] = re.findall(r'^topics = ([^,\n]*),',
                                              f.read(), re.M)[-1]
            v['TOPIC_TAP'] = v['TOPIC_CEILO'] + '_tap'
        else:
            self.phase('starting cloud A (hook on, Keystone :%d) and B (hook '
                       'off, Keystone :%d)' % (ks_port, ks_port + 1))
            self.start_clouds({'a': (ks_port, cinder_port),
                               'b': (ks_port + 1, cinder_port + 1)})
            # A failed run checks no log; a passed one fails on an error.
            job.push(lambda exc_type, _e, _tb: exc_type is None and
                     self.check_logs())
        a, b = (harness.read_settings(os.path.join(self.clouds[label],
                                                   'cloud.env'))
                for label in 'ab')
        for folder, line in ((self.clouds['b'], 'notification_drivers = log'),
                             (self.clouds['a'], 'driver = cinder_backup_ext')):
            with open(os.path.join(folder, 'cinder.conf')) as f:
                if not re.search('^%s$' % line, f.read(), re.M):
                    raise SystemExit('%s/cinder.conf: no %r' % (folder, line))
        clouds_a = os.path.join(self.clouds['a'], 'clouds.yaml')
        v.update(AUTH_URL=a['AUTH_URL'], PASSWORD=a['PASSWORD'])

        self.phase("registering metric and rating in cloud A's Keystone")
        self.billing('keystone-setup', '--admin', clouds_a, '--password',
                     v['PASSWORD'], '--gnocchi-url',
                     'http://127.0.0.1:%s' % v['GNOCCHI_PORT'],
                     '--cloudkitty-url', 'http://127.0.0.1:%s' % v['CK_PORT'])
        projects = [subprocess.run(
            ['openstack', '--os-cloud', 'cbe-admin', 'project', 'show',
             'cbe-demo', '-f', 'value', '-c', 'id'], check=True, text=True,
            capture_output=True, env=dict(
                os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(
                    self.clouds[label], 'clouds.yaml'))).stdout.strip()
            for label in 'ab']

        db = 'cbe_billing_gnocchi_' + run
        self.phase('Gnocchi: indexer %s, API :%s, metricd' % (
            db, v['GNOCCHI_PORT']))
        v['GNOCCHI_DB_URL'] = job.postgres_database(db)
        os.makedirs(job.path('gnocchi'))
        conf = self.render('gnocchi.conf')
        self.render('gnocchi-api-paste.ini')
        with open(job.path('gnocchi-upgrade.out'), 'w') as out:
            job.run(['gnocchi-upgrade', '--config-file', conf], stdout=out,
                    stderr=subprocess.STDOUT)
        job.service('gnocchi-metricd', ['gnocchi-metricd', '--config-file',
                                        conf])
        job.service('gnocchi-api', harness.gunicorn(HERE) + [
            '-b', '127.0.0.1:%s' % v['GNOCCHI_PORT'], '-w', '1', '-k',
            'gthread', '--threads', '4', '--access-logfile',
            job.path('gnocchi-access.log'), 'gnocchi_wsgi:application'],
            env={'GNOCCHI_CONF': conf}, timeout=300,
            http='http://127.0.0.1:%s/' % v['GNOCCHI_PORT'])
        self.billing('gnocchi-setup', '--admin', clouds_a)

        self.phase('InfluxDB :%d; CloudKitty API :%s and processor' % (
            v['INFLUX_PORT'], v['CK_PORT']))
        os.makedirs(job.path('influxdb'))
        influx = 'http://127.0.0.1:%d' % v['INFLUX_PORT']
        job.service('influxd', ['influxd', '-config',
                                self.render('influxdb.conf')],
                    http=influx + '/ping', timeout=300)
        urllib.request.urlopen(influx + '/query', data=urllib.parse.urlencode(
            {'q': 'CREATE DATABASE cloudkitty'}).encode()).close()
        # CloudKitty's database on MariaDB: on PostgreSQL, CloudKitty
        # 25.0.0's `cloudkitty-dbsync upgrade` fails with SQLAlchemy 2 (the
        # hashmap migration f8c799db4aa0 executes a plain SQL string in its
        # PostgreSQL branch: ObjectNotExecutableError).
        v['CK_DB_URL'] = job.mysql_database('cbe_billing_cloudkitty_' + run)
        # The shipped metrics file, at this job's one-minute period:
        # CloudKitty queries Gnocchi at force_granularity = the period.
        with open(os.path.join(TOP, 'etc', 'cloudkitty', 'metrics.yml')) as f:
            metrics = yaml.safe_load(f)
        for metric in metrics['metrics'].values():
            metric['extra_args']['force_granularity'] = 60
        with open(job.path('metrics.yml'), 'w') as f:
            yaml.safe_dump(metrics, f)
        ck_conf = self.render('cloudkitty.conf', TRANSPORT=a['TRANSPORT'])
        for command in (['cloudkitty-dbsync', '--config-file', ck_conf,
                         'upgrade'],
                        ['cloudkitty-storage-init', '--config-file', ck_conf]):
            with open(job.path(command[0] + '.out'), 'w') as out:
                job.run(command, stdout=out, stderr=subprocess.STDOUT)
        job.service('cloudkitty-api', harness.gunicorn(HERE) + [
            '-b', '127.0.0.1:%s' % v['CK_PORT'], '-w', '1',
            '--access-logfile', job.path('cloudkitty-access.log'),
            'cloudkitty_wsgi:application'],
            env={'CLOUDKITTY_CONF': ck_conf}, timeout=300,
            http='http://127.0.0.1:%s/' % v['CK_PORT'])
        self.billing('cloudkitty-setup', '--admin', clouds_a)
        self.billing('seed-state', '--ck-conf', ck_conf, *projects)
        # The processor starts once Gnocchi holds every measure (below).

        self.phase('ceilometer-agent-notification for clouds A and B')
        job.run(['cinder-backup-ext-merge-resources',
                 job.path('gnocchi_resources.yaml')])
        self.render('pipeline.yaml')
        import ceilometer
        v['CEILO_DATA'] = os.path.join(os.path.dirname(ceilometer.__file__),
                                       'data', 'meters.d')
        for label, settings in (('a', a), ('b', b)):
            conf = self.render('ceilometer.conf', 'ceilometer-%s.conf' % label,
                               LABEL=label, TRANSPORT=settings['TRANSPORT'])
            job.service('ceilometer-' + label, [
                'ceilometer-agent-notification', '--config-file', conf],
                log_line=(job.path('ceilometer-%s.log' % label),
                          'Skipping duplicate meter definition'), timeout=300)
            job.service('bus-' + label, [
                sys.executable, os.path.join(TOP, 'tools', 'local-cloud',
                                             'notify_listener.py'),
                '--url', settings['TRANSPORT'], '--topic', v['TOPIC_TAP'],
                '--out', job.path('bus-%s.jsonl' % label)],
                log_line=(job.path('bus-%s.out' % label), '^listening'),
                timeout=300)

        self.phase('cloud A (hook on): volume of random data, full backup, '
                   '%d MiB changed, two incrementals, usage audit'
                   % STORED_MIB)
        self.billing('scenario', '--cloud-dir', self.clouds['a'], '--label',
                     'positive', '--out', job.path('positive.json'),
                     '--stored-mib', str(STORED_MIB))
        self.phase('cloud B (hook off): the same')
        self.billing('scenario', '--cloud-dir', self.clouds['b'], '--label',
                     'negative', '--out', job.path('negative.json'))
        self.phase('on the bus (tap on the clouds\' notification topic): '
                   'backup events')
        check_bus([job.path('bus-a.jsonl'), job.path('bus-b.jsonl')])
        # CloudKitty rates each window once; the measures of a window that
        # reach Gnocchi after that are never rated. So its processor starts
        # only when Gnocchi holds every measure the bus carried and the last
        # window with one is over: its first cycle rates every window.
        self.phase('checks: Gnocchi holds every measure of the bus; '
                   'backup_type; backup.stored')
        self.billing('gnocchi-check', '--admin', clouds_a,
                     '--positive', job.path('positive.json'),
                     '--bus', job.path('bus-a.jsonl'),
                     '--negative', job.path('negative.json'),
                     '--bus', job.path('bus-b.jsonl'))
        self.phase('CloudKitty processor: rating every window; checks of '
                   'the rated data')
        job.service('cloudkitty-processor', ['cloudkitty-processor',
                                             '--config-file', ck_conf])
        self.billing('cloudkitty-check', '--admin', clouds_a,
                     '--positive', job.path('positive.json'),
                     '--negative', job.path('negative.json'))
        self.phase('billing end to end: passed')

    def check_logs(self):
        found = error_lines([self.job.work] + list(self.clouds.values()))
        if found:
            harness.log('--- error lines in the service logs ---\n'
                        + '\n'.join(found))
            raise SystemExit('billing: FAILED: errors in the service logs '
                             '(above)')


def main():
    ports = [int(os.environ.get(name, default)) for name, default in (
        ('BILLING_GNOCCHI_PORT', 18041), ('BILLING_CLOUDKITTY_PORT', 18889),
        ('BILLING_INFLUX_PORT', 18086))]
    ports.append(ports[-1] + 2)
    if not os.environ.get('BILLING_REUSE_CLOUDS'):
        ports += [int(os.environ.get('BILLING_KS_PORT', 15200)) + 1,
                  int(os.environ.get('BILLING_CINDER_PORT', 18976)) + 1]
    busy = [p for p in ports if harness.port_in_use(p)]
    if busy:
        harness.log('127.0.0.1:%d is in use; set the BILLING_*_PORT '
                    'variables (see %s)' % (busy[0], __file__))
        return 1
    # CloudKitty's storage, influxd: bindep.txt's billing profile.
    subprocess.run(['bash', os.path.join(TOP, 'tools', 'install-packages.sh'),
                    'billing'], check=True)
    with harness.Job('billing') as job:
        harness.log('billing: work folder %s (run %s)' % (job.work,
                                                          job.run_id))
        Billing(job).run()


if __name__ == '__main__':
    sys.exit(harness.main_status(main))
