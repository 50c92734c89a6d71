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

"""``backups measure``: the bytes on disk of what Cinder's driver wrote.

Cinder's own ``PosixBackupDriver`` of the release under test writes the
backups (``base.CinderTestCase``), compressing with Cinder's default,
zlib. The measured numbers are checked against the object files the
driver left and against what the progress hook recorded before
compression. The command itself runs as an operator runs it, on a copy
of the test's database in a file: the in-memory one is out of its reach.
"""

import os
import shutil
import sqlite3
import uuid

import fixtures
from oslo_config import cfg
import sqlalchemy as sa

from cinder_backup_ext import compat
from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables
from cinder_backup_ext import measure
from tests.functional import base
from tests.functional import test_manage
from tests.functional import test_notifications

MiB = 1024 * 1024
VOLUME = 4 * MiB
GCS = 'cinder.backup.drivers.gcs.GoogleBackupDriver'


class _Measured(base.CinderTestCase):

    def _get_flags(self):
        flags = super()._get_flags()
        flags['backup_file_size'] = {'v': MiB}
        return flags

    def volume_of(self, data):
        """A volume whose file holds ``data`` (bytes, VOLUME long)."""
        volume = self.create_volume()
        with open(os.path.join(self.volume_dir, volume['id']), 'wb') as f:
            f.write(data)
        return volume

    def recorded(self, backup_id, engine=None):
        with (engine or compat.get_engine()).connect() as conn:
            return sizes.read(conn, backup_id)

    def object_files(self, backup):
        """Name -> size of the data files the driver wrote for a backup.

        Listed from Cinder's own metadata object of the backup, as Cinder
        reads it back for a restore, not through the code under test.
        """
        folder = os.path.join(cfg.CONF.backup_posix_path,
                              backup['container'])
        driver = self.backup.manager.service(None)
        # What ChunkedBackupDriver._read_metadata reads: container and
        # service_metadata, as the backup row has them.
        row = {'container': backup['container'],
               'service_metadata': self.service_metadata(backup['id'])}
        objects = driver._read_metadata(row)['objects']
        return {name: os.path.getsize(os.path.join(folder, name))
                for entry in objects for name in entry}

    def service_metadata(self, backup_id):
        with compat.get_engine().connect() as conn:
            return conn.execute(
                sa.select(tables.BACKUPS.c.service_metadata)
                .where(tables.BACKUPS.c.id == backup_id)).scalar_one()

    def measure(self, *backup_ids, dry_run=False):
        return list(measure.measure(compat.get_engine(), cfg.CONF,
                                    list(backup_ids) or None, dry_run))


