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

"""The bytes a backup occupies on disk, read where Cinder wrote them.

The progress event (``db/sizes.py``) gives what a backup wrote before
compression, and only for backups made while the plugin was installed.
This module reads the backend instead, so it knows the compressed size
and also backfills older backups.

Cinder's chunked driver ends every backup by writing the JSON object
``<service_metadata>_metadata`` into the backup's container; its key
``objects`` lists every data object of that backup (for an incremental,
only the extents it wrote), one ``{name: description}`` per object
(``ChunkedBackupDriver._write_metadata``, Cinder 24.5.0 to 29.0.0).
The posix driver, and NFS and GlusterFS which subclass it, keep each
object as a file ``<repository>/<container>/<name>``, so a backup's
bytes on disk are the sum of those files' sizes. The metadata and
``_sha256file`` objects are not counted: they are bookkeeping, and
leaving them out keeps the number comparable with the progress one.

Cinder's Ceph driver keeps no object list. A backup of an RBD volume is
an ``rbd export-diff | rbd import-diff`` into a base image in the backup
pool (``backups.container``), named in ``service_metadata``
(``{"base": "volume-<volume>.backup.<first backup>"}``), which gains one
snapshot ``backup.<backup id>.snap.<time>`` per backup of its chain; a
backup of any other volume is a plain copy, an image of its own without
snapshots. What a backup added is the diff between its snapshot and its
parent's on that image, read through the ``rbd`` bindings Cinder's driver
imports (source ``ceph-diff``, the object count being the diff's
extents). Ceph reports an object first written by the backup from its
start to its last written byte, so a sparse first write counts its holes.
"""

import collections
import json
import os
import re

import sqlalchemy as sa

from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables

#: The drivers measured, by module under ``cinder.backup.drivers``.
SUPPORTED = ('posix', 'nfs', 'glusterfs', 'ceph')
#: Seconds to reach the Ceph monitors before giving up on every backup.
CEPH_CONNECT_TIMEOUT = 30
DRIVERS_PREFIX = 'cinder.backup.drivers.'

#: A backup measured (``size``) or not (``reason``, one line).
Result = collections.namedtuple('Result', 'backup_id size reason')


class NotMeasured(Exception):
    """Why one backup could not be measured, in one line."""


def driver_of(service):
    """The SUPPORTED module of a ``backups.service``, else None.

    Cinder stores its ``backup_driver`` option there: a class path since
    Queens (``cinder.backup.drivers.nfs.NFSBackupDriver``), a module path
    in older rows (``cinder.backup.drivers.nfs``).
    """
    if not service or not service.startswith(DRIVERS_PREFIX):
        return None
    module = service[len(DRIVERS_PREFIX):].split('.')[0]
    return module if module in SUPPORTED else None


def repository(driver, conf):
    """The folder the driver keeps its containers in, from cinder.conf.

    NFS and GlusterFS shares are mounted by ``cinder-backup`` itself at
    os-brick's mount point for the share (a hash of its name under the
    mount base), the path this returns; posix uses ``backup_posix_path``.
    """
    if driver == 'posix':
        return conf.backup_posix_path
    if driver == 'nfs':
        share, base = conf.backup_share, conf.backup_mount_point_base
    else:
        share = conf.glusterfs_backup_share
        base = conf.glusterfs_backup_mount_point
    if not share:
        raise NotMeasured('no %s share in the configuration files'
                          % driver)
    # compat imports Cinder: only where a share is asked for.
    from cinder_backup_ext import compat
    return compat.share_mount_point(driver, base, share)


def _stored(row, conf, ceph):
    """(Size, source) of one backup row; NotMeasured if not known."""
    if row.status != 'available':
        raise NotMeasured('status is %s, not available' % row.status)
    driver = driver_of(row.service)
    if driver is None:
        raise NotMeasured('driver %s is not supported (%s are)'
                          % (row.service, ', '.join(SUPPORTED)))
    if driver == 'ceph':
        return ceph.stored(row), sizes.CEPH_DIFF
    return _files(row, conf, driver), sizes.MEASURE


def _files(row, conf, driver):
    """The Size of a chunked backup's object files on disk."""
    folder = os.path.join(repository(driver, conf), row.container or '')
    if not row.container or not os.path.isdir(folder):
        raise NotMeasured('container %s is missing' % folder)
    metadata = os.path.join(folder, '%s_metadata' % row.service_metadata)
    try:
        with open(metadata, 'rb') as f:
            objects = json.loads(f.read().decode('utf-8'))['objects']
        names = [name for entry in objects for name in entry]
    except FileNotFoundError:
        raise NotMeasured('metadata file %s is missing' % metadata)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotMeasured('metadata file %s is unreadable: %s'
                          % (metadata, exc))
    total = 0
    for name in names:
        try:
            total += os.stat(os.path.join(folder, name)).st_size
        except OSError as exc:
            raise NotMeasured('object %s: %s' % (name, exc.strerror))
    return sizes.Size(total, len(names))


