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

"""``backups measure`` on Swift, S3 and GlusterFS: Cinder's own drivers.

Ceph's radosgw serves both object store APIs; ``tox -e backends`` starts
it on a one-node Ceph and a one-brick GlusterFS volume beside it
(tools/backends.py, tools/ceph.py, tools/glusterfs.py) and names them in
``CBE_TEST_RADOSGW`` and ``CBE_TEST_GLUSTERFS``. Without them these tests
skip. Cinder's ``SwiftBackupDriver`` (single_user, version 1 auth),
``S3BackupDriver`` and ``GlusterfsBackupDriver`` (which mounts the volume
itself, a real FUSE mount) of the release under test write the backups,
compressing with zlib; the measured numbers are checked against the
store's own listing (read here with the store's client) or the files on
the GlusterFS brick, not through the code under test, and against what the
progress hook recorded before compression.
"""

import json
import os
import subprocess
import tempfile
import uuid

# Their options, for the flags below.
from cinder.backup.drivers import glusterfs  # noqa: F401
from cinder.backup.drivers import s3  # noqa: F401
from cinder.backup.drivers import swift  # noqa: F401
from cinder import context
from os_brick import privileged

from cinder_backup_ext.db import sizes
from tests.functional import test_measure

MiB = test_measure.MiB
VOLUME = test_measure.VOLUME
SETTINGS = 'CBE_TEST_RADOSGW'
SHARE_SETTINGS = 'CBE_TEST_GLUSTERFS'


def await_backup_driver(case):
    """Wait until Cinder's scheduler sends backups to the driver.

    The driver connects to its store (or mounts its share) after the
    backup service has told the scheduler it is not working yet; Cinder's
    periodic task tells it again, once a minute. Run that task once the
    driver is up, and wait for the scheduler to know it.
    """
    manager = case.backup.manager
    states = case.scheduler.manager.driver.host_manager.backup_service_states

    def state(name, up):
        return {'id': name, 'status': 'up' if up else 'starting'}
    case._wait(lambda: state('backup driver', manager.is_initialized), 'up')
    manager.publish_service_capabilities(context.get_admin_context())
    case._wait(lambda: state('scheduler', states.get(
        manager.host, {}).get('backend_state')), 'up')


