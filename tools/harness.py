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

"""The one harness of the jobs in tools/ (local cloud, billing, dashboard).

A job is a :class:`Job`: a work folder (``/tmp/cbe-<kind>.XXXXXX``), the
services it starts, the databases and RabbitMQ vhosts it makes. mirakuru
starts each service in a session of its own, waits until it answers (HTTP,
TCP or a line in its log) and fails at once when it exits first; its
output goes to ``<work>/<name>.out``. However the job ends (its body
raises, SIGINT, SIGTERM, SIGHUP), leaving the ``with`` block stops the
services (their process groups), then every process still carrying the
run's mark in its environment (gunicorn workers, privsep daemons, a
killed command's children), then drops what the job made and removes the
folder; ``CBE_KEEP_LOGS=1`` keeps the folder and its logs.

A job kept on purpose (``Job.keep()``: the local cloud's ``up``) leaves
its services running; ``<work>/job.json`` records what it made, and
:func:`stop_kept` removes it all later, from another process.
"""

import atexit
import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time

import mirakuru
import mirakuru.base
import psutil
import tenacity

MARK = 'CBE_HARNESS_RUN'
STATE = 'job.json'
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A signal asked the job to stop; the exit status is 128 + signal."""

    def __init__(self, signum):
        super().__init__(signum)
        self.status = 128 + signum


def log(message):
    print(message, flush=True)


def port_in_use(port, host='127.0.0.1'):
    with contextlib.closing(socket.socket()) as sock:
        return sock.connect_ex((host, port)) == 0


@functools.lru_cache()
def gunicorn(chdir):
    """The start of a gunicorn command.

    gunicorn 27 opens a control socket, by default one path for every
    server on the machine; none here.
    """
    command = ['gunicorn', '--chdir', chdir, '--graceful-timeout', '5']
    if '--no-control-socket' in subprocess.run(
            ['gunicorn', '--help'], capture_output=True, text=True).stdout:
        command.append('--no-control-socket')
    return command


def render(template, dest, **values):
    """A template file (``string.Template``: ``${NAME}``) written to dest."""
    with open(template) as f:
        text = string.Template(f.read()).substitute(values)
    with open(dest, 'w') as f:
        f.write(text)
    return dest


def read_settings(path):
    """A file of KEY=VALUE lines (a cloud's cloud.env) as a dict."""
    with open(path) as f:
        return dict(line.rstrip('\n').split('=', 1) for line in f
                    if '=' in line and not line.startswith('#'))


class LogLineExecutor(mirakuru.Executor):
    """Started once a line matching ``pattern`` is in the file ``path``."""

    def __init__(self, command, path, pattern, **kwargs):
        super().__init__(command, **kwargs)
        self.path, self.pattern = path, re.compile(pattern, re.M)

    def pre_start_check(self):
        return False

    def after_start_check(self):
        with contextlib.suppress(OSError), open(self.path) as f:
            return bool(self.pattern.search(f.read()))
        return False


def start(name, command, folder, run, http=None, log_line=None, tcp=None,
          env=None, timeout=120, cwd=None):
    """A service in a session of its own, output in ``folder/name.out``.

    http: a URL that answers (any 2xx or 3xx) once it is up; log_line:
    (path, pattern) that its log shows once it is up; tcp: (host, port)
    it accepts connections on once it is up; none: started.
    """
    kwargs = dict(timeout=timeout, sleep=0.5, cwd=cwd,
                  envvars=dict(env or {}, **{MARK: run}),
                  stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with open(os.path.join(folder, name + '.out'), 'w') as out:
        kwargs['stdout'] = out
        if http:
            executor = mirakuru.HTTPExecutor(
                command, http, status=r'^[23]\d\d$', method='GET', **kwargs)
        elif log_line:
            executor = LogLineExecutor(command, *log_line, **kwargs)
        elif tcp:
            executor = mirakuru.TCPExecutor(command, *tcp, **kwargs)
        else:
            executor = mirakuru.SimpleExecutor(command, **kwargs)
        executor.name = name
        return executor.start()


def stop(executor):
    """SIGTERM to its process group, SIGKILL after its timeout.

    How a service ends once told to is not the job's verdict: an exit
    status is logged, never raised, so that the teardown goes on.
    """
    try:
        executor.stop()
    except mirakuru.ExecutorError as exc:
        log('%s: %s' % (executor.name, exc))


def _pgid(pid):
    with contextlib.suppress(OSError):
        return os.getpgid(pid)


def marked(run, pgids=()):
    """The run's processes: its mark in their environment, or its groups.

    The groups are for gunicorn, whose process titles overwrite the
    environment that /proc shows.
    """
    return [p for p in psutil.process_iter(['environ'])
            if p.pid != os.getpid() and (
                (p.info['environ'] or {}).get(MARK) == run
                or _pgid(p.pid) in pgids)]


def sweep(run, pgids=(), timeout=30):
    """SIGTERM to every process of the run, SIGKILL after timeout."""
    procs = marked(run, pgids)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            log('process %d ignored SIGTERM: SIGKILL' % proc.pid)
            proc.kill()
    return procs


def until(what, probe, timeout=120, interval=2):
    """Wait for a state: probe() true; fails saying what never came."""
    try:
        return tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout),
            wait=tenacity.wait_fixed(interval),
            retry=tenacity.retry_if_result(lambda ok: not ok))(probe)
    except tenacity.RetryError:
        raise TimeoutError('%s: not after %ds' % (what, timeout)) from None