class TestMeasureOnDisk(_Measured):
    """Against the progress hook's numbers: the same backup, twice sized."""

    def setUp(self):
        super().setUp()
        self.notify_over_rabbit('cbe-%s' % uuid.uuid4().hex)
        self.assertEqual('zlib', cfg.CONF.backup_compression_algorithm)

    def back_up(self, volume_id, incremental=False):
        """A backup, once the progress hook has recorded its size."""
        made = self.create_backup(volume_id, incremental=incremental)
        self.assertTrue(test_notifications.wait_for(
            lambda: self.recorded(made['id']) is not None))
        return made, self.recorded(made['id'])

    def test_compressible_data_measures_its_compressed_files(self):
        volume = self.volume_of(b'cinder-backup-ext ' * (VOLUME // 18)
                                + b'\0' * (VOLUME % 18))
        made, (written, source) = self.back_up(volume['id'])
        self.assertEqual((sizes.Size(VOLUME, VOLUME // MiB), 'progress'),
                         (written, source))
        files = self.object_files(made)

        [result] = self.measure(made['id'])
        self.assertIsNone(result.reason)
        self.assertEqual(sizes.Size(sum(files.values()), len(files)),
                         result.size)
        # zlib made each MiB of repeated text a few KiB.
        self.assertLess(result.size.stored_bytes, written.stored_bytes // 10)
        # The measure replaces the progress number: one row per backup.
        self.assertEqual((result.size, 'measure'), self.recorded(made['id']))

    def test_random_data_measures_what_was_written(self):
        volume = self.volume_of(os.urandom(VOLUME))
        full, _ = self.back_up(volume['id'])
        with open(os.path.join(self.volume_dir, volume['id']), 'r+b') as f:
            f.seek(VOLUME // 2)
            f.write(os.urandom(MiB // 4))
        incremental, (written, _) = self.back_up(volume['id'],
                                                 incremental=True)

        results = self.measure(full['id'], incremental['id'])
        self.assertEqual([full['id'], incremental['id']],
                         [r.backup_id for r in results])
        full_files = self.object_files(full)
        # Random data does not compress: Cinder stored it as it came.
        self.assertEqual(sizes.Size(VOLUME, VOLUME // MiB), results[0].size)
        self.assertEqual(VOLUME, sum(full_files.values()))
        # The incremental lists only the extents it wrote.
        files = self.object_files(incremental)
        self.assertEqual(sizes.Size(sum(files.values()), len(files)),
                         results[1].size)
        self.assertEqual(written, results[1].size)
        self.assertLess(results[1].size.stored_bytes, VOLUME // 2)


class TestMeasureCommand(_Measured, test_manage._Commands):
    """Backups made before the plugin was installed: nothing recorded."""

    def file_database(self):
        """A copy of Cinder's database in a file, and an engine on it."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'cinder.sqlite')
        raw = compat.get_engine().raw_connection()
        try:
            target = sqlite3.connect(path)
            raw.driver_connection.backup(target)
            target.close()
        finally:
            raw.close()
        engine = sa.create_engine('sqlite:///%s' % path)
        self.addCleanup(engine.dispose)
        return engine

    def command(self, engine, *args):
        return self.run_command(
            test_manage.MANAGE, ['backups', 'measure'] + list(args),
            connection=str(engine.url),
            extra='backup_posix_path = %s' % cfg.CONF.backup_posix_path)

    def test_dry_run_then_record_every_backup(self):
        volume = self.volume_of(os.urandom(VOLUME))
        full = self.create_backup(volume['id'])
        gone = self.create_backup(volume['id'], incremental=True)
        gcs = self.create_backup(volume['id'], incremental=True)
        shutil.rmtree(os.path.join(cfg.CONF.backup_posix_path,
                                   gone['container']))
        self.set_backup_columns(gcs['id'], service=GCS)
        expected = sizes.Size(sum(self.object_files(full).values()),
                              VOLUME // MiB)
        engine = self.file_database()

        dry = self.command(engine, '--all', '--dry-run')
        self.assertEqual(3, dry.returncode, dry.stderr)
        lines = dry.stdout.splitlines()
        self.assertIn('%s %d bytes in %d objects (dry run: not recorded)'
                      % ((full['id'],) + expected), lines)
        self.assertIn('%s not measured: driver %s is not supported '
                      '(posix, nfs, glusterfs, ceph, swift, s3 are)'
                      % (gcs['id'], GCS),
                      lines)
        missing = [line for line in lines
                   if line.startswith(gone['id'] + ' not measured: ')]
        self.assertEqual(1, len(missing), dry.stdout)
        self.assertIn('container', missing[0])
        self.assertIn('missing', missing[0])
        self.assertEqual('2 backup(s) not measured.', lines[-1])
        for made in (full, gone, gcs):
            self.assertIsNone(self.recorded(made['id'], engine))

        real = self.command(engine, '--all')
        self.assertEqual(3, real.returncode, real.stderr)
        self.assertEqual((expected, 'measure'),
                         self.recorded(full['id'], engine))
        self.assertIsNone(self.recorded(gone['id'], engine))
        self.assertIsNone(self.recorded(gcs['id'], engine))

        one = self.command(engine, '--backup-id', full['id'])
        self.assertEqual(0, one.returncode, one.stderr)
        self.assertEqual(['%s %d bytes in %d objects'
                          % ((full['id'],) + expected)],
                         one.stdout.splitlines())

    def test_unknown_backup(self):
        engine = self.file_database()
        unknown = str(uuid.uuid4())
        result = self.command(engine, '--backup-id', unknown)
        self.assertEqual(3, result.returncode, result.stderr)
        self.assertEqual('%s not measured: no such backup' % unknown,
                         result.stdout.splitlines()[0])

    def test_lost_metadata_object(self):
        volume = self.volume_of(os.urandom(VOLUME))
        made = self.create_backup(volume['id'])
        os.remove(os.path.join(
            cfg.CONF.backup_posix_path, made['container'],
            '%s_metadata' % self.service_metadata(made['id'])))
        [result] = self.measure(made['id'])
        self.assertIsNone(result.size)
        self.assertIn('metadata file', result.reason)
        self.assertIsNone(self.recorded(made['id']))


class TestRepository(base.ConfiguredCinder):
    """Where NFS and GlusterFS backups are: the share's os-brick mount."""

    def test_mount_points(self):
        compat.register_backup_repository_opts()
        self.override_config('backup_share', 'nfs.example:/backups')
        self.override_config('backup_mount_point_base', '/mnt/b')
        self.override_config('glusterfs_backup_share', 'gl.example:/vol')
        self.override_config('glusterfs_backup_mount_point', '/mnt/g')
        nfs = measure.repository('nfs', cfg.CONF)
        gluster = measure.repository('glusterfs', cfg.CONF)
        self.assertEqual('/mnt/b', os.path.dirname(nfs))
        self.assertEqual('/mnt/g', os.path.dirname(gluster))
        # One folder per share, as os-brick names the mount.
        self.assertNotEqual(os.path.basename(nfs), os.path.basename(gluster))
        self.assertEqual('nfs', measure.driver_of(
            'cinder.backup.drivers.nfs.NFSBackupDriver'))
        self.assertEqual('posix', measure.driver_of(
            'cinder.backup.drivers.posix'))
        self.assertIsNone(measure.driver_of(GCS))
