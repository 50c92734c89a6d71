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

"""What each backup stores, measured where Cinder writes it.

Cinder's backup service of the release under test runs its own
``PosixBackupDriver`` in process (``base.CinderTestCase``) and reads a
volume that is a file; its notifications go through the plugin's driver
to RabbitMQ, where a listener reads them as Ceilometer would. The numbers
the hook records are checked against the data the test changed and
against the object files the driver left on disk.

The sizes table itself (the upsert on each engine, the migration online)
is checked on SQLite, MariaDB and PostgreSQL below.
"""

import os
import uuid

from oslo_config import cfg
import sqlalchemy as sa
from testtools import content

from cinder_backup_ext import compat
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables
from tests.functional import base
from tests.functional import databases
from tests.functional import test_notifications

KiB = 1024
MiB = 1024 * KiB
VOLUME = 64 * MiB
# 3 MiB changed in scattered runs of 100 KiB (the last one shorter), none
# aligned on a hash block.
CHANGED = 3 * MiB
RUN = 100 * KiB
SPACING = 2 * MiB
CHUNK = MiB  # backup_file_size: the largest object the driver writes


class TestStoredSizes(base.CinderTestCase):

    def _get_flags(self):
        flags = super()._get_flags()
        flags['backup_file_size'] = {'v': CHUNK}
        return flags

    def setUp(self):
        super().setUp()
        migration.upgrade(compat.get_engine())
        topic = 'cbe-%s' % uuid.uuid4().hex
        self.collector = test_notifications.listen(self, topic)
        self.notify_over_rabbit(topic)
        self.block = cfg.CONF.backup_sha_block_size_bytes

    def filled_volume(self, size):
        """A volume whose data is ``size`` random bytes in its file."""
        volume = self.create_volume()
        with open(os.path.join(self.volume_dir, volume['id']), 'wb') as f:
            for _ in range(size // MiB):
                f.write(os.urandom(MiB))
        return volume

    def events(self, backup_id):
        """backup.createprogress at 100 % and backup.create.end payloads."""
        def final():
            found = {}
            for event_type, payload, _meta in list(self.collector.messages):
                if payload.get('backup_id') != backup_id:
                    continue
                if event_type == 'backup.create.end':
                    found['end'] = payload
                elif (event_type == 'backup.createprogress'
                      and payload['backup_percent'] == 100):
                    found['progress'] = payload
            return found
        self.assertTrue(test_notifications.wait_for(
            lambda: len(final()) == 2), final().keys())
        return final()

    def recorded(self, backup_id):
        with compat.get_engine().connect() as conn:
            return sizes.read(conn, backup_id)

    def object_files(self, backup, progress):
        """The sizes of the data objects the driver wrote for ``backup``."""
        folder = os.path.join(cfg.CONF.backup_posix_path,
                              backup['container'])
        names = [name for entry in progress['list'] for name in entry]
        return [os.path.getsize(os.path.join(folder, name))
                for name in names]

    def back_up(self, volume_id, incremental=False):
        """(Size and source recorded, create.end's stored_bytes, files)."""
        made = self.create_backup(volume_id, incremental=incremental)
        events = self.events(made['id'])
        self.assertEqual(made['id'], events['end']['backup_id'])
        files = self.object_files(made, events['progress'])
        return (self.recorded(made['id']), events['end']['stored_bytes'],
                files)

    def test_full_then_incremental_of_scattered_changes(self):
        volume = self.filled_volume(VOLUME)
        (size, source), carried, files = self.back_up(volume['id'])
        self.assertEqual((sizes.Size(VOLUME, VOLUME // CHUNK), 'progress'),
                         (size, source))
        self.assertEqual(VOLUME, carried)
        # Random data does not compress: the driver stored it as it was.
        self.assertEqual(VOLUME, sum(files))

        runs = 0
        with open(os.path.join(self.volume_dir, volume['id']), 'r+b') as f:
            left = CHANGED
            while left:
                f.seek(runs * SPACING + 1000 + 37 * runs)
                f.write(os.urandom(min(RUN, left)))
                left -= min(RUN, left)
                runs += 1
        self.assertEqual(31, runs)
        (size, source), carried, files = self.back_up(
            volume['id'], incremental=True)
        report = '%d runs, %s, block %d' % (runs, size, self.block)
        self.addDetail('incremental', content.text_content(report))
        # Every changed byte, and at most the two hash blocks at the ends
        # of each run around it.
        self.assertGreaterEqual(size.stored_bytes, CHANGED, report)
        self.assertLessEqual(size.stored_bytes,
                             CHANGED + 2 * self.block * runs, report)
        # One extent per run, two where a run crosses a chunk's end.
        self.assertLessEqual(runs, size.object_count, report)
        self.assertLessEqual(size.object_count, 2 * runs, report)
        self.assertEqual('progress', source)
        self.assertEqual(size.stored_bytes, carried)
        self.assertEqual(size.stored_bytes, sum(files))

    def test_incremental_of_an_unchanged_volume_wrote_nothing(self):
        volume = self.filled_volume(8 * MiB)
        self.back_up(volume['id'])
        (size, source), carried, files = self.back_up(
            volume['id'], incremental=True)
        # Known to be nothing: 0, not unknown (None).
        self.assertEqual((sizes.Size(0, 0), 'progress'), (size, source))
        self.assertEqual(0, carried)
        self.assertEqual([], files)


@databases.for_each_engine
class SizesTableTests(object):
    """The table of revision 0002, and its upsert, on each engine."""

    def setUp(self):
        super().setUp()
        migration.upgrade(self.engine)

    def rows(self):
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sizes.TABLE.c.backup_id, sizes.TABLE.c.stored_bytes,
                          sizes.TABLE.c.object_count, sizes.TABLE.c.source)
                .order_by(sizes.TABLE.c.backup_id)).all()

    def test_the_same_record_twice_is_one_row(self):
        big = 5 * 1024 ** 4  # a 5 TiB full: past 32 bits
        for _ in range(2):
            sizes.record(self.engine, 'a', sizes.Size(big, 2500))
            sizes.record(self.engine, 'b', sizes.Size(0, 0))
        sizes.record(self.engine, 'c', sizes.Size(None, None),
                     sizes.MEASURE)
        self.assertEqual([('a', big, 2500, 'progress'),
                          ('b', 0, 0, 'progress'),
                          ('c', None, None, 'measure')],
                         [tuple(r) for r in self.rows()])
        # A later number for the same backup replaces the first.
        sizes.record(self.engine, 'b', sizes.Size(4096, 1), sizes.MEASURE)
        with self.engine.connect() as conn:
            self.assertEqual((sizes.Size(4096, 1), 'measure'),
                             sizes.read(conn, 'b'))
            self.assertIsNone(sizes.read(conn, 'never-recorded'))

    def test_round_trip_keeps_the_index(self):
        migration.downgrade(self.engine, '0001')
        with self.engine.connect() as conn:
            self.assertFalse(sa.inspect(conn).has_table(sizes.NAME))
        self.assertEqual('0001', migration.version(self.engine))
        self.assertRaises(sizes.NotSynced, sizes.record, self.engine, 'a',
                          sizes.Size(1, 1))
        # A table that is already there (a restored dump) is adopted.
        sizes.TABLE.create(self.engine)
        sizes.record(self.engine, 'a', sizes.Size(1, 1))
        migration.upgrade(self.engine)
        self.assertEqual(migration.head(), migration.version(self.engine))
        self.assertEqual(1, len(self.rows()))


@databases.for_each_engine(engines=('mysql', 'postgresql'))
class OnlineTests(object):
    """Creating the table waits for no lock on Cinder's tables."""

    def test_created_while_a_backup_row_is_being_written(self):
        migration.upgrade(self.engine, '0001')
        timeout = {'mysql': 'SET SESSION lock_wait_timeout = 10',
                   'postgresql': "SET lock_timeout = '10s'"}

        def bounded(dbapi_conn, _record):
            # A migration that waited on the writer fails, not hangs.
            cursor = dbapi_conn.cursor()
            cursor.execute(timeout[self.engine.dialect.name])
            cursor.close()
        sa.event.listen(self.engine, 'connect', bounded)
        self.addCleanup(sa.event.remove, self.engine, 'connect', bounded)
        self.engine.dispose()  # new connections, with the timeout

        backups = tables.BACKUPS
        with self.engine.connect() as writer:
            # Cinder's backup service in the middle of a write.
            transaction = writer.begin()
            writer.execute(backups.insert().values(
                id=str(uuid.uuid4()), volume_id=str(uuid.uuid4()),
                deleted=False, status='creating', project_id='p',
                user_id='u', size=1, num_dependent_backups=0))
            migration.upgrade(self.engine)
            self.assertEqual(migration.head(), migration.version(self.engine))
            transaction.commit()
        self.assertEqual(migration.head(), migration.version(self.engine))
