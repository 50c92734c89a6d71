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

"""A real Cinder API with cinder-backup-ext loaded, and a backup chain.

    tox -e demo                  # serves on 127.0.0.1:8776 until Ctrl-C
    tox -e demo -- --exit        # prints the requests, then stops
    tox -e demo -- --port 9776

Cinder's own API, scheduler, volume and backup services run in this one
process on an embedded (in-memory) SQLite database built by Cinder's
migrations, exactly as in the functional tests (tests/functional/base.py).
A volume gets a full backup and two incremental children through Cinder's
API; the script then prints curl commands with their real responses.
Authentication is Cinder's ``noauth``: the token is ``<user>:<project>``.

The screen shows only the walkthrough. Cinder's logs, the warnings its
imports raise and anything else written to stderr go to a log file, whose
path is printed first (``--log-file`` to choose it).
"""

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import time
import unittest

import fixtures
import requests

LOG_FORMAT = '%(asctime)s %(levelname)s [%(name)s] %(message)s'


def _divert_stderr(path):
    """Send stderr, Python's and the process's, to ``path``.

    Cinder's imports warn before any logging is set up, some libraries
    write to the file descriptor directly; only the walkthrough on stdout
    is for the reader. Returns a file on the original stderr.
    """
    screen = os.fdopen(os.dup(2), 'w', buffering=1)
    log = open(path, 'w', buffering=1)
    os.dup2(log.fileno(), 2)
    sys.stderr = log
    logging.captureWarnings(True)
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    return screen


class _LogToFile(fixtures.Fixture):
    """Stands in for Cinder's StandardLogging, which keeps logs in memory."""

    def _setUp(self):
        root = logging.getLogger()
        self.useFixture(fixtures.MonkeyPatch('oslo_log.log.setup',
                                             lambda *args: None))
        level = root.level
        root.setLevel(logging.INFO)
        self.addCleanup(root.setLevel, level)


def _demo_class():
    # Imported here, once stderr is diverted: the import is what warns.
    from cinder.tests import fixtures as cinder_fixtures

    from tests.functional import base

    # Cinder's test base installs this fixture in every setUp; this
    # process is only ever the demo.
    cinder_fixtures.StandardLogging = _LogToFile

    class Demo(base.CinderTestCase):

        port = 8776
        serve = True

        def _get_flags(self):
            flags = super()._get_flags()
            flags['osapi_volume_listen_port'] = {'v': self.port}
            return flags

        def runTest(self):
            volume = self.create_volume()
            full = self.create_backup(volume['id'])
            first = self.create_backup(volume['id'], incremental=True)
            second = self.create_backup(volume['id'], incremental=True)

            self.api._authenticate()
            token = self.api.auth_result['x-auth-token']
            project = token.split(':', 1)[1]
            root = 'http://127.0.0.1:%d/v3/%s' % (self.port, project)
            print('Cinder API with cinder-backup-ext: %s' % root)
            print('A full backup %s, then its children %s and %s.\n'
                  % (full['id'], first['id'], second['id']))
            for method, path in (('GET', '/backups/%s' % full['id']),
                                 ('GET', '/backups/%s' % second['id']),
                                 ('GET', '/backups/detail'),
                                 ('DELETE', '/backups/%s' % full['id'])):
                self.show(method, root + path, token)

            if not self.serve:
                return
            print('Serving until Ctrl-C.')
            stopped = []
            signal.signal(signal.SIGINT, lambda *args: stopped.append(True))
            signal.signal(signal.SIGTERM, lambda *args: stopped.append(True))
            while not stopped:
                time.sleep(0.5)

        @staticmethod
        def show(method, url, token):
            headers = {'X-Auth-Token': token,
                       'OpenStack-API-Version': 'volume 3.0'}
            print('$ curl -s -X %s %s \\\n    %s' % (
                method, url,
                ' '.join("-H '%s: %s'" % h for h in headers.items())))
            response = requests.request(method, url, headers=headers)
            print('HTTP %d' % response.status_code)
            body = response.json() if response.text else {}
            for backup in body.get('backups', [body.get('backup')]):
                if backup:
                    print(json.dumps({k: backup.get(k) for k in (
                        'id', 'status', 'is_incremental',
                        'has_dependent_backups')}, indent=2))
            if 'badRequest' in body:
                print(json.dumps(body, indent=2))
            print()

    return Demo


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=8776)
    parser.add_argument('--exit', action='store_true',
                        help='stop after printing (for scripts)')
    parser.add_argument('--log-file', default=os.path.join(
        tempfile.gettempdir(), 'cinder-backup-ext-demo.log'))
    args = parser.parse_args()
    print('Cinder\'s logs and warnings: %s\n' % args.log_file, flush=True)
    screen = _divert_stderr(args.log_file)
    for capture in ('OS_STDOUT_CAPTURE', 'OS_STDERR_CAPTURE',
                    'OS_LOG_CAPTURE'):
        os.environ[capture] = '0'  # what the test bases would hide
    Demo = _demo_class()
    Demo.port = args.port
    Demo.serve = not args.exit
    result = unittest.TestResult()
    Demo().run(result)
    for _test, error in result.errors + result.failures:
        print(error, file=sys.stderr)
        last = error.strip().splitlines()[-1]
        print('demo failed: %s\n(details in %s)' % (last, args.log_file),
              file=screen)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
