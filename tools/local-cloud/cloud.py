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

"""The local cloud, and the jobs that share it (run.sh and jobs.sh call this).

    cloud.py [serve]   up, say how to use it, down on Ctrl-C (tox -e cloud)
    cloud.py up        up and keep it; the last line is CBE_CLOUD_DIR=DIR
    cloud.py stop DIR  stop a kept cloud, remove DIR
    cloud.py JOB... [--cloud DIR]
                       each job in turn on one cloud (a new one, or the
                       kept one in DIR): tempest, dashboard, chains

One machine, one command: Keystone, and Cinder's api, scheduler, volume and
backup services as separate processes with cinder-backup-ext loaded, the
API as Cinder's WSGI application under gunicorn with several workers, as
production runs it; an oslo.messaging listener on the run's own
notification topic. Where Debian's Ceph and its Python bindings are here
(tox -e cloud), also a one-node Ceph (tools/ceph.py), Cinder's RBD volume
driver as a second backend in availability zone ``ceph``, and a second
cinder-backup with Cinder's Ceph backup driver in that zone. The jobs:

  tempest     tempest (this plugin's tests and the upstream backup tests
              that need no other service), then checks that every API
              worker loaded the plugin and that the backup notifications
              carry its fields (check_cloud.py)
  dashboard   the Horizon plugin in a real browser (tools/dashboard/run.sh)
  chains      the openstack CLI and project cleanup (chains_job.py)

Every job runs, even after one failed; the exit status is 1 when any
failed. The jobs leave the cloud as they found it for the next: each works
in projects or volumes of its own, and the dashboard job puts Cinder's
policy file back. The cloud (tools/harness.py) is stopped, its database,
RabbitMQ vhost and work folder (/tmp/cbe-cloud.*) removed, however this
ends, unless CBE_KEEP_LOGS=1 (services stopped, logs kept). DIR/clouds.yaml
(clouds cbe-admin and cbe-member), DIR/openrc, DIR/cloud.env (ports,
database, for the jobs) and DIR/cinder-policy.yaml (Cinder's policy file,
'{}': the defaults) are written for the jobs and for people.

Environment: KS_PORT (15000), CINDER_PORT (18776), CEPH_MON_PORT (13300
and the next), CINDER_API_WORKERS (2), TEMPEST_REGEX, TEMPEST_EXCLUDE,
CBE_KEEP_LOGS, CBE_CINDER_CONF_EXTRA (a file of cinder.conf lines
appended to the generated one).
Needs MariaDB and RabbitMQ on 127.0.0.1 (tools/test-setup.sh) and the
services' packages: run it through tox (tox -e cloud), which installs them.
"""

import argparse
import glob
import grp
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, TOP)
try:
    from tools import ceph
    from tools import harness
except ImportError:  # outside tox: main() says how to run it
    harness = None

PASSWORD = 'cbe-secret'
JOBS = ('tempest', 'dashboard', 'chains')
TEMPEST_REGEX = (
    r'(^cinder_backup_ext\.tempest'
    r'|^tempest\.api\.volume\.test_volumes_backup\.VolumesBackupsV39Test'
    r'|^tempest\.api\.volume\.admin\.test_volumes_backup'
    r'|^cinder_tempest_plugin\.api\.volume\.(admin\.)?test_volume_backup)')
# cinder-tempest-plugin's test_incremental_backup boots from an image: no
# image service here.
TEMPEST_EXCLUDE = (r'test_volume_backup\.VolumesBackupsTest'
                   r'\.test_incremental_backup\b')
HOW_TO_USE = """
The local cloud is running, in {WORK}
  Keystone {AUTH_URL}, Cinder http://127.0.0.1:{CINDER_PORT}/v3 \
(gunicorn, {CINDER_API_WORKERS} workers)
  the clients (openstack, cinder) are in {BIN}:
  export PATH={BIN}:$PATH
  export OS_CLIENT_CONFIG_FILE={WORK}/clouds.yaml
  openstack --os-cloud cbe-member volume backup list
  openstack --os-cloud cbe-admin volume service list
  . {WORK}/openrc member; cinder backup-list        # or: openrc admin
  logs: {WORK}/*.log, notifications: {WORK}/notifications.jsonl
Ctrl-C stops it (every process, the database, the RabbitMQ vhost, the \
folder)."""


