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

"""cinder-backup-ext-manage and -status, run as an operator runs them."""

import os
import subprocess
import sys
import time
import uuid

import fixtures
import sqlalchemy as sa

from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext.db import tables
from tests.functional import databases
from tools import testbed

MANAGE = [sys.executable, '-m', 'cinder_backup_ext.cmd.manage']
STATUS = [sys.executable, '-m', 'cinder_backup_ext.cmd.status']


class _Commands(object):

    def url(self, **changes):
        return self.engine.url.set(**changes).render_as_string(
            hide_password=False)

    def run_command(self, command, args, connection=None, extra='',
                    database='', sections=''):
        """Run ``command`` on a cinder.conf of these parts.

        ``extra`` goes in [DEFAULT], ``database`` in [database] after the
        connection, ``sections`` (whole sections) at the end.
        """
        conf = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'cinder.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\n%s\n[database]\n' % extra)
            if connection is not None:
                f.write('connection = %s\n' % connection)
            f.write('%s\n%s\n' % (database, sections))
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        return subprocess.run(command + ['--config-file', conf] + args,
                              capture_output=True, text=True, env=env)

    def manage(self, *args, **kwargs):
        return self.run_command(MANAGE, list(args), **kwargs)

    def assertFailsInOneLine(self, result, words):
        self.assertNotEqual(0, result.returncode, result.stdout)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertTrue(lines[0].startswith(
            'cinder-backup-ext-manage: error: '), lines[0])
        self.assertIn(words, lines[0].lower())


