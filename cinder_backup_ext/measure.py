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

Swift and S3 backups are objects in a container (bucket) of the object
store, named after the backup's prefix: the store's own listing gives
their sizes. They are read through Cinder's own driver of that store,
made as ``cinder-backup`` makes it (``compat.backup_driver``), so with the
same endpoint, credentials, certificates and proxies; Swift only with
``backup_swift_auth = single_user`` (``per_user`` backups are read with
their owner's token, which a command on a backup node does not have).

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
SUPPORTED = ('posix', 'nfs', 'glusterfs', 'ceph', 'swift', 's3')
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


def _stored(row, conf, ceph, stores):
    """(Size, source) of one backup row; NotMeasured if not known."""
    if row.status != 'available':
        raise NotMeasured('status is %s, not available' % row.status)
    driver = driver_of(row.service)
    if driver is None:
        raise NotMeasured('driver %s is not supported (%s are)'
                          % (row.service, ', '.join(SUPPORTED)))
    if driver == 'ceph':
        return ceph.stored(row), sizes.CEPH_DIFF
    if driver in LISTINGS:
        return stores.stored(row, driver), sizes.MEASURE
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


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _swift_sizes(conn, container, prefix):
    _headers, listed = conn.get_container(container, prefix=prefix,
                                          full_listing=True)
    return {entry['name']: entry['bytes'] for entry in listed}


def _s3_sizes(conn, bucket, prefix):
    pages = conn.get_paginator('list_objects_v2').paginate(Bucket=bucket,
                                                           Prefix=prefix)
    return {entry['Key']: entry['Size'] for page in pages
            for entry in page.get('Contents', ())}


#: The object store listings: {name: size} of a container's objects whose
#: names start with a prefix.
LISTINGS = {'swift': _swift_sizes, 's3': _s3_sizes}


class ObjectStores(object):
    """Cinder's Swift and S3 drivers, each made once, for the first row.

    A driver that cannot be made (no boto3, a per_user Swift, a broken
    option) is tried once: every backup of it gets the same reason.
    """

    def __init__(self, conf):
        self.conf = conf
        self.drivers = {}

    def _driver(self, name):
        if name not in self.drivers:
            if name == 'swift' and self.conf.backup_swift_auth != \
                    'single_user':
                self.drivers[name] = NotMeasured(
                    'backup_swift_auth is %s: Swift backups are read with '
                    "their owner's token; measure needs single_user"
                    % self.conf.backup_swift_auth)
            else:
                from cinder_backup_ext import compat
                try:
                    self.drivers[name] = compat.backup_driver(name)
                except Exception as exc:  # the driver's own, any
                    self.drivers[name] = NotMeasured(
                        "Cinder's %s driver cannot start: %s"
                        % (name, _one_line(exc)))
        driver = self.drivers[name]
        if isinstance(driver, NotMeasured):
            raise driver
        return driver

    def stored(self, row, name):
        """The Size of the objects a Swift or S3 backup's metadata lists."""
        from cinder_backup_ext import compat
        driver = self._driver(name)
        where = '%s %s' % ('bucket' if name == 's3' else 'container',
                           row.container)
        try:
            objects = compat.backup_metadata(driver, row.container,
                                             row.service_metadata)['objects']
            names = [obj for entry in objects for obj in entry]
        except Exception as exc:  # the store's client raises its own
            raise NotMeasured('metadata object %s_metadata in %s: %s' % (
                row.service_metadata, where, _one_line(exc)))
        try:
            listed = LISTINGS[name](driver.conn, row.container,
                                    row.service_metadata)
        except Exception as exc:
            raise NotMeasured('listing %s: %s' % (where, _one_line(exc)))
        missing = [n for n in names if n not in listed]
        if missing:
            raise NotMeasured('object %s is missing from %s'
                              % (missing[0], where))
        return sizes.Size(sum(listed[n] for n in names), len(names))


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
    stores = ObjectStores(conf)
    with Ceph(conf) as ceph:
        for backup_id in (sorted(rows) if backup_ids is None
                          else backup_ids):
            row = rows.get(backup_id)
            if row is None:
                yield Result(backup_id, None, 'no such backup')
                continue
            try:
                size, source = _stored(row, conf, ceph, stores)
            except NotMeasured as exc:
                yield Result(backup_id, None, str(exc))
                continue
            if not dry_run:
                sizes.record(engine, backup_id, size, source=source)
            yield Result(backup_id, size, None)