def mysql(sql):
    subprocess.run(['mysql', '-h', '127.0.0.1', '-u', 'root', '-e', sql],
                   check=True)


def psql(sql):
    subprocess.run(['psql', '-h', '127.0.0.1', '-U', 'postgres', '-q',
                    '-v', 'ON_ERROR_STOP=1', '-c', sql], check=True)


def rabbitmqctl(*args):
    return subprocess.run(['rabbitmqctl', '-q'] + list(args),
                          capture_output=True).returncode == 0


def drop(state):
    """Drop the databases, vhosts and outside files state (job.json) lists."""
    for path in state.get('files', ()):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            log('removed %s' % path)
    for kind, dropper in (('mysql', mysql), ('postgres', psql)):
        for db in state.get(kind, ()):
            with contextlib.suppress(subprocess.CalledProcessError):
                dropper('DROP DATABASE IF EXISTS %s' % db)
                log('database %s dropped' % db)
    for vhost in state.get('vhosts', ()):
        if rabbitmqctl('delete_vhost', vhost):
            log('RabbitMQ vhost %s deleted, with its queues' % vhost)


def remove(work, keep_logs):
    if keep_logs:
        log('logs kept (CBE_KEEP_LOGS): %s' % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
        log('removed %s' % work)


def load_state(work):
    with open(os.path.join(work, STATE)) as f:
        return json.load(f)


def save_state(work, state):
    with open(os.path.join(work, STATE), 'w') as f:
        json.dump(state, f)


def adopt(work, executor):
    """A service another process started joins the kept job in work."""
    state = load_state(work)
    state['pgids'].append(executor.process.pid)
    save_state(work, state)


def stop_kept(work, keep_logs=None):
    """Remove a kept job (its folder's job.json): processes, what it made."""
    state = load_state(work)
    log('--- stopping the kept job in %s' % work)
    log('processes: %d stopped' % len(sweep(state['run'],
                                            state.get('pgids', ()))))
    drop(state)
    remove(work, _keep_logs(keep_logs))


def _keep_logs(keep_logs):
    return bool(os.environ.get('CBE_KEEP_LOGS')) if keep_logs is None \
        else keep_logs


def _raise_stopped(signum, _frame):
    raise Stopped(signum)


class Job(contextlib.ExitStack):
    """A job's services and what it made, removed when the block ends."""

    def __init__(self, kind, work=None, run=None, keep_logs=None):
        super().__init__()
        self.kind, self.own_work = kind, work is None
        self.work = work
        self.run_id = run or secrets.token_hex(4)
        self.keep_logs = _keep_logs(keep_logs)
        self.services = []
        self.kept = False
        self.state = {'run': self.run_id, 'mysql': [], 'postgres': [],
                      'vhosts': [], 'pgids': [], 'files': []}
        self.started = time.monotonic()

    def __enter__(self):
        super().__enter__()
        self.handlers = {signum: signal.signal(signum, _raise_stopped)
                         for signum in SIGNALS}
        if self.own_work:
            self.work = tempfile.mkdtemp(prefix='cbe-%s.' % self.kind,
                                         dir='/tmp')
            self.save()
        return self

    def path(self, *names):
        return os.path.join(self.work, *names)

    def save(self):
        if self.own_work:
            save_state(self.work, self.state)

    def _made(self, kind, name):
        self.state[kind].append(name)
        self.save()

    # --- what the job makes ----------------------------------------------
    def mysql_database(self, name):
        mysql('DROP DATABASE IF EXISTS %s; CREATE DATABASE %s' % (name, name))
        self._made('mysql', name)
        return 'mysql+pymysql://root@127.0.0.1/%s' % name

    def postgres_database(self, name):
        psql('CREATE DATABASE %s' % name)
        self._made('postgres', name)
        return 'postgresql://postgres@127.0.0.1:5432/%s' % name

    def rabbit_vhost(self, name):
        """A vhost of its own, or '/' when rabbitmqctl cannot make one."""
        if shutil.which('rabbitmqctl') and rabbitmqctl('add_vhost', name):
            self._made('vhosts', name)
            rabbitmqctl('set_permissions', '-p', name, 'guest',
                        '.*', '.*', '.*')
            return name
        return '/'

    def outside_file(self, path, text):
        """A new file outside the job's folder, removed with the job."""
        with open(path, 'x') as f:
            f.write(text)
        self._made('files', path)
        return path

    # --- processes ---------------------------------------------------------
    def service(self, name, command, **kwargs):
        """start() a service of this job; it is stopped when the job ends."""
        kwargs.setdefault('cwd', self.work)
        executor = start(name, command, self.work, self.run_id, **kwargs)
        self.services.append(executor)
        self._made('pgids', executor.process.pid)  # a session leader
        return executor

    def run(self, command, check=True, env=None, **kwargs):
        """A command in the foreground, marked as the run's.

        When the job is stopped meanwhile, the command gets SIGTERM and
        time to clean up after itself (a job on the cloud stops what it
        started), rather than the SIGKILL of subprocess.run.
        """
        env = dict(env or os.environ, **{MARK: self.run_id})
        with subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                              **kwargs) as proc:
            try:
                status = proc.wait()
            except BaseException:
                proc.terminate()
                try:
                    proc.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    proc.kill()
                raise
        if check and status:
            raise subprocess.CalledProcessError(status, command)
        return status

    def keep(self):
        """Leave the services running after the block (a kept cloud)."""
        self.kept = True

    # --- the end -------------------------------------------------------------
    def tail_logs(self, lines=25):
        for name in sorted(os.listdir(self.work)):
            if name.endswith(('.log', '.out')):
                with open(self.path(name), errors='replace') as f:
                    last = f.readlines()[-lines:]
                log('==> %s <==\n%s' % (name, ''.join(
                    ln[:300] + ('\n' if len(ln) > 300 else '')
                    for ln in last)))

    def __exit__(self, exc_type, exc, tb):
        for signum in SIGNALS:  # a teardown runs once, to its end
            signal.signal(signum, signal.SIG_IGN)
        try:
            return self._teardown(exc_type, exc, tb)
        finally:
            for signum, handler in self.handlers.items():
                signal.signal(signum, handler)

    def _teardown(self, exc_type, exc, tb):
        failed = exc_type is not None and not (
            exc_type is SystemExit and exc.code in (0, None))
        if self.kept and not failed:
            # mirakuru stops its processes at exit and when an executor is
            # collected; a kept job's processes outlive this one.
            atexit.unregister(mirakuru.base.cleanup_subprocesses)
            for executor in self.services:
                executor.process = None
            return super().__exit__(exc_type, exc, tb)
        if failed and self.work:
            log('--- last lines of the logs (%s) ---' % self.work)
            self.tail_logs()
        log('--- stopping the %s job in %s' % (self.kind, self.work))
        for executor in reversed(self.services):
            stop(executor)
        left = sweep(self.run_id, self.state['pgids'])
        log('processes: %s' % ('%d more of the run stopped' % len(left)
                               if left else 'none left'))
        try:
            return super().__exit__(exc_type, exc, tb)
        finally:
            drop(self.state)
            if self.own_work:
                remove(self.work, self.keep_logs)
            log('%s job: ended after %.0fs' % (
                self.kind, time.monotonic() - self.started))


def main_status(body, *args):
    """body(*args)'s exit status, 128 + signal when a signal stopped it."""
    try:
        return body(*args) or 0
    except Stopped as exc:
        log('signal %d: stopped' % (exc.status - 128))
        return exc.status
    except KeyboardInterrupt:
        log('SIGINT: stopped')
        return 130
    except (subprocess.CalledProcessError, mirakuru.ExecutorError,
            TimeoutError) as exc:
        log('FAILED: %s' % exc)
        return 1


if __name__ == '__main__':
    sys.exit('tools/harness.py is a module, not a command')