# SQLite's test database lives in this process's memory, out of a
# command's reach; the migration itself is tested on SQLite elsewhere.
@databases.for_each_engine(engines=('mysql', 'postgresql'))
class ManageTests(_Commands):

    def test_sync_version_downgrade(self):
        url = self.url()
        self.assertIn('None', self.manage('db', 'version',
                                          connection=url).stdout)
        result = self.manage('db', 'sync', connection=url)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('upgraded', result.stdout)
        self.assertIn('nothing to do',
                      self.manage('db', 'sync', connection=url).stdout)
        with self.engine.begin() as conn:  # lost behind our back
            conn.execute(sa.text('DROP INDEX %s%s' % (
                parent_index.NAME,
                ' ON backups' if conn.dialect.name == 'mysql' else '')))
        self.assertIn('index was missing; rebuilt',
                      self.manage('db', 'sync', connection=url).stdout)
        self.assertEqual(migration.head(), self.manage(
            'db', 'version', connection=url).stdout.strip())
        self.assertEqual(0, self.manage('db', 'downgrade', 'base',
                                        connection=url).returncode)
        self.assertIsNone(migration.version(self.engine))

    def test_bad_inputs(self):
        cases = [
            (('db', 'sync'), None, 'no [database] connection'),
            (('db', 'sync'), 'not a url', 'could not parse'),
            (('db', 'sync'), 'nosuchdb://h/d', "can't load plugin"),
            (('db', 'sync'), self.url(host='127.0.0.1', port=1), 'connect'),
            (('db', 'downgrade', 'nope'), self.url(), "can't locate"),
        ]
        for args, connection, words in cases:
            # Without retries: oslo.db's default is 10 tries 10 s apart.
            result = self.manage(*args, connection=connection,
                                 database='max_retries = 0')
            self.assertFailsInOneLine(result, words)
        self.assertIsNone(migration.version(self.engine))

    def test_connection_parameters_reach_the_driver(self):
        # TLS settings live in connection_parameters; demanding a CA file
        # that does not exist must fail, where a bare engine connects.
        parameters = {
            'postgresql': 'sslmode=verify-full&sslrootcert=/nonexistent/ca',
            'mysql': 'ssl_ca=/nonexistent/ca',
        }[self.engine.dialect.name]
        result = self.manage('db', 'version', connection=self.url(),
                             database='max_retries = 0\n'
                                      'connection_parameters = ' + parameters)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertNotIn('None', result.stdout)
        last = result.stderr.strip().splitlines()[-1].lower()
        # PyMySQL does not name the missing CA file; it is the only file.
        self.assertTrue(any(words in last for words in (
            'ssl', '/nonexistent/ca', 'no such file')), last)

    def test_missing_config_file(self):
        result = subprocess.run(MANAGE + ['--config-file', '/nonexistent',
                                          'db', 'sync'],
                                capture_output=True, text=True,
                                env=dict(os.environ,
                                         PYTHONWARNINGS='ignore'))
        self.assertFailsInOneLine(result, 'nonexistent')

    def test_check_dependents_finds_and_fixes_one_row(self):
        rows, children = testbed.chain_rows(500)
        testbed.insert(self.engine, rows)
        victim = sorted(children)[7]
        backups = tables.BACKUPS
        url = self.url()
        agreeing = self.manage('backups', 'check-dependents',
                               connection=url)
        self.assertEqual(0, agreeing.returncode, agreeing.stderr)
        self.assertIn('agrees', agreeing.stdout)
        with self.engine.begin() as conn:
            conn.execute(backups.update().where(backups.c.id == victim)
                         .values(num_dependent_backups=9))
            before = dict(conn.execute(sa.select(
                backups.c.id, backups.c.num_dependent_backups)).all())
        dry = self.manage('backups', 'check-dependents', '--batch-size',
                          '64', connection=url)
        # Drift found and left alone: the status a monitoring check reads.
        self.assertEqual(3, dry.returncode, dry.stderr)
        listed = [line for line in dry.stdout.splitlines()
                  if 'num_dependent_backups=' in line]
        self.assertEqual(['%s num_dependent_backups=9 live children=%d'
                          % (victim, children[victim])], listed)
        fixed = self.manage('backups', 'check-dependents', '--fix',
                            connection=url)
        self.assertEqual(0, fixed.returncode, fixed.stderr)
        self.assertIn('(fixed)', fixed.stdout)
        with self.engine.connect() as conn:
            after = dict(conn.execute(sa.select(
                backups.c.id, backups.c.num_dependent_backups)).all())
        before[victim] = children[victim]
        self.assertEqual(before, after)
        again = self.manage('backups', 'check-dependents', connection=url)
        self.assertEqual(0, again.returncode, again.stderr)
        self.assertIn('agrees', again.stdout)

    def test_check_dependents_help_lists_the_exit_statuses(self):
        result = subprocess.run(
            MANAGE + ['backups', 'check-dependents', '--help'],
            capture_output=True, text=True,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
        self.assertEqual(0, result.returncode, result.stderr)
        epilog = result.stdout.split('exit status:', 1)[1]
        for status, words in (('0', 'agrees'), ('1', 'error'),
                              ('3', 'not fixed')):
            self.assertRegex(epilog, r'\n +%s +[^\n]*%s' % (status, words))

    def test_upgrade_check(self):
        extra = ('osapi_volume_extension = '
                 'cinder.api.contrib.standard_extensions\n'
                 'osapi_volume_extension = '
                 'cinder_backup_ext.api.loader.load')
        before = self.run_command(STATUS, ['upgrade', 'check'],
                                  connection=self.url(), extra=extra)
        self.assertEqual(2, before.returncode, before.stdout)
        self.assertIn('db sync', before.stdout)
        migration.upgrade(self.engine)
        after = self.run_command(STATUS, ['upgrade', 'check'],
                                 connection=self.url(), extra=extra)
        self.assertEqual(0, after.returncode, after.stdout)
        self.assertNotIn('Warning', after.stdout)

        # The hook enabled, but forwarding to nothing: a warning (exit 1).
        for inner in ('noop', ''):
            result = self.run_command(
                STATUS, ['upgrade', 'check'], connection=self.url(),
                extra=extra, sections=(
                    '[oslo_messaging_notifications]\n'
                    'driver = cinder_backup_ext\n'
                    '[cinder_backup_ext]\n'
                    'notification_drivers = %s\n' % inner))
            self.assertEqual(1, result.returncode, result.stdout)
            # The table wraps long details: compare the words.
            notifier = ' '.join(result.stdout.split(
                'Check: Notifier hook', 1)[1].replace('|', ' ').split())
            self.assertIn('Result: Warning', notifier)
            self.assertIn('nothing is sent anywhere', notifier)
        result = self.run_command(
            STATUS, ['upgrade', 'check'], connection=self.url(),
            extra=extra, sections=(
                '[oslo_messaging_notifications]\n'
                'driver = cinder_backup_ext\n'
                '[cinder_backup_ext]\n'
                'notification_drivers = noop, messagingv2\n'))
        self.assertEqual(0, result.returncode, result.stdout)


# MariaDB only: oslo.db retries only the errors it recognises as
# connection errors, and libpq 14+ words a refused connection in a way it
# does not, so a PostgreSQL URL fails at once whatever max_retries says.
@databases.for_each_engine(engines=('mysql',))
class RetryTests(_Commands):

    def test_retries_are_honoured(self):
        # oslo.db tries the connection max_retries times, retry_interval
        # apart; a bare SQLAlchemy engine fails at once.
        started = time.monotonic()
        result = self.manage(
            'db', 'version', connection=self.url(host='127.0.0.1', port=1),
            database='max_retries = 2\nretry_interval = 1')
        self.assertGreaterEqual(time.monotonic() - started, 2)
        self.assertEqual(1, result.returncode, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(3, len(lines), result.stderr)
        for line in lines[:2]:
            self.assertRegex(line, '^cinder-backup-ext-manage: warning: SQL '
                             'connection failed. [0-9]+ attempts left.$')
        self.assertTrue(lines[2].startswith(
            'cinder-backup-ext-manage: error: '), result.stderr)


@databases.for_each_engine
class NoSchemaTests(_Commands):

    cinder_schema = False

    def test_refused(self):
        result = self.manage('db', 'sync', connection=self.url())
        self.assertFailsInOneLine(result, 'no cinder schema')


@databases.for_each_engine(engines=('mysql', 'postgresql'))
class PrivilegeTests(_Commands):

    def test_read_only_user_cannot_sync_and_nothing_is_applied(self):
        user = 'cbe_ro_%s' % uuid.uuid4().hex[:8]
        database = self.engine.url.database
        with self.engine.begin() as conn:
            if conn.dialect.name == 'mysql':
                for host in ('%', 'localhost'):
                    conn.execute(sa.text(
                        "CREATE USER '%s'@'%s' IDENTIFIED BY 'pw'"
                        % (user, host)))
                    conn.execute(sa.text("GRANT SELECT ON %s.* TO '%s'@'%s'"
                                         % (database, user, host)))
                    self.addCleanup(self._run_sql, "DROP USER '%s'@'%s'"
                                    % (user, host))
            else:
                conn.execute(sa.text("CREATE ROLE %s LOGIN PASSWORD 'pw'"
                                     % user))
                conn.execute(sa.text('GRANT SELECT ON ALL TABLES IN SCHEMA '
                                     'public TO %s' % user))
                self.addCleanup(self._run_sql,
                                'REVOKE ALL ON ALL TABLES IN SCHEMA public '
                                'FROM %s' % user, 'DROP ROLE %s' % user)
        result = self.manage('db', 'sync', connection=self.url(
            username=user, password='pw', host='127.0.0.1'))
        self.assertNotEqual(0, result.returncode)
        self.assertEqual(1, len(result.stderr.strip().splitlines()),
                         result.stderr)
        self.assertIsNone(migration.version(self.engine))
        with self.engine.connect() as conn:
            self.assertNotIn('cinder_backup_ext_alembic_version',
                             sa.inspect(conn).get_table_names())

    def _run_sql(self, *statements):
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