class Ceph(object):
    """One connection to the backup cluster, made for the first Ceph row.

    A cluster that cannot be reached is tried once: every Ceph backup
    after that gets the same reason.
    """

    def __init__(self, conf):
        self.conf = conf
        self.cluster = self.failed = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.cluster is not None:
            self.cluster.shutdown()

    def _connect(self):
        if self.failed:
            raise NotMeasured(self.failed)
        if self.cluster is None:
            try:
                import rados  # Debian's python3-rados, as Cinder's
            except ImportError:
                self.failed = ('the python rados and rbd bindings are not '
                               'importable (python3-rados, python3-rbd)')
                raise NotMeasured(self.failed)
            try:
                cluster = rados.Rados(conffile=self.conf.backup_ceph_conf,
                                      rados_id=self.conf.backup_ceph_user)
                cluster.connect(timeout=CEPH_CONNECT_TIMEOUT)
            except rados.Error as exc:
                self.failed = 'cannot reach Ceph with %s: %s' % (
                    self.conf.backup_ceph_conf, exc)
                raise NotMeasured(self.failed)
            self.cluster = cluster
        return self.cluster

    def stored(self, row):
        """The Size of the diff that made ``row`` on its base image."""
        cluster = self._connect()
        import rados
        import rbd
        base = _base_image(row)
        extents = []
        try:
            with cluster.open_ioctx(row.container) as ioctx:
                with rbd.Image(ioctx, base, read_only=True) as image:
                    snaps = [s['name'] for s in image.list_snaps()]
                snap = _snap_of(snaps, row.id)
                since = (_snap_of(snaps, row.parent_id) if row.parent_id
                         else None)
                if row.parent_id and not (snap and since):
                    raise NotMeasured('image %s/%s has no snapshot of %s' % (
                        row.container, base,
                        row.parent_id if snap else row.id))
                with rbd.Image(ioctx, base, snapshot=snap,
                               read_only=True) as image:
                    image.diff_iterate(
                        0, image.size(), since,
                        lambda offset, length, exists: extents.append(
                            length if exists else 0))
        except (rados.Error, rbd.Error) as exc:
            raise NotMeasured('image %s/%s: %s' % (row.container, base, exc))
        return sizes.Size(sum(extents), sum(1 for n in extents if n))


def _base_image(row):
    """The image a Ceph backup lives on, as Cinder's driver names it."""
    try:
        return json.loads(row.service_metadata)['base']
    except (TypeError, ValueError, KeyError):
        pass  # backups older than the name in service_metadata
    if row.parent_id:
        return 'volume-%s.backup.base' % row.volume_id
    return 'volume-%s.backup.%s' % (row.volume_id, row.id)


def _snap_of(snaps, backup_id):
    """The snapshot ``backup.<id>.snap.<time>`` among ``snaps``, or None."""
    pattern = re.compile(r'backup\.%s\.snap\.' % re.escape(backup_id))
    found = sorted(s for s in snaps if pattern.match(s))
    return found[-1] if found else None


def _rows(conn, backup_ids):
    backups = tables.BACKUPS
    query = (sa.select(backups.c.id, backups.c.status, backups.c.service,
                       backups.c.container, backups.c.service_metadata,
                       backups.c.volume_id, backups.c.parent_id)
             .where(backups.c.deleted == sa.false()))
    if backup_ids is not None:
        query = query.where(backups.c.id.in_(backup_ids))
    return {row.id: row for row in conn.execute(query.order_by(backups.c.id))}


def measure(engine, conf, backup_ids=None, dry_run=False):
    """Measure ``backup_ids`` (every live backup when None); Results.

    Each measured backup is recorded (source ``measure``, or
    ``ceph-diff``) at once, unless ``dry_run``, so that an interrupted run
    keeps what it did.
    """
    with engine.connect() as conn:
        rows = _rows(conn, backup_ids)
    with Ceph(conf) as ceph:
        for backup_id in (sorted(rows) if backup_ids is None
                          else backup_ids):
            row = rows.get(backup_id)
            if row is None:
                yield Result(backup_id, None, 'no such backup')
                continue
            try:
                size, source = _stored(row, conf, ceph)
            except NotMeasured as exc:
                yield Result(backup_id, None, str(exc))
                continue
            if not dry_run:
                sizes.record(engine, backup_id, size, source=source)
            yield Result(backup_id, size, None)
