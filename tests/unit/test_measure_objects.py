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

"""How ``backups measure`` reads Swift and S3 backups, on a fake store.

tests/functional/test_measure_backends.py runs Cinder's drivers on a real
radosgw (``tox -e backends``); here, what happens around the store: one
driver per run, the reasons a backup is not measured.
"""

import types
from unittest import mock

from oslo_config import cfg
from oslotest import base

from cinder_backup_ext.db import sizes
from cinder_backup_ext import measure

SWIFT = 'cinder.backup.drivers.swift.SwiftBackupDriver'
PREFIX = 'volume_v/20261205/az_nova_backup_b'


def row(backup_id='b', service=SWIFT):
    return types.SimpleNamespace(
        id=backup_id, parent_id=None, status='available', service=service,
        container='backups', service_metadata=PREFIX, volume_id='v')


class FakeSwift(object):
    """A container's listing, and the metadata object naming the data."""

    def __init__(self, listed, objects):
        self.listed = listed
        self.objects = objects
        self.conn = self

    def _read_metadata(self, backup):
        if backup['service_metadata'] != PREFIX:
            raise IOError('404 Not Found\nbody')
        return {'objects': [{name: {}} for name in self.objects]}

    def get_container(self, container, prefix, full_listing):
        return {}, [{'name': n, 'bytes': b} for n, b in self.listed.items()
                    if n.startswith(prefix)]


class ObjectStoresTests(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        from cinder.backup.drivers import swift  # noqa: F401 (its options)
        self.conf = cfg.CONF
        self.addCleanup(self.conf.clear_override, 'backup_swift_auth')
        self.conf.set_override('backup_swift_auth', 'single_user')

    def stores(self, made):
        patcher = mock.patch('cinder_backup_ext.compat.backup_driver',
                             side_effect=made)
        self.made = patcher.start()
        self.addCleanup(patcher.stop)
        return measure.ObjectStores(self.conf)

    def test_the_listed_objects_of_the_metadata_add_up(self):
        store = FakeSwift({PREFIX + '-00001': 300, PREFIX + '-00002': 45,
                           PREFIX + '_metadata': 999,
                           'volume_v/other-00001': 7},
                          [PREFIX + '-00001', PREFIX + '-00002'])
        stores = self.stores([store])
        self.assertEqual(sizes.Size(345, 2), stores.stored(row(), 'swift'))
        self.assertEqual(sizes.Size(345, 2),
                         stores.stored(row('c'), 'swift'))
        self.assertEqual(1, self.made.call_count)

    def test_a_driver_that_cannot_start_is_tried_once(self):
        stores = self.stores(ImportError('No module named boto3\nmore'))
        for backup_id in ('b', 'c'):
            self.assertRaisesRegex(
                measure.NotMeasured,
                r"^Cinder's s3 driver cannot start: No module named boto3$",
                stores.stored, row(backup_id), 's3')
        self.assertEqual(1, self.made.call_count)

    def test_per_user_swift_is_not_read(self):
        self.conf.set_override('backup_swift_auth', 'per_user')
        stores = self.stores([FakeSwift({}, [])])
        self.assertRaisesRegex(measure.NotMeasured, 'per_user',
                               stores.stored, row(), 'swift')
        self.assertEqual(0, self.made.call_count)

    def test_missing_metadata_and_objects_are_reasons(self):
        store = FakeSwift({PREFIX + '-00001': 300}, [PREFIX + '-00001',
                                                     PREFIX + '-00002'])
        stores = self.stores([store])
        self.assertRaisesRegex(
            measure.NotMeasured, 'object %s-00002 is missing from container '
            'backups$' % PREFIX, stores.stored, row(), 'swift')
        other = row()
        other.service_metadata = 'gone'
        self.assertRaisesRegex(
            measure.NotMeasured, '^metadata object gone_metadata in '
            'container backups: 404 Not Found$',
            stores.stored, other, 'swift')

    def test_rows_go_to_their_store(self):
        stores = mock.Mock()
        stores.stored.return_value = sizes.Size(1, 1)
        self.assertEqual(
            (sizes.Size(1, 1), sizes.MEASURE),
            measure._stored(row(service='cinder.backup.drivers.s3'),
                            self.conf, None, stores))
        stores.stored.assert_called_once_with(mock.ANY, 's3')
