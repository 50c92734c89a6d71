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

"""A skip-level (SLURP) upgrade with the plugin installed loses nothing.

Run by ``tox -e upgrade`` (``tools/upgrade/run.sh``), in Cinder 28.0.0's
environment, with the older releases' virtualenvs in ``CBE_UPGRADE_VENVS``.
For MariaDB and PostgreSQL, on a fresh database found the way oslo.db's
opportunistic fixtures find servers, once per test class:

1. Cinder 24.5.0 (2024.1): its ``cinder-manage db sync``, then its
   ``cinder-backup-ext-manage db sync`` (our index and our table of backup
   sizes);
2. backup chains written as SQL: depth 1 to 4, soft-deleted rows, children
   in error and still creating, counters drifted both ways, and a larger
   table in another project so that the planner has a choice; the stored
   sizes of a few of them, as the notifier records them;
3. every backups row read (all columns, by id);
4. Cinder 26.3.0's (2025.1) ``cinder-manage db sync``, then 28.0.0's
   (2026.1), as operators upgrade skip-level; then our ``db sync``.

The tests then check the rows, our index (definition, validity, the
plan of the count), the recorded sizes, both alembic version tables, the
upgrade check, and the flags read through Cinder 28.0.0's real v3 WSGI app
with the plugin, against the truth computed here from the rows written in
step 2.

This directory is no Python package, so the default test runs never
collect it; a missing ``CBE_UPGRADE_VENVS`` is a failure, not a skip.
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

from oslo_db import exception as db_exception
from oslo_db.sqlalchemy import provision
import sqlalchemy as sa
import testtools
from testtools import content

from cinder_backup_ext.db import dependents
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext.db import sizes
from tests.functional import databases
from tests.functional import test_migration
from tools import testbed

VENVS_VARIABLE = 'CBE_UPGRADE_VENVS'
OLD, MIDDLE = '24.5.0', '26.3.0'  # 2024.1, 2025.1; this env is 28.0.0
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROJECT = 'c1f0a3d2e5b84f0e9a7d6c5b4a3f2e10'
USER = 'c1f0a3d2e5b84f0e9a7d6c5b4a3f2e11'
OTHER_PROJECT = 'c1f0a3d2e5b84f0e9a7d6c5b4a3f2e12'
NAMESPACE = uuid.UUID('6f3e9a4c-1d2b-4c5e-8f70-91a2b3c4d5e6')
EPOCH = datetime.datetime(2024, 5, 2, 9, 30, 0)

# The hand-written chains: (name, parent, status, deleted, counter).
# ``counter`` is num_dependent_backups as Cinder would have left it.
SCENARIO = [
    # depth 1 to 4, counters right
    ('full', None, 'available', False, 0),
    ('d2-full', None, 'available', False, 1),
    ('d2-inc', 'd2-full', 'available', False, 0),
    ('d3-full', None, 'available', False, 1),
    ('d3-inc1', 'd3-full', 'available', False, 1),
    ('d3-inc2', 'd3-inc1', 'available', False, 0),
    ('d4-full', None, 'available', False, 1),
    ('d4-inc1', 'd4-full', 'available', False, 1),
    ('d4-inc2', 'd4-inc1', 'available', False, 1),
    ('d4-inc3', 'd4-inc2', 'available', False, 0),
    # a soft-deleted leaf: its parent has no dependents any more
    ('del-leaf-parent', None, 'available', False, 0),
    ('del-leaf', 'del-leaf-parent', 'deleted', True, 0),
    # a whole chain soft-deleted
    ('gone-full', None, 'deleted', True, 0),
    ('gone-inc', 'gone-full', 'deleted', True, 0),
    # a child in error: Cinder never counted it, yet it blocks the delete
    ('err-parent', None, 'available', False, 0),
    ('err-child', 'err-parent', 'error', False, 0),
    # a child still being created
    ('creating-parent', None, 'available', False, 0),
    ('creating-child', 'creating-parent', 'creating', False, 0),
    # drifted down: a live available child, the counter says 0
    ('drift-down-parent', None, 'available', False, 0),
    ('drift-down-child', 'drift-down-parent', 'available', False, 0),
    # drifted up: the counter says 2, the only child is deleted
    ('drift-up-parent', None, 'available', False, 2),
    ('drift-up-child', 'drift-up-parent', 'deleted', True, 0),
    # one live and one deleted child
    ('mixed-parent', None, 'available', False, 1),
    ('mixed-live', 'mixed-parent', 'available', False, 0),
    ('mixed-gone', 'mixed-parent', 'deleted', True, 0),
]
DRIFTED = ('err-parent', 'creating-parent', 'drift-down-parent',
           'drift-up-parent')


def _id(name):
    return str(uuid.uuid5(NAMESPACE, name))


def _complete(row, project, n):
    """A backups row with the columns Cinder fills, from a skeleton."""
    created = EPOCH + datetime.timedelta(seconds=n)
    deleted = bool(row['deleted'])
    status = row['status'] if not deleted else 'deleted'
    return {
        'id': row['id'], 'volume_id': row['volume_id'],
        'parent_id': row['parent_id'], 'deleted': deleted,
        'status': status,
        'num_dependent_backups': row['num_dependent_backups'],
        'created_at': created,
        'updated_at': created + datetime.timedelta(minutes=3),
        'deleted_at': (created + datetime.timedelta(days=1)
                       if deleted else None),
        'user_id': USER, 'project_id': project,
        'host': 'backup-host@posix', 'availability_zone': 'nova',
        'display_name': 'backup-%d' % n,
        'display_description': 'row %d of the upgrade test' % n,
        'container': 'backups/%s' % row['volume_id'][:8],
        'fail_reason': 'disk full' if status == 'error' else None,
        'service_metadata': 'backup_%d' % n,
        'service': 'cinder.backup.drivers.posix.PosixBackupDriver',
        'size': 1 + n % 3, 'object_count': 4 + n % 5,
        'temp_volume_id': None, 'temp_snapshot_id': None,
        'snapshot_id': None, 'data_timestamp': created,
        'restore_volume_id': None, 'encryption_key_id': None,
    }


def backup_rows():
    """(rows of the project, rows of another project), as written."""
    volumes = {}
    skeletons = []
    for name, parent, status, deleted, counter in SCENARIO:
        root = name if parent is None else volumes[parent]
        volumes[name] = root
        skeletons.append({
            'id': _id(name), 'volume_id': _id('volume-' + root),
            'parent_id': _id(parent) if parent else None,
            'deleted': deleted, 'status': status,
            'num_dependent_backups': counter})
    # More chains of depth 1-4 with right counters, some soft-deleted.
    more, _ = testbed.chain_rows(150, seed=2024, max_depth=4)
    ours = [_complete(r, PROJECT, n)
            for n, r in enumerate(skeletons + more)]
    # A larger table behind them, in another project: with a few hundred
    # rows a planner may rightly prefer a scan to any index.
    other, _ = testbed.chain_rows(20000, seed=2025, max_depth=4)
    theirs = [_complete(r, OTHER_PROJECT, len(ours) + n)
              for n, r in enumerate(other)]
    return ours, theirs


def truth(rows):
    """What the plugin must say for each live row, from the rows alone."""
    live_children = {}
    for row in rows:
        if row['parent_id'] and not row['deleted']:
            live_children.setdefault(row['parent_id'], 0)
            live_children[row['parent_id']] += 1
    return {row['id']: {'is_incremental': row['parent_id'] is not None,
                        'has_dependent_backups':
                            live_children.get(row['id'], 0) > 0}
            for row in rows if not row['deleted']}


# --- reading the database --------------------------------------------------

def _value(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def snapshot(engine):
    """{column: type} and {id: {column: value}} of every backups row."""
    with engine.connect() as conn:
        table = sa.Table('backups', sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(table).order_by(table.c.id)).mappings()
        data = {row['id']: {k: _value(v) for k, v in row.items()}
                for row in rows}
    return {c.name: str(c.type) for c in table.columns}, data


def checksum(data, columns):
    """One digest of ``columns`` of every row, in id order."""
    digest = hashlib.sha256()
    for backup_id in sorted(data):
        digest.update(json.dumps([data[backup_id][c] for c in columns],
                                 default=repr).encode())
        digest.update(b'\n')
    return digest.hexdigest()


def index_state(conn):
    """Our index as the server describes it, and what backs it.

    ``definition`` must never change; ``storage`` (the relation's file on
    PostgreSQL, the table's id on InnoDB) changes when the table or the
    index is rebuilt, which is reported, not failed.
    """
    dialect = conn.dialect.name
    state = {'indexes': sorted(
        '%s(%s)' % (i['name'], ','.join(i['column_names']))
        for i in sa.inspect(conn).get_indexes('backups'))}
    if dialect == 'postgresql':
        row = conn.execute(sa.text(
            'SELECT i.indexdef, x.indisvalid, x.indisready, c.relfilenode, '
            't.relfilenode FROM pg_indexes i '
            'JOIN pg_class c ON c.relname = i.indexname '
            'JOIN pg_index x ON x.indexrelid = c.oid '
            'JOIN pg_class t ON t.oid = x.indrelid '
            'WHERE i.indexname = :name'),
            {'name': parent_index.NAME}).first()
        state['definition'] = row and {'indexdef': row[0], 'valid': row[1],
                                       'ready': row[2]}
        state['storage'] = row and {'index': row[3], 'table': row[4]}
    else:
        rows = conn.execute(sa.text(
            'SELECT seq_in_index, column_name, non_unique, index_type '
            'FROM information_schema.statistics '
            'WHERE table_schema = DATABASE() AND table_name = :table '
            'AND index_name = :name ORDER BY seq_in_index'),
            {'table': parent_index.TABLE, 'name': parent_index.NAME}).all()
        state['definition'] = [list(r) for r in rows] or None
        state['storage'] = conn.execute(sa.text(
            'SELECT table_id FROM information_schema.innodb_sys_tables '
            "WHERE name = CONCAT(DATABASE(), '/backups')")).scalar()
    return state


def versions(conn):
    """Rows of Cinder's and our alembic version tables."""
    tables = set(sa.inspect(conn).get_table_names())
    return {table: sorted(r[0] for r in conn.execute(sa.text(
        'SELECT version_num FROM %s' % table)))
        for table in ('alembic_version', migration.VERSION_TABLE)
        if table in tables}


def _cinder_head(python):
    """The head of Cinder's migrations in the environment of ``python``."""
    code = ('import os, cinder.db.migration as m\n'
            'from alembic import script\n'
            'print(script.ScriptDirectory(os.path.join(os.path.dirname('
            'm.__file__), "migrations")).get_current_head())\n')
    return subprocess.run([python, '-c', code], check=True,
                          capture_output=True, text=True).stdout.strip()


class _Step(object):
    def __init__(self, name, command, result, seconds):
        self.name = name
        self.command = command
        self.returncode = result.returncode
        self.output = result.stdout + result.stderr
        self.seconds = seconds

    def __str__(self):
        return '%s: %s (exit %d, %.1f s)\n%s' % (
            self.name, ' '.join(self.command), self.returncode, self.seconds,
            self.output.strip())


# --- the upgrade, once per engine -----------------------------------------

class SkipLevelUpgrade(object):
    """One engine's upgrade; the concrete classes name the fixture."""

    FIXTURE = None  # one of databases.ENGINES' oslo.db fixtures

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bin = {'new': os.path.dirname(sys.executable)}
        cls._find_venvs()
        cls.tmp = tempfile.mkdtemp(prefix='cbe-upgrade-')
        cls.backend = cls.database = cls.engine = None
        try:
            cls._create_database()
            cls._upgrade()
        except BaseException:
            cls._clean_up()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._clean_up()
        super().tearDownClass()

    @classmethod
    def _find_venvs(cls):
        venvs = os.environ.get(VENVS_VARIABLE)
        if not venvs:
            raise AssertionError(
                '%s is not set: it names the directory holding the Cinder '
                '%s and %s virtualenvs; run these tests with '
                '`tox -e upgrade` (tools/upgrade/run.sh builds them)'
                % (VENVS_VARIABLE, OLD, MIDDLE))
        for release in (OLD, MIDDLE):
            bin_dir = os.path.join(venvs, 'cinder-%s' % release, 'bin')
            for tool in ('cinder-manage', 'cinder-backup-ext-manage'):
                if not os.access(os.path.join(bin_dir, tool), os.X_OK):
                    raise AssertionError(
                        'no %s in %s (%s=%s): run `tox -e upgrade`'
                        % (tool, bin_dir, VENVS_VARIABLE, venvs))
            cls.bin[release] = bin_dir

    @classmethod
    def _create_database(cls):
        driver = cls.FIXTURE.DRIVER
        try:
            cls.backend = provision.Backend.backend_for_database_type(driver)
        except db_exception.BackendNotAvailable as exc:
            # Both servers are part of this job: their absence fails it.
            raise AssertionError(
                'no %s server for the upgrade test (%s); run '
                'tools/test-setup.sh, or set OS_TEST_DBAPI_ADMIN_CONNECTION'
                % (driver, exc))
        name = 'cbe_upgrade_%s' % uuid.uuid4().hex[:12]
        cls.backend.create_named_database(name)
        cls.database = name
        cls.url = cls.backend.provisioned_database_url(name)
        cls.engine = sa.create_engine(cls.url)
        cls.config = os.path.join(cls.tmp, 'cinder.conf')
        with open(cls.config, 'w') as f:
            f.write('[DEFAULT]\n'
                    'state_path = %s\n'
                    'auth_strategy = noauth\n'
                    'osapi_volume_extension = '
                    'cinder.api.contrib.standard_extensions\n'
                    'osapi_volume_extension = '
                    'cinder_backup_ext.api.loader.load\n'
                    '[database]\n'
                    'connection = %s\n'
                    % (cls.tmp,
                       cls.url.render_as_string(hide_password=False)))

    @classmethod
    def _clean_up(cls):
        if cls.engine is not None:
            cls.engine.dispose()
        if cls.database is not None:
            cls.backend.drop_named_database(cls.database)
            cls.database = None
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def _run(cls, name, release, *args):
        command = [os.path.join(cls.bin[release], args[0]),
                   '--config-file', cls.config] + list(args[1:])
        started = datetime.datetime.now()
        result = subprocess.run(command, capture_output=True, text=True,
                                cwd=cls.tmp, stdin=subprocess.DEVNULL)
        step = _Step(name, command, result,
                     (datetime.datetime.now() - started).total_seconds())
        cls.steps.append(step)
        return step

    @classmethod
    def _state(cls, label):
        with cls.engine.connect() as conn:
            cls.index_states.append((label, index_state(conn)))
            cls.version_states.append((label, versions(conn)))

    @classmethod
    def _upgrade(cls):
        cls.steps, cls.index_states, cls.version_states = [], [], []
        cls.broken = None
        # Stop at the first failing command; each test says so.
        plan = [
            ('cinder-manage %s' % OLD, OLD, 'cinder-manage', 'db', 'sync'),
            ('cinder-backup-ext-manage %s' % OLD, OLD,
             'cinder-backup-ext-manage', 'db', 'sync'),
            'write rows',
            ('cinder-manage %s' % MIDDLE, MIDDLE, 'cinder-manage', 'db',
             'sync'),
            ('cinder-manage 28.0.0', 'new', 'cinder-manage', 'db', 'sync'),
            ('cinder-backup-ext-manage 28.0.0', 'new',
             'cinder-backup-ext-manage', 'db', 'sync'),
        ]
        for item in plan:
            if item == 'write rows':
                cls._write_rows()
                continue
            step = cls._run(*item)
            if step.returncode != 0:
                cls.broken = str(step)
                return
            cls._state('after ' + step.name)
        cls.columns_after, cls.data_after = snapshot(cls.engine)
        cls.status = cls._run('upgrade check', 'new',
                              'cinder-backup-ext-status', 'upgrade', 'check')
        cls.heads = {OLD: _cinder_head(os.path.join(cls.bin[OLD], 'python')),
                     'new': _cinder_head(sys.executable)}

    @classmethod
    def _write_rows(cls):
        cls.ours, cls.theirs = backup_rows()
        with cls.engine.begin() as conn:
            # The schema as 24.5.0 made it, not as this Cinder models it.
            table = sa.Table('backups', sa.MetaData(), autoload_with=conn)
            for rows in (cls.ours, cls.theirs):
                for start in range(0, len(rows), 5000):
                    conn.execute(table.insert(), rows[start:start + 5000])
        cls.columns_before, cls.data_before = snapshot(cls.engine)
        # A full past 32 bits, an incremental that wrote nothing, and one
        # recorded as unknown.
        cls.sizes_before = {
            _id('d2-full'): (sizes.Size(6 * 1024 ** 4, 3000), 'progress'),
            _id('d2-inc'): (sizes.Size(0, 0), 'progress'),
            _id('full'): (sizes.Size(None, None), 'measure')}
        for backup_id, (size, source) in cls.sizes_before.items():
            sizes.record(cls.engine, backup_id, size, source)

    # --- helpers for the tests ---

    def setUp(self):
        super().setUp()
        if self.broken:
            self.fail('the upgrade stopped:\n%s' % self.broken)

    def attach(self, name, text):
        self.addDetail(name, content.text_content(text))

    # --- the checks ---

    def test_every_command_succeeded(self):
        self.attach('commands', '\n\n'.join(str(s) for s in self.steps))
        for step in self.steps:
            self.assertEqual(0, step.returncode, str(step))
            self.assertNotIn('Traceback', step.output, str(step))

    def test_rows_intact(self):
        before, after = self.columns_before, self.columns_after
        common = [c for c in before if c in after]
        added = sorted(set(after) - set(before))
        dropped = sorted(set(before) - set(after))
        retyped = {c: (before[c], after[c]) for c in common
                   if before[c] != after[c]}
        self.attach('columns', json.dumps(
            {'compared': common, 'added by Cinder': added,
             'dropped by Cinder': dropped, 'types changed': retyped,
             'rows': len(self.data_after),
             'checksum': checksum(self.data_after, common)}, indent=1))
        self.assertEqual(len(self.ours) + len(self.theirs),
                         len(self.data_before))
        self.assertEqual(sorted(self.data_before), sorted(self.data_after))
        changed = ['%s.%s: %r -> %r' % (i, c, self.data_before[i][c],
                                        self.data_after[i][c])
                   for i in sorted(self.data_before) for c in common
                   if self.data_before[i][c] != self.data_after[i][c]]
        self.assertEqual([], changed[:20])
        self.assertEqual(checksum(self.data_before, common),
                         checksum(self.data_after, common))

    def test_index_kept(self):
        self.attach('index at each step', '\n'.join(
            '%s: %s' % (label, json.dumps(state, default=str))
            for label, state in self.index_states))
        states = self.index_states
        self.assertIsNone(states[0][1]['definition'],
                          'the index before our first db sync')
        first = states[1][1]['definition']
        self.assertIsNotNone(first, 'no index after our first db sync')
        for label, state in states[1:]:
            self.assertEqual(first, state['definition'], label)
        with self.engine.connect() as conn:
            self.assertEqual(parent_index.NAME, parent_index.find(conn))
            self.assertTrue(parent_index.is_valid(conn))
            columns = [i['column_names']
                       for i in sa.inspect(conn).get_indexes('backups')
                       if i['name'] == parent_index.NAME]
        self.assertEqual([list(parent_index.COLUMNS)], columns)

    def test_sizes_kept(self):
        with self.engine.connect() as conn:
            got = {backup_id: sizes.read(conn, backup_id)
                   for backup_id in self.sizes_before}
            columns = [(c['name'], c['nullable']) for c in
                       sa.inspect(conn).get_columns(sizes.NAME)]
        self.assertEqual(self.sizes_before, got)
        self.assertEqual([('backup_id', False), ('stored_bytes', True),
                          ('object_count', True), ('source', False),
                          ('recorded_at', False)], columns)

    def test_our_db_sync_is_a_no_op(self):
        last = self.steps[-2]  # before the upgrade check
        self.assertEqual('cinder-backup-ext-manage 28.0.0', last.name)
        self.assertIn('nothing to do', last.output)
        before = dict(self.index_states)['after cinder-manage 28.0.0']
        after = dict(self.index_states)['after ' + last.name]
        self.assertEqual(before, after)
        self.assertEqual(
            dict(self.version_states)['after cinder-manage 28.0.0'],
            dict(self.version_states)['after ' + last.name])

    def test_version_tables(self):
        self.attach('versions', '\n'.join(
            '%s: %s' % (label, state) for label, state in
            self.version_states) + '\nheads: %s' % self.heads)
        states = dict(self.version_states)
        self.assertEqual(
            {'alembic_version': [self.heads[OLD]],
             migration.VERSION_TABLE: [migration.head()]},
            states['after cinder-backup-ext-manage %s' % OLD])
        with self.engine.connect() as conn:
            self.assertEqual(
                {'alembic_version': [self.heads['new']],
                 migration.VERSION_TABLE: [migration.head()]},
                versions(conn))

    def test_count_query_uses_the_index(self):
        parents = sorted({r['parent_id'] for r in self.theirs
                          if r['parent_id'] and not r['deleted']})[:50]
        with self.engine.begin() as conn:
            test_migration.analyze(conn)
        with self.engine.connect() as conn:
            # The form the API sends on this engine.
            statement = dependents.statement(parents, conn.dialect.name)
            plan = test_migration.explain(conn, statement)
            got = dict(conn.execute(statement).all())
        # The id list makes very long lines: keep the plan's shape.
        self.attach('plan', '\n'.join(line[:160]
                                      for line in plan.splitlines()))
        self.assertIn(parent_index.NAME, plan)
        expected = {}
        for row in self.theirs:
            if row['parent_id'] in parents and not row['deleted']:
                expected[row['parent_id']] = (
                    expected.get(row['parent_id'], 0) + 1)
        self.assertEqual(expected, got)

    def test_upgrade_check_passes(self):
        self.attach('upgrade check', str(self.status))
        self.assertEqual(0, self.status.returncode, str(self.status))
        self.assertIn(parent_index.NAME, self.status.output)

    def test_flags_through_the_new_api(self):
        expected = truth(self.ours)
        deleted = sorted(r['id'] for r in self.ours if r['deleted'])
        paths = (['/backups/detail'] +
                 ['/backups/%s' % i for i in sorted(expected)] +
                 ['/backups/%s' % i for i in deleted])
        output = os.path.join(self.tmp, 'api-%s.json' % self.id())
        result = subprocess.run(
            [sys.executable, '-m', 'tools.cinder_app',
             '--config-file', self.config, '--project', PROJECT,
             '--user', USER, '--stock', '--output', output] + paths,
            cwd=TOP, capture_output=True, text=True,
            stdin=subprocess.DEVNULL)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        with open(output) as f:
            responses = json.load(f)
        os.unlink(output)

        def flags(body):
            return {'is_incremental': body.get('is_incremental'),
                    'has_dependent_backups':
                        body.get('has_dependent_backups')}

        seen = {}
        for name in ('plugin', 'stock'):
            got = responses[name]
            detail = got['/backups/detail']
            self.assertEqual(200, detail['status'], detail)
            listed = {b['id']: flags(b) for b in detail['body']['backups']}
            shown = {}
            for backup_id in expected:
                response = got['/backups/%s' % backup_id]
                self.assertEqual(200, response['status'], response)
                shown[backup_id] = flags(response['body']['backup'])
            for backup_id in deleted:
                self.assertEqual(404, got['/backups/%s' % backup_id]['status'])
            # The detail list holds exactly the project's live backups.
            self.assertEqual(sorted(expected), sorted(listed))
            seen[name] = (listed, shown)
        names = {_id(name): name for name, *_ in SCENARIO}
        table = ['%-20s %-36s truth  plugin  stock' % ('', 'backup')]
        for backup_id in sorted(expected, key=lambda i: names.get(i, i)):
            table.append('%-20s %s  %-5s  %-6s  %s' % (
                names.get(backup_id, ''), backup_id,
                expected[backup_id]['has_dependent_backups'],
                seen['plugin'][1][backup_id]['has_dependent_backups'],
                seen['stock'][1][backup_id]['has_dependent_backups']))
        self.attach('has_dependent_backups', '\n'.join(table))

        listed, shown = seen['plugin']
        self.assertEqual(expected, shown)
        self.assertEqual(expected, listed)
        # The drifted parents are where stock Cinder, reading the
        # counter, is wrong: the rows do exercise what the plugin fixes.
        stock = seen['stock'][1]
        for name in DRIFTED:
            self.assertNotEqual(
                expected[_id(name)]['has_dependent_backups'],
                stock[_id(name)]['has_dependent_backups'], name)
        self.assertTrue(expected[_id('err-parent')]['has_dependent_backups'])
        self.assertTrue(
            expected[_id('drift-down-parent')]['has_dependent_backups'])


class SkipLevelUpgradeMariaDB(SkipLevelUpgrade, testtools.TestCase):
    FIXTURE = databases.ENGINES['mysql']


class SkipLevelUpgradePostgreSQL(SkipLevelUpgrade, testtools.TestCase):
    FIXTURE = databases.ENGINES['postgresql']
