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

"""tools/harness.py: a job's end stops and drops all it started and made.

Real processes (Python one-liners), no servers: the SQL and rabbitmqctl
calls are recorded instead of run. Every wait is for a state (a line in a
file, a port answering, a process gone); none asserts on time.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import mirakuru
import psutil

from tools import harness

# A service that leaves a process behind in a session of its own (as a
# daemon does), and one in its group without the run's mark in its
# environment (as gunicorn's workers show it), and says when it is ready.
DAEMONIZING = ('import subprocess, sys, time\n'
               'subprocess.Popen([sys.executable, "-c", '
               '"import time; time.sleep(600)"], start_new_session=True)\n'
               'subprocess.Popen(["env", "-i", "sleep", "600"])\n'
               'print("ready", flush=True)\n'
               'time.sleep(600)\n')


class Boom(Exception):
    pass


class JobTest(unittest.TestCase):

    def setUp(self):
        super().setUp()
        self.calls = []
        for name in ('mysql', 'psql'):
            patcher = mock.patch.object(harness, name, self.calls.append)
            patcher.start()
            self.addCleanup(patcher.stop)
        patcher = mock.patch.object(
            harness, 'rabbitmqctl',
            lambda *args: self.calls.append(' '.join(args)) or True)
        patcher.start()
        self.addCleanup(patcher.stop)
        patcher = mock.patch.object(harness.shutil, 'which',
                                    return_value='/usr/sbin/rabbitmqctl')
        patcher.start()
        self.addCleanup(patcher.stop)
        self.handlers = [signal.getsignal(s) for s in harness.SIGNALS]

    def start_daemonizing(self, job):
        return job.service('daemonizing', [sys.executable, '-c', DAEMONIZING],
                           log_line=(job.path('daemonizing.out'), '^ready'),
                           timeout=60)

    def assert_all_gone(self, job, executor, pid):
        self.assertFalse(psutil.pid_exists(pid) and
                         psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
        self.assertIsNone(executor.process)
        self.assertEqual([], harness.marked(job.run_id, [pid]))
        self.assertFalse(os.path.exists(job.work))
        self.assertEqual(self.handlers,
                         [signal.getsignal(s) for s in harness.SIGNALS])

    def test_body_raises(self):
        with self.assertRaises(Boom):
            with harness.Job('test', keep_logs=False) as job:
                executor = self.start_daemonizing(job)
                pid = executor.process.pid
                self.assertEqual(2, len(harness.marked(job.run_id)))
                self.assertEqual(3, len(harness.marked(
                    job.run_id, job.state['pgids'])))
                job.mysql_database('cbe_test_db')
                job.postgres_database('cbe_test_pg')
                self.assertEqual('cbe_test_vh',
                                 job.rabbit_vhost('cbe_test_vh'))
                outside = job.outside_file(self.outside_path(), 'x\n')
                raise Boom()
        self.assert_all_gone(job, executor, pid)
        self.assertFalse(os.path.exists(outside))
        self.assertIn('DROP DATABASE IF EXISTS cbe_test_db', self.calls)
        self.assertIn('DROP DATABASE IF EXISTS cbe_test_pg', self.calls)
        self.assertIn('delete_vhost cbe_test_vh', self.calls)

    def test_sigterm(self):
        with self.assertRaises(harness.Stopped) as caught:
            with harness.Job('test', keep_logs=False) as job:
                executor = self.start_daemonizing(job)
                pid = executor.process.pid
                job.mysql_database('cbe_test_db')
                os.kill(os.getpid(), signal.SIGTERM)
                # The handler raises at the next bytecode: never here.
                signal.pause()
        self.assertEqual(143, caught.exception.status)
        self.assert_all_gone(job, executor, pid)
        self.assertIn('DROP DATABASE IF EXISTS cbe_test_db', self.calls)

    def outside_path(self):
        folder = tempfile.mkdtemp(prefix='cbe-harness-test.')
        self.addCleanup(shutil.rmtree, folder)
        return os.path.join(folder, 'made-by-the-job')

    def test_kept_then_stopped(self):
        with harness.Job('test', keep_logs=False) as job:
            executor = self.start_daemonizing(job)
            pid = executor.process.pid
            job.mysql_database('cbe_test_db')
            outside = job.outside_file(self.outside_path(), 'x\n')
            job.keep()
        self.assertTrue(psutil.pid_exists(pid))
        self.assertTrue(os.path.exists(outside))
        state = harness.load_state(job.work)
        self.assertEqual(['cbe_test_db'], state['mysql'])
        self.assertEqual([pid], state['pgids'])
        self.assertEqual(3, len(harness.marked(job.run_id, [pid])))
        harness.stop_kept(job.work, keep_logs=False)
        self.assertFalse(psutil.pid_exists(pid))  # stopped, and reaped
        self.assertEqual([], harness.marked(job.run_id, [pid]))
        self.assertIn('DROP DATABASE IF EXISTS cbe_test_db', self.calls)
        self.assertFalse(os.path.exists(job.work))
        self.assertFalse(os.path.exists(outside))

    def test_http_wait_and_early_exit(self):
        with harness.Job('test', keep_logs=True) as job:
            port = _free_port()
            executor = job.service(
                'http', [sys.executable, '-m', 'http.server', '-b',
                         '127.0.0.1', str(port)],
                http='http://127.0.0.1:%d/' % port, timeout=60)
            self.assertTrue(harness.port_in_use(port))
            with self.assertRaises(mirakuru.ProcessExitedWithError):
                job.service('fails', [sys.executable, '-c',
                                      'raise SystemExit(3)'],
                            http='http://127.0.0.1:%d/' % _free_port(),
                            timeout=60)
            status = job.run([sys.executable, '-c', 'import os; '
                              'raise SystemExit(os.environ["%s"] == "%s")'
                              % (harness.MARK, job.run_id)], check=False)
            self.assertEqual(1, status)
        self.assertIsNone(executor.process)
        self.assertFalse(harness.port_in_use(port))
        self.assertTrue(os.path.isfile(os.path.join(job.work, 'http.out')))
        harness.remove(job.work, keep_logs=False)

    def test_tcp_wait(self):
        with harness.Job('test') as job:
            port = _free_port()
            executor = job.service(
                'tcp', [sys.executable, '-m', 'http.server', '-b',
                        '127.0.0.1', str(port)],
                tcp=('127.0.0.1', port), timeout=60)
            self.assertIsInstance(executor, mirakuru.TCPExecutor)
            self.assertTrue(harness.port_in_use(port))
        self.assertFalse(harness.port_in_use(port))

    def test_render(self):
        with harness.Job('test', keep_logs=False) as job:
            with open(job.path('t.in'), 'w') as f:
                f.write('url = ${URL}\n# $$HOME stays\n')
            harness.render(job.path('t.in'), job.path('t'), URL='http://x')
            with open(job.path('t')) as f:
                self.assertEqual('url = http://x\n# $HOME stays\n', f.read())
            with self.assertRaises(subprocess.CalledProcessError):
                job.run([sys.executable, '-c', 'raise SystemExit(2)'])


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
