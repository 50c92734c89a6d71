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

"""``db sync`` on a MariaDB Galera cluster, TOI and --galera-rsu.

Only ``tox -e galera`` runs these (tools/galera/run.sh starts the cluster
and sets CBE_GALERA_PORTS); elsewhere this module holds no tests, so that
the default run neither skips nor needs a cluster.
"""

import os
import subprocess
import sys
import tempfile
import uuid

import sqlalchemy as sa
import testtools

from cinder_backup_ext.db import parent_index

PORTS = [int(p) for p in os.environ.get('CBE_GALERA_PORTS', '').split(',')
         if p]
URL = 'mysql+pymysql://root@127.0.0.1:%d/%s'
MANAGE = [os.path.join(os.path.dirname(sys.executable),
                       'cinder-backup-ext-manage')]


def load_tests(loader, standard_tests, pattern):
    if not PORTS:
        return loader.suiteClass()
    return standard_tests


class GaleraSyncTests(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # One database per test: the tests run in parallel on one cluster.
        self.database = DATABASE = 'cbe_galera_%s' % uuid.uuid4().hex[:12]
        admin = sa.create_engine(URL % (PORTS[0], ''),
                                 isolation_level='AUTOCOMMIT')
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % DATABASE))
            conn.execute(sa.text('CREATE DATABASE %s' % DATABASE))

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                     % DATABASE))
            admin.dispose()
        self.addCleanup(drop)
        # The backups table and Cinder's alembic_version, as Cinder's
        # migrations leave them for this package (the job runs those).
        self.engine = sa.create_engine(URL % (PORTS[0], DATABASE))
        self.addCleanup(self.engine.dispose)
        with self.engine.begin() as conn:
            conn.execute(sa.text(
                'CREATE TABLE backups (id VARCHAR(36) PRIMARY KEY, '
                'parent_id VARCHAR(36), deleted BOOLEAN)'))
            conn.execute(sa.text(
                'CREATE TABLE alembic_version (version_num VARCHAR(32))'))
        conf = tempfile.NamedTemporaryFile('w', suffix='.conf', delete=False)
        self.addCleanup(os.unlink, conf.name)
        conf.write('[database]\nconnection = %s\n'
                   % (URL % (PORTS[0], DATABASE)))
        conf.close()
        self.conf = conf.name

    def manage(self, *args):
        out = subprocess.run(MANAGE + ['--config-file', self.conf]
                             + list(args), capture_output=True, text=True)
        return out.returncode, out.stdout + out.stderr

    def index_per_node(self):
        found = []
        for port in PORTS:
            engine = sa.create_engine(URL % (port, self.database))
            with engine.connect() as conn:
                # Wait until this node has applied what the cluster has
                # (TOI applies a DDL on each node on its own thread).
                conn.execute(sa.text('SET SESSION wsrep_sync_wait = 1'))
                found.append(parent_index.exists(conn))
            engine.dispose()
        return found

    def test_nodes_found(self):
        with self.engine.connect() as conn:
            self.assertEqual(['127.0.0.1:%d' % p for p in PORTS],
                             sorted(parent_index.galera_nodes(conn)))

    def test_toi_sync_reaches_every_node(self):
        self.assertEqual((0, 'Database upgraded from None to 0002.\n'),
                         self.manage('db', 'sync'))
        self.assertEqual([True] * 3, self.index_per_node())

    def test_rsu_sync_builds_node_by_node(self):
        status, output = self.manage('db', 'sync', '--galera-rsu')
        self.assertEqual(0, status, output)
        for port in PORTS:
            self.assertIn('127.0.0.1:%d: index built with RSU' % port,
                          output)
        self.assertIn('Database upgraded from None to 0002.', output)
        self.assertEqual([True] * 3, self.index_per_node())
        # A second run finds the index everywhere and builds nothing.
        status, output = self.manage('db', 'sync', '--galera-rsu')
        self.assertEqual(0, status, output)
        self.assertEqual(3, output.count('index already there'))
        self.assertIn('nothing to do', output)

    def test_downgrade_drops_on_every_node(self):
        self.manage('db', 'sync', '--galera-rsu')
        self.assertEqual(0, self.manage('db', 'downgrade', 'base')[0])
        self.assertEqual([False] * 3, self.index_per_node())

    def test_rsu_refused_off_galera(self):
        # The ordinary MariaDB of the other tests is not a Galera node.
        url = 'mysql+pymysql://openstack_citest:openstack_citest@127.0.0.1/'
        engine = sa.create_engine(url + 'openstack_citest')
        self.addCleanup(engine.dispose)
        try:
            with engine.connect() as conn:
                self.assertEqual([], parent_index.galera_nodes(conn))
        except sa.exc.OperationalError as exc:
            if os.environ.get('CBE_REQUIRE_SERVERS'):
                raise
            self.skipTest('no MariaDB on 3306: %s' % exc)
        self.assertRaisesRegex(ValueError, 'needs a MariaDB Galera',
                               parent_index.create_rsu, engine)
