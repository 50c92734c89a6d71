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

"""The Horizon plugin in a real browser, on a running local cloud.

    CBE_CLOUD_DIR=DIR horizon_job.py [--output DIR]   (run.sh calls this)

Horizon 27 with the plugin's enabled file under gunicorn, and headless
Chromium driven by Selenium (browser_test.py) logging in as the cloud's
project member and checking the backups table and detail page.
Screenshots go to the output folder. tools/local-cloud/cloud.py starts the
cloud and sets CBE_CLOUD_DIR (tox -e dashboard).

Environment: HORIZON_PORT (18080); CBE_DASHBOARD_OUTPUT (the default
output folder); CBE_DASHBOARD_STATIC (where Horizon's collected and
compressed static files are kept and reused; default: inside the tox
environment); CBE_KEEP_LOGS=1 keeps the work folder (logs).
Needs Debian's chromium and chromium-driver (bindep.txt's dashboard
profile), installed here when absent. Everything the job starts is stopped
at the end (tools/harness.py), and the files it puts into Horizon's
installation (local_settings.py, the enabled file) are removed again.
"""

import argparse
import hashlib
import importlib
import os
import secrets
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, TOP)
from tools import harness  # noqa: E402

# The installed package that ships the plugin's enabled file.
DASHBOARD_PACKAGE = 'cinder_backup_ext_dashboard'
ENABLED_FILE = '_1330_project_backups_panel.py'
MARK = "# Written by cinder-backup-ext's tools/dashboard/horizon_job.py"


def module_dir(name):
    return os.path.dirname(importlib.import_module(name).__file__)


def static_inputs(settings, enabled):
    """A digest of what shapes the static files.

    Python, the installed packages but ours, the settings about static
    files, the enabled file.
    """
    freeze = subprocess.run(
        [sys.executable, '-m', 'pip', 'freeze', '--all'], check=True,
        capture_output=True, text=True).stdout.splitlines()
    parts = [sys.version] + [
        p for p in freeze if not p.lower().replace('_', '-').startswith(
            'cinder-backup-ext')]
    parts += [ln for ln in settings.splitlines()
              if ln.startswith(('WEBROOT', 'STATIC_ROOT', 'COMPRESS_'))]
    parts.append(enabled)
    return hashlib.sha256('\n'.join(parts).encode()).hexdigest()


def build_static(job, static, inputs):
    """Horizon's static files, collected and compressed once.

    They are reused while Horizon, the packages and the settings stay.
    """
    stamp = os.path.join(static, '.complete')
    if os.path.exists(stamp) and open(stamp).read() == inputs:
        harness.log('static files: reusing %s' % static)
        return
    shutil.rmtree(static, ignore_errors=True)
    for step in (['collectstatic', '--noinput'], ['compress', '--force']):
        with open(job.path(step[0] + '.log'), 'w') as out:
            job.run([sys.executable, '-m', 'django'] + step, stdout=out,
                    stderr=subprocess.STDOUT)
    with open(stamp, 'w') as f:
        f.write(inputs)
    harness.log('static files: built in %s' % static)


def install(job, path, text):
    """A file of ours in Horizon's installation, removed at the end."""
    if os.path.exists(path) and MARK not in open(path).read():
        raise SystemExit('%s exists and is not this job\'s: not overwriting'
                         ' it' % path)
    job.callback(lambda: os.path.exists(path) and os.remove(path))
    with open(path, 'w') as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--output', default=os.environ.get(
        'CBE_DASHBOARD_OUTPUT', os.path.join(TOP, 'dashboard-screenshots')))
    output = parser.parse_args().output
    cloud = os.environ.get('CBE_CLOUD_DIR', '')
    if not os.path.isfile(os.path.join(cloud, 'cloud.env')):
        harness.log("CBE_CLOUD_DIR='%s' is not a local cloud's folder (no "
                    'cloud.env): run tools/local-cloud/jobs.sh dashboard (tox'
                    ' -e dashboard), which starts one.' % cloud)
        return 2
    ks_port = harness.read_settings(os.path.join(cloud, 'cloud.env'))[
        'KS_PORT']
    port = int(os.environ.get('HORIZON_PORT', '18080'))
    # The browser: Debian's packages (bindep.txt's dashboard profile).
    subprocess.run(['bash', os.path.join(TOP, 'tools', 'install-packages.sh'),
                    'dashboard'], check=True)
    subprocess.run(['chromium', '--version'], check=True)
    subprocess.run(['chromedriver', '--version'], check=True)
    if harness.port_in_use(port):
        harness.log('127.0.0.1:%d is in use; set HORIZON_PORT.' % port)
        return 1
    with harness.Job('dashboard') as job:
        site = module_dir('openstack_dashboard')
        with open(os.path.join(module_dir(DASHBOARD_PACKAGE), 'enabled',
                               ENABLED_FILE)) as f:
            enabled = f.read()
        static = os.environ.get('CBE_DASHBOARD_STATIC') or os.path.join(
            os.environ.get('VIRTUAL_ENV', job.work), 'cbe-dashboard-static')
        settings = os.path.join(site, 'local', 'local_settings.py')
        harness.render(os.path.join(HERE, 'local_settings.py.in'),
                       job.path('local_settings.py'), MARK=MARK,
                       SECRET=secrets.token_hex(24), KS_PORT=ks_port,
                       STATIC=static, WORK=job.work)
        with open(job.path('local_settings.py')) as f:
            install(job, settings, f.read())
        install(job, os.path.join(site, 'local', 'enabled', ENABLED_FILE),
                '%s; removed at its end.\n%s' % (MARK, enabled))
        os.environ['DJANGO_SETTINGS_MODULE'] = 'openstack_dashboard.settings'
        build_static(job, static, static_inputs(open(settings).read(),
                                                enabled))
        url = 'http://127.0.0.1:%d' % port
        job.service('gunicorn-horizon', harness.gunicorn(HERE) + [
            '--timeout', '180', '-b', '127.0.0.1:%d' % port, '--workers',
            '2', '--access-logfile', job.path('horizon-access.log'),
            'horizon_wsgi:application'], http=url + '/auth/login/')
        harness.log('horizon: %s/ (gunicorn, 2 workers)' % url)
        os.makedirs(output, exist_ok=True)
        # The cloud's policy file: the browser test changes it and puts it
        # back.
        job.run([sys.executable, os.path.join(HERE, 'browser_test.py'),
                 '--horizon', url, '--clouds',
                 os.path.join(cloud, 'clouds.yaml'), '--policy-file',
                 os.path.join(cloud, 'cinder-policy.yaml'),
                 '--output', output, '--log', job.path('browser.log')])
        harness.log('screenshots: %s' % output)


if __name__ == '__main__':
    sys.exit(harness.main_status(main))