def log(message):
    print(message, flush=True)


def kept_clouds():
    return sorted(os.path.dirname(p)
                  for p in glob.glob('/tmp/cbe-cloud.*/cloud.env'))


def clouds_yaml(auth_url):
    def cloud(user, project):
        return {'auth': {'auth_url': auth_url, 'username': user,
                         'password': PASSWORD, 'project_name': project,
                         'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'region_name': 'RegionOne', 'identity_api_version': 3,
                'volume_api_version': 3}
    return {'clouds': {'cbe-admin': cloud('admin', 'admin'),
                       'cbe-member': cloud('cbe-member', 'cbe-demo')}}


def keystone(job, env, v):
    """Keystone on SQLite with fernet tokens, under gunicorn.

    Bootstrapped with the service user, a person's project and user, and
    Cinder's endpoints.
    """
    conf = harness.render(os.path.join(HERE, 'keystone.conf.in'),
                          job.path('keystone.conf'), **v)
    manage = ['keystone-manage', '--config-file', conf]
    owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
             '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
    job.run(manage + ['db_sync'])
    job.run(manage + ['fernet_setup'] + owner)
    job.run(manage + ['credential_setup'] + owner)
    url = v['AUTH_URL'] + '/'
    job.run(manage + ['bootstrap', '--bootstrap-password', PASSWORD,
                      '--bootstrap-admin-url', url,
                      '--bootstrap-public-url', url,
                      '--bootstrap-internal-url', url,
                      '--bootstrap-region-id', 'RegionOne'])
    # One worker: two processes writing one SQLite file fail with "database
    # is locked" (seen in CI: token issue updates user.last_active_at).
    job.service('gunicorn-keystone', harness.gunicorn(HERE) + [
        '-b', '127.0.0.1:%s' % v['KS_PORT'], '-w', '1',
        'keystone_wsgi:application'],
        env={'OS_KEYSTONE_CONFIG_FILES': conf}, http=v['AUTH_URL'])

    def openstack(*args, check=True):
        return job.run(['openstack'] + list(args), env=env, check=check,
                       stdout=subprocess.DEVNULL,
                       stderr=None if check else subprocess.DEVNULL)
    openstack('project', 'create', '--or-show', 'service')
    openstack('user', 'create', '--or-show', '--project', 'service',
              '--password', PASSWORD, 'cinder')
    openstack('role', 'add', '--project', 'service', '--user', 'cinder',
              'admin')
    if openstack('role', 'add', '--project', 'service', '--user', 'cinder',
                 'service', check=False):
        openstack('role', 'create', '--or-show', 'service')
        openstack('role', 'add', '--project', 'service', '--user', 'cinder',
                  'service')
    # A person's own project and member user, for clouds.yaml and the jobs.
    openstack('project', 'create', '--or-show', 'cbe-demo')
    openstack('user', 'create', '--or-show', '--project', 'cbe-demo',
              '--password', PASSWORD, 'cbe-member')
    openstack('role', 'add', '--project', 'cbe-demo', '--user',
              'cbe-member', 'member')
    openstack('service', 'create', '--name', 'cinderv3', 'block-storage')
    for interface in ('public', 'internal', 'admin'):
        openstack('endpoint', 'create', '--region', 'RegionOne',
                  'block-storage', interface,
                  'http://127.0.0.1:%s/v3/%%(project_id)s' % v['CINDER_PORT'])


def cinder(job, env, v):
    """Cinder's four services on MariaDB and RabbitMQ.

    Returns the API's gunicorn master pid once the services are up and the
    scheduler knows the backend.
    """
    for folder in ('volumes', 'backups', 'state', 'locks'):
        os.makedirs(job.path(folder))
    # Cinder's defaults; the dashboard job changes it while Cinder runs.
    with open(job.path('cinder-policy.yaml'), 'w') as f:
        f.write('{}\n')
    # os-brick and Cinder escalate through oslo.privsep; as root, no sudo.
    privsep = os.path.join(os.path.dirname(shutil.which('cinder-api')),
                           'privsep-helper')
    if os.getuid():
        privsep = 'sudo ' + privsep
    conf = harness.render(os.path.join(HERE, 'cinder.conf.in'),
                          job.path('cinder.conf'), PRIVSEP=privsep,
                          PREFIX=sys.prefix, **v)
    if v['CEPH_CONF']:
        extra = harness.render(os.path.join(HERE, 'cinder-ceph.conf.in'),
                               job.path('cinder-ceph.conf'), **v)
        with open(extra) as lines, open(conf, 'a') as f:
            f.write(lines.read())
    if os.environ.get('CBE_CINDER_CONF_EXTRA'):
        with open(os.environ['CBE_CINDER_CONF_EXTRA']) as extra, \
                open(conf, 'a') as f:
            f.write(extra.read())
    args = ['--config-file', conf]
    job.run(['cinder-manage'] + args + ['db', 'sync'])
    job.run(['cinder-backup-ext-manage'] + args + ['db', 'sync'])
    services = {'PYTHONPATH': os.pathsep.join(filter(None, [
        HERE, os.environ.get('PYTHONPATH')]))}
    # Billing's view: a listener on the run's topic, before anything is sent.
    job.service('notify-listener', [
        sys.executable, os.path.join(HERE, 'notify_listener.py'),
        '--url', v['TRANSPORT'], '--topic', v['TOPIC'],
        '--out', job.path('notifications.jsonl')],
        log_line=(job.path('notify-listener.out'), '^listening'), timeout=60)
    for name in ('cinder-scheduler', 'cinder-volume', 'cinder-backup'):
        job.service(name, [name] + args, env=services)
    if v['CEPH_CONF']:
        # Ceph backups by a cinder-backup of their own, for the volumes of
        # the RBD backend's zone: Cinder picks a backup service in the
        # volume's availability zone.
        harness.render(os.path.join(HERE, 'cinder-backup-ceph.conf.in'),
                       job.path('cinder-backup-ceph.conf'), **v)
        job.service('cinder-backup-ceph', ['cinder-backup'] + args + [
            '--config-file', job.path('cinder-backup-ceph.conf')],
            env=services)
    # The API as production runs it: Cinder's WSGI application in a WSGI
    # server, gunicorn with sync workers; each worker imports the app after
    # the fork and loads the extensions itself.
    api = job.service('gunicorn-cinder-api', harness.gunicorn(HERE) + [
        '-b', '127.0.0.1:%s' % v['CINDER_PORT'],
        '--workers', v['CINDER_API_WORKERS'], '--worker-class', 'sync',
        '--timeout', '180',
        '--access-logfile', job.path('cinder-api-access.log'),
        '--access-logformat',
        '%(p)s %(m)s %(U)s %(s)s %({x-openstack-request-id}o)s %(M)sms',
        'cinder_wsgi:application'],
        env=dict(services, CBE_CINDER_ARGS='--config-file %s --log-file %s'
                 % (conf, job.path('cinder-api.log'))),
        http='http://127.0.0.1:%s/' % v['CINDER_PORT'])
    master = str(api.process.pid)
    job.run([sys.executable, os.path.join(HERE, 'check_cloud.py'), 'workers',
             '--master', master, '--expect', v['CINDER_API_WORKERS'],
             '--log', job.path('cinder-api.log')])
    job.run(['cinder-backup-ext-status'] + args + ['upgrade', 'check'])

    def openstack(*args):
        return subprocess.run(['openstack'] + list(args), env=env,
                              capture_output=True, text=True).stdout
    services = 5 if v['CEPH_CONF'] else 3
    backends = 2 if v['CEPH_CONF'] else 1
    harness.until('%d cinder services up' % services, lambda: openstack(
        'volume', 'service', 'list', '-f', 'value', '-c', 'State'
    ).split().count('up') >= services)
    # The scheduler must have heard from the backends.
    harness.until('the backends in the scheduler', lambda: len(openstack(
        'volume', 'backend', 'pool', 'list', '-f', 'value').split()
    ) >= backends)
    log(openstack('volume', 'service', 'list'))
    return master


def up(job):
    """The cloud in job's folder; returns its settings (cloud.env)."""
    run = job.run_id
    v = dict(WORK=job.work, RUN=run, DB='cbe_tempest_' + run,
             TOPIC='cbe_' + run, PASSWORD=PASSWORD, PYTHON=sys.executable,
             KS_PORT=os.environ.get('KS_PORT', '15000'),
             CINDER_PORT=os.environ.get('CINDER_PORT', '18776'),
             CINDER_API_WORKERS=os.environ.get('CINDER_API_WORKERS', '2'))
    v['AUTH_URL'] = 'http://127.0.0.1:%s/v3' % v['KS_PORT']
    log('local cloud: work folder %s (run %s)' % (job.work, run))
    # A vhost of its own: the run's RPC and notification queues are apart
    # from any other cloud's, and go with it.
    v['VHOST'] = job.rabbit_vhost('cbe_' + run)
    v['TRANSPORT'] = 'rabbit://guest:guest@127.0.0.1:5672/' + (
        '' if v['VHOST'] == '/' else v['VHOST'])
    v['DB_URL'] = job.mysql_database(v['DB'])
    # An RBD backend and Ceph backups beside the file backend and posix
    # backups, where Debian's Ceph and its Python bindings are here.
    v['CEPH_CONF'] = ''
    why_not = ceph.available()
    if why_not:
        log('local cloud: no Ceph backend: %s' % why_not)
    else:
        v['CEPH_CONF'] = ceph.start(job, int(os.environ.get(
            'CEPH_MON_PORT', ceph.MON_PORT)))
        v['CEPH_CLUSTER'] = 'cbe-' + run
        ceph.client_keyring(job, v['CEPH_CLUSTER'], 'cinder')
        log('local cloud: Ceph up (%s)' % v['CEPH_CONF'])
    env = dict(os.environ, OS_AUTH_URL=v['AUTH_URL'],
               OS_IDENTITY_API_VERSION='3', OS_USERNAME='admin',
               OS_PASSWORD=PASSWORD, OS_PROJECT_NAME='admin',
               OS_USER_DOMAIN_NAME='Default', OS_PROJECT_DOMAIN_NAME='Default')
    keystone(job, env, v)
    with open(job.path('clouds.yaml'), 'w') as f:
        yaml.safe_dump(clouds_yaml(v['AUTH_URL']), f, default_flow_style=False)
    harness.render(os.path.join(HERE, 'openrc.in'), job.path('openrc'), **v)
    v['API_MASTER'] = cinder(job, env, v)
    with open(job.path('cloud.env'), 'w') as f:
        f.write("# The local cloud's settings, for its jobs.\n")
        f.writelines('%s=%s\n' % item for item in sorted(v.items()))
    log('cloud up in %.0fs' % (time.monotonic() - job.started))
    return v


def tempest(job, v):
    """tempest and the checks, on the cloud of v (cloud.env)."""
    work = v['WORK']
    # tempest keeps its locks in $TMPDIR/tempest-lock: inside the cloud's
    # folder, which its teardown removes, rather than in /tmp.
    env = dict(os.environ, TMPDIR=os.path.join(work, 'tmp'))
    os.makedirs(env['TMPDIR'], exist_ok=True)
    job.run(['tempest', 'init', '--name', 'cbe-cloud-' + v['RUN'],
             '--workspace-path', os.path.join(work, 'workspace.yaml'),
             os.path.join(work, 'tempest')], env=env, cwd=work,
            stdout=subprocess.DEVNULL)
    harness.render(os.path.join(HERE, 'tempest.conf.in'),
                   os.path.join(work, 'tempest', 'etc', 'tempest.conf'), **v)
    # Tempest keeps a class in one worker; with four workers the seven
    # classes, which mostly wait for backups, overlap.
    t0 = time.monotonic()
    status = job.run(['tempest', 'run', '--concurrency', '4', '--regex',
                      os.environ.get('TEMPEST_REGEX') or TEMPEST_REGEX,
                      '--exclude-regex',
                      os.environ.get('TEMPEST_EXCLUDE') or TEMPEST_EXCLUDE],
                     env=env, cwd=os.path.join(work, 'tempest'), check=False)
    log('tempest: exit status %d in %.0fs' % (status, time.monotonic() - t0))
    check = [sys.executable, os.path.join(HERE, 'check_cloud.py')]
    # The plugin in every API worker; its notifications on the bus.
    failed = job.run(check + [
        'flags', '--auth-url', v['AUTH_URL'], '--username', 'cbe-member',
        '--password', PASSWORD, '--project', 'cbe-demo',
        '--db-url', 'mysql+pymysql://root@127.0.0.1/' + v['DB'],
        '--access-log', os.path.join(work, 'cinder-api-access.log'),
        '--master', v['API_MASTER']], check=False)
    failed |= job.run(check + ['notifications', '--events', os.path.join(
        work, 'notifications.jsonl')], check=False)
    return status or (1 if failed else 0)


def run_jobs(job, names, v):
    """Each job on the cloud of v; 1 when any failed."""
    env = dict(os.environ, CBE_CLOUD_DIR=v['WORK'])
    commands = {
        # The panel's unit tests run in tox -e dist-dashboard.
        'dashboard': ['bash', os.path.join(os.path.dirname(HERE),
                                           'dashboard', 'run.sh')],
        'chains': [sys.executable, os.path.join(HERE, 'chains_job.py')]}
    failed = []
    for name in names:
        t0 = time.monotonic()
        log('=== %s, on the cloud in %s' % (name, v['WORK']))
        if name == 'tempest':
            status = tempest(job, v)
        else:
            status = job.run(commands[name], env=env, cwd=TOP, check=False)
        if status:
            failed.append(name)
        log('=== %s: exit status %d in %.0fs' % (
            name, status, time.monotonic() - t0))
    if failed:
        log('cloud jobs failed: %s' % ' '.join(failed))
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        usage=__doc__.split('\n\n')[1], description=__doc__.split('\n\n')[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('what', nargs='*', default=['serve'])
    parser.add_argument('--cloud', metavar='DIR')
    args = parser.parse_args(argv)
    what = args.what
    mode = what[0]
    if not (mode in ('serve', 'up') and len(what) == 1
            or mode == 'stop' and len(what) == 2
            or set(what) <= set(JOBS)) or args.cloud and mode not in JOBS:
        parser.print_usage()
        return 2
    folder = what[1] if mode == 'stop' else args.cloud
    if folder and not os.path.isfile(os.path.join(folder, 'cloud.env')):
        log("%s is not a local cloud's folder (no cloud.env); kept clouds: "
            '%s' % (folder, ' '.join(kept_clouds()) or 'none'))
        return 1
    if harness is None or mode != 'stop' and not (
            shutil.which('cinder-api') and shutil.which('keystone-manage')):
        log('Cinder and Keystone are not installed here: run this through '
            'tox, which installs them (tox -e cloud).')
        return 2
    if mode == 'stop':
        harness.stop_kept(folder)
        return 0
    if folder:  # jobs on a kept cloud
        with harness.Job('cloud-jobs', work=folder) as job:
            return run_jobs(job, what, harness.read_settings(
                os.path.join(folder, 'cloud.env')))
    ports = [os.environ.get('KS_PORT', '15000'),
             os.environ.get('CINDER_PORT', '18776')]
    busy = [p for p in ports if harness.port_in_use(int(p))]
    if busy:
        log('127.0.0.1:%s is in use: another local cloud? Stop a kept one '
            "with '%s/run.sh stop DIR', or set KS_PORT/CINDER_PORT. Kept "
            'clouds: %s' % (busy[0], HERE, ' '.join(kept_clouds()) or 'none'))
        return 1
    with harness.Job('cloud') as job:
        v = up(job)
        if mode == 'up':
            job.keep()
            log('Stop it with: %s/run.sh stop %s' % (HERE, job.work))
            log('CBE_CLOUD_DIR=%s' % job.work)
            return 0
        if mode == 'serve':
            log(HOW_TO_USE.format(BIN=os.path.dirname(
                shutil.which('openstack')), **v))
            while True:
                signal.pause()
        status = run_jobs(job, what, v)
        if status:
            job.tail_logs()
        return status


if __name__ == '__main__':
    sys.exit(harness.main_status(main) if harness else main())
