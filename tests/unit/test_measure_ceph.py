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

"""measure.py on Ceph: which image and snapshots a backup's diff is read from.

Fake ``rados`` and ``rbd`` modules stand for Debian's bindings, which only
Debian's own Python imports; a real one-node Ceph measures real backups in
the local cloud's chains job (tools/local-cloud/chains_job.py).
"""

import json
import sys
import types
from unittest import mock

from oslo_config import cfg
from oslotest import base

from cinder_backup_ext import measure

CEPH = 'cinder.backup.drivers.ceph.CephBackupDriver'
VOLUME = '6f0c1e84-0000-4000-8000-00000000000a'


def row(backup_id, parent_id=None, base_name=None, status='available',
        service=CEPH):
    metadata = json.dumps({'base': base_name}) if base_name else None
    return types.SimpleNamespace(
        id=backup_id, parent_id=parent_id, status=status, service=service,
        container='backups', service_metadata=metadata, volume_id=VOLUME)


class FakeBindings(object):
    """rados and rbd over images {name: {snapshot or None: [extents]}}.

    An extent is (offset, length, exists); the diff between two snapshots
    is recorded under (snapshot, from_snapshot).
    """

    class Error(Exception):
        pass

    def __init__(self, images, connect_error=None):
        self.images, self.connect_error = images, connect_error
        self.connects = 0
        self.diffs = []
        bindings = self

        class ImageNotFound(self.Error):
            pass

        class Rados(object):
            def __init__(self, conffile, rados_id):
                self.conffile, self.rados_id = conffile, rados_id

            def connect(self, timeout):
                bindings.connects += 1
                if bindings.connect_error:
                    raise bindings.Error(bindings.connect_error)

            def open_ioctx(self, pool):
                return mock.MagicMock(pool=pool)

            def shutdown(self):
                pass

        class Image(object):
            def __init__(self, ioctx, name, snapshot=None, read_only=False):
                if name not in bindings.images:
                    raise ImageNotFound('[errno 2] image %s not found' % name)
                self.name, self.snapshot = name, snapshot

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

            def size(self):
                return 1 << 30

            def list_snaps(self):
                return [{'name': s} for s in bindings.images[self.name]
                        if isinstance(s, str)]

            def diff_iterate(self, offset, length, from_snapshot, cb):
                bindings.diffs.append((self.name, self.snapshot,
                                       from_snapshot))
                for extent in bindings.images[self.name][
                        (self.snapshot, from_snapshot)]:
                    cb(*extent)

        self.rados = types.SimpleNamespace(Rados=Rados, Error=self.Error)
        self.rbd = types.SimpleNamespace(Image=Image, Error=self.Error,
                                         ImageNotFound=ImageNotFound)

    def installed(self):
        return mock.patch.dict(sys.modules, rados=self.rados, rbd=self.rbd)


class CephMeasureTests(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = types.SimpleNamespace(
            backup_ceph_conf='/etc/ceph/ceph.conf', backup_ceph_user='cinder')

    def stored(self, bindings, *rows):
        with bindings.installed(), measure.Ceph(self.conf) as ceph:
            results = []
            for r in rows:
                try:
                    results.append(ceph.stored(r))
                except measure.NotMeasured as exc:
                    results.append(str(exc))
            return results

    def test_a_chain_is_the_diffs_between_its_snapshots(self):
        base_name = 'volume-%s.backup.full' % VOLUME
        snap = {b: 'backup.%s.snap.1733400000.%d' % (b, n)
                for n, b in enumerate(('full', 'incr', 'same'))}
        bindings = FakeBindings({base_name: {
            snap['full']: None, snap['incr']: None, snap['same']: None,
            (snap['full'], None): [(0, 64 << 20, True)],
            # A discarded extent is not stored.
            (snap['incr'], snap['full']): [(4096, 1000, True),
                                           (1 << 20, 4096, False),
                                           (2 << 20, 2000, True)],
            (snap['same'], snap['incr']): []}})
        sizes = self.stored(
            bindings, row('full', base_name=base_name),
            row('incr', 'full', base_name=base_name),
            row('same', 'incr', base_name=base_name))
        self.assertEqual([(64 << 20, 1), (3000, 2), (0, 0)],
                         [tuple(s) for s in sizes])
        self.assertEqual([(base_name, snap['full'], None),
                          (base_name, snap['incr'], snap['full']),
                          (base_name, snap['same'], snap['incr'])],
                         bindings.diffs)
        self.assertEqual(1, bindings.connects)

    def test_a_copy_of_another_volume_is_its_whole_image(self):
        # Backups of non-RBD volumes: an image of their own, no snapshot.
        name = 'volume-%s.backup.copy' % VOLUME
        bindings = FakeBindings({name: {(None, None): [(0, 8192, True)]}})
        [size] = self.stored(bindings, row('copy'))
        self.assertEqual((8192, 1), tuple(size))

    def test_image_names_of_rows_without_the_name(self):
        # Before Cinder recorded {"base": ...}: its own fallbacks.
        self.assertEqual('volume-%s.backup.full' % VOLUME,
                         measure._base_image(row('full')))
        self.assertEqual('volume-%s.backup.base' % VOLUME,
                         measure._base_image(row('incr', 'full')))
        self.assertEqual('named', measure._base_image(
            row('incr', 'full', base_name='named')))

    def test_a_missing_snapshot_or_image_is_a_reason(self):
        base_name = 'volume-%s.backup.full' % VOLUME
        bindings = FakeBindings({base_name: {
            'backup.incr.snap.2': None}})
        results = self.stored(
            bindings, row('incr', 'full', base_name=base_name),
            row('other', 'incr', base_name=base_name),
            row('gone', base_name='volume-x.backup.gone'))
        self.assertEqual(
            ['image backups/%s has no snapshot of full' % base_name,
             'image backups/%s has no snapshot of other' % base_name,
             'image backups/volume-x.backup.gone: [errno 2] image '
             'volume-x.backup.gone not found'], results)

    def test_an_unreachable_cluster_is_tried_once(self):
        bindings = FakeBindings({}, connect_error='timed out')
        results = self.stored(bindings, row('a'), row('b'))
        reason = 'cannot reach Ceph with /etc/ceph/ceph.conf: timed out'
        self.assertEqual([reason, reason], results)
        self.assertEqual(1, bindings.connects)

    def test_without_the_bindings_every_ceph_backup_says_why(self):
        with mock.patch.dict(sys.modules, rados=None, rbd=None), \
                measure.Ceph(self.conf) as ceph:
            for backup_id in ('a', 'b'):
                self.assertRaisesRegex(
                    measure.NotMeasured, 'python3-rados, python3-rbd',
                    ceph.stored, row(backup_id))

    def test_the_driver_is_recognised(self):
        self.assertEqual('ceph', measure.driver_of(CEPH))
        self.assertEqual('ceph', measure.driver_of(
            'cinder.backup.drivers.ceph'))
        self.assertIsNone(measure.driver_of(
            'cinder.backup.drivers.gcs.GoogleBackupDriver'))

    def test_rows_of_other_states_are_not_read(self):
        bindings = FakeBindings({})
        with bindings.installed(), measure.Ceph(self.conf) as ceph:
            self.assertRaisesRegex(
                measure.NotMeasured, 'status is creating',
                measure._stored, row('a', status='creating'), cfg.CONF,
                ceph, measure.ObjectStores(cfg.CONF))
        self.assertEqual(0, bindings.connects)