class _ObjectStore:
    """A backup service whose driver is this store's.

    A mixin, not a test case: only the stores below run its tests.
    """

    def setUp(self):
        raw = os.environ.get(SETTINGS)
        if not raw:
            self.skipTest('no radosgw (%s): tox -e backends starts one'
                          % SETTINGS)
        self.rgw = json.loads(raw)
        self.container = 'cbe-%s' % uuid.uuid4().hex[:12]
        super().setUp()
        self.notify_over_rabbit('cbe-%s' % uuid.uuid4().hex)
        await_backup_driver(self)

    def listed(self, prefix):
        """{name: bytes} of the store's objects under prefix."""
        raise NotImplementedError

    def delete(self, name):
        raise NotImplementedError

    def objects_of(self, backup):
        """{name: listed size} of a backup's data objects.

        The names from its metadata object, as Cinder reads it for a
        restore; the sizes from the store's listing.
        """
        prefix = self.service_metadata(backup['id'])
        # A context with a user, as a backup request's: the Swift driver
        # connects only then.
        driver = self.backup.manager.service(context.RequestContext(
            'cbe-test', 'cbe-test', is_admin=True))
        metadata = driver._read_metadata({'container': self.container,
                                          'service_metadata': prefix})
        listed = self.listed(prefix)
        return {name: listed[name] for entry in metadata['objects']
                for name in entry}

    def back_up(self, volume_id, incremental=False):
        made = self.create_backup(volume_id, incremental=incremental)
        self.assertEqual(self.container, made['container'])
        self.assertTrue(test_measure.test_notifications.wait_for(
            lambda: self.recorded(made['id']) is not None))
        return made, self.recorded(made['id'])

    def test_compressible_data_measures_its_compressed_objects(self):
        volume = self.volume_of(b'cinder-backup-ext ' * (VOLUME // 18)
                                + b'\0' * (VOLUME % 18))
        made, (written, source) = self.back_up(volume['id'])
        self.assertEqual((sizes.Size(VOLUME, VOLUME // MiB), 'progress'),
                         (written, source))
        objects = self.objects_of(made)

        [result] = self.measure(made['id'])
        self.assertIsNone(result.reason)
        self.assertEqual(sizes.Size(sum(objects.values()), len(objects)),
                         result.size)
        self.assertLess(result.size.stored_bytes, written.stored_bytes // 10)
        self.assertEqual((result.size, 'measure'), self.recorded(made['id']))

    def test_random_full_then_incremental(self):
        volume = self.volume_of(os.urandom(VOLUME))
        full, _ = self.back_up(volume['id'])
        with open(os.path.join(self.volume_dir, volume['id']), 'r+b') as f:
            f.seek(VOLUME // 2)
            f.write(os.urandom(MiB // 4))
        incremental, (written, _) = self.back_up(volume['id'],
                                                 incremental=True)

        results = self.measure(full['id'], incremental['id'])
        self.assertEqual([None, None], [r.reason for r in results])
        full_objects = self.objects_of(full)
        # Random data does not shrink: the full is the volume, in objects
        # of backup_*_object_size.
        self.assertEqual(sizes.Size(VOLUME, VOLUME // MiB), results[0].size)
        self.assertEqual(VOLUME, sum(full_objects.values()))
        objects = self.objects_of(incremental)
        self.assertEqual(sizes.Size(sum(objects.values()), len(objects)),
                         results[1].size)
        self.assertEqual(written, results[1].size)
        self.assertLess(results[1].size.stored_bytes, VOLUME // 2)
        # Another backup's objects share the prefix's container, not its
        # own listing: the full's are not counted in the incremental.
        self.assertEqual(set(), set(objects) & set(full_objects))

    def test_a_lost_object_is_a_reason(self):
        volume = self.volume_of(os.urandom(VOLUME))
        made, written = self.back_up(volume['id'])
        lost = sorted(self.objects_of(made))[1]
        self.delete(lost)
        [result] = self.measure(made['id'])
        self.assertIsNone(result.size)
        self.assertIn('object %s is missing from' % lost, result.reason)
        self.assertEqual((written[0], 'progress'), self.recorded(made['id']))


class TestSwift(_ObjectStore, test_measure._Measured):

    def _get_flags(self):
        flags = super()._get_flags()
        flags['backup_driver'] = {
            'v': 'cinder.backup.drivers.swift.SwiftBackupDriver'}
        for name, value in (
                ('auth', 'single_user'), ('auth_version', '1'),
                ('auth_url', self.rgw['swift_auth_url']),
                ('user', self.rgw['swift_user']),
                ('key', self.rgw['swift_key']),
                ('container', self.container), ('object_size', MiB),
                ('block_size', 32768), ('retry_attempts', 1),
                ('enable_progress_timer', False)):
            flags['backup_swift_' + name] = {'v': value}
        return flags

    def client(self):
        import swiftclient
        return swiftclient.Connection(
            authurl=self.rgw['swift_auth_url'], auth_version='1',
            user=self.rgw['swift_user'], key=self.rgw['swift_key'])

    def listed(self, prefix):
        _headers, objects = self.client().get_container(
            self.container, prefix=prefix, full_listing=True)
        return {o['name']: o['bytes'] for o in objects}

    def delete(self, name):
        self.client().delete_object(self.container, name)

    def test_per_user_auth_is_a_reason(self):
        volume = self.volume_of(os.urandom(VOLUME))
        made, _ = self.back_up(volume['id'])
        self.override_config('backup_swift_auth', 'per_user')
        [result] = self.measure(made['id'])
        self.assertIn('backup_swift_auth is per_user', result.reason)
        self.assertEqual('progress', self.recorded(made['id'])[1])


class TestS3(_ObjectStore, test_measure._Measured):

    def _get_flags(self):
        flags = super()._get_flags()
        flags['backup_driver'] = {
            'v': 'cinder.backup.drivers.s3.S3BackupDriver'}
        for name, value in (
                ('endpoint_url', self.rgw['url']),
                ('store_access_key', self.rgw['s3_access_key']),
                ('store_secret_key', self.rgw['s3_secret_key']),
                ('store_bucket', self.container), ('object_size', MiB),
                ('block_size', 32768), ('verify_ssl', False),
                ('retry_max_attempts', 1),
                ('enable_progress_timer', False)):
            flags['backup_s3_' + name] = {'v': value}
        return flags

    def client(self):
        import boto3
        return boto3.client(
            's3', endpoint_url=self.rgw['url'],
            aws_access_key_id=self.rgw['s3_access_key'],
            aws_secret_access_key=self.rgw['s3_secret_key'])

    def listed(self, prefix):
        pages = self.client().get_paginator('list_objects_v2').paginate(
            Bucket=self.container, Prefix=prefix)
        return {o['Key']: o['Size'] for page in pages
                for o in page.get('Contents', ())}

    def delete(self, name):
        self.client().delete_object(Bucket=self.container, Key=name)

    def test_wrong_keys_are_a_reason(self):
        volume = self.volume_of(os.urandom(VOLUME))
        made, _ = self.back_up(volume['id'])
        self.override_config('backup_s3_store_secret_key', 'wrong')
        [result] = self.measure(made['id'])
        self.assertIsNone(result.size)
        self.assertIn('metadata object', result.reason)
        self.assertEqual('progress', self.recorded(made['id'])[1])


def unmount_under(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.ismount(path):
            subprocess.run(['umount', path], check=True)


class TestGlusterFS(test_measure._Measured):
    """Files on a mounted share: measure finds the mount Cinder made."""

    def setUp(self):
        raw = os.environ.get(SHARE_SETTINGS)
        if not raw:
            self.skipTest('no GlusterFS volume (%s): tox -e backends '
                          'starts one' % SHARE_SETTINGS)
        self.gluster = json.loads(raw)
        self.mount_base = tempfile.mkdtemp(dir=self.gluster['mounts'])
        # After the services stop (cleanups run last first): the mount
        # Cinder's driver made when the backup service started.
        self.addCleanup(unmount_under, self.mount_base)
        # The test runs as root, as tox -e backends does: os-brick's
        # privileged mount runs in this process, not through a privsep
        # daemon, which Cinder's test fixtures forbid.
        privileged.default.set_client_mode(False)
        self.addCleanup(privileged.default.set_client_mode, True)
        super().setUp()
        await_backup_driver(self)

    def _get_flags(self):
        flags = super()._get_flags()
        flags['backup_driver'] = {
            'v': 'cinder.backup.drivers.glusterfs.GlusterfsBackupDriver'}
        flags['glusterfs_backup_share'] = {'v': self.gluster['share']}
        flags['glusterfs_backup_mount_point'] = {'v': self.mount_base}
        return flags

    def on_brick(self, backup):
        """{name: bytes} of a backup's data files, as the server holds them.

        The names from its metadata file, as Cinder reads it for a
        restore; the sizes from the brick, the server's own folder.
        """
        driver = self.backup.manager.service(None)
        objects = driver._read_metadata({
            'container': backup['container'],
            'service_metadata': self.service_metadata(backup['id'])})
        folder = os.path.join(self.gluster['brick'], backup['container'])
        return {name: os.path.getsize(os.path.join(folder, name))
                for entry in objects['objects'] for name in entry}

    def test_the_share_is_mounted_by_cinder(self):
        [mount] = os.listdir(self.mount_base)
        self.assertTrue(os.path.ismount(os.path.join(self.mount_base,
                                                     mount)))

    def test_full_and_incremental_measure_their_files_on_the_brick(self):
        volume = self.volume_of(os.urandom(VOLUME))
        full = self.create_backup(volume['id'])
        with open(os.path.join(self.volume_dir, volume['id']), 'r+b') as f:
            f.seek(VOLUME // 2)
            f.write(os.urandom(MiB // 4))
        incremental = self.create_backup(volume['id'], incremental=True)

        results = self.measure(full['id'], incremental['id'])
        self.assertEqual([None, None], [r.reason for r in results])
        for made, result in zip((full, incremental), results):
            files = self.on_brick(made)
            self.assertEqual(sizes.Size(sum(files.values()), len(files)),
                             result.size)
            self.assertEqual((result.size, 'measure'),
                             self.recorded(made['id']))
        self.assertEqual(sizes.Size(VOLUME, VOLUME // MiB), results[0].size)
        self.assertLess(results[1].size.stored_bytes, VOLUME // 2)

    def test_compressible_data_measures_its_compressed_files(self):
        volume = self.volume_of(b'cinder-backup-ext ' * (VOLUME // 18)
                                + b'\0' * (VOLUME % 18))
        made = self.create_backup(volume['id'])
        [result] = self.measure(made['id'])
        files = self.on_brick(made)
        self.assertEqual(sizes.Size(sum(files.values()), len(files)),
                         result.size)
        self.assertLess(result.size.stored_bytes, VOLUME // 10)

    def test_an_unmounted_share_is_a_reason(self):
        volume = self.volume_of(os.urandom(VOLUME))
        made = self.create_backup(volume['id'])
        unmount_under(self.mount_base)
        [result] = self.measure(made['id'])
        self.assertIsNone(result.size)
        self.assertIn('container', result.reason)
        self.assertIn('is missing', result.reason)
