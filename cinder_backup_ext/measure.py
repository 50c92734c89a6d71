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
"""

import collections
import json
import os

import sqlalchemy as sa

from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables

#: The drivers measured, by module under ``cinder.backup.drivers``.
SUPPORTED = ('posix', 'nfs', 'glusterfs')
DRIVERS_PREFIX = 'cinder.backup.drivers.'

#: A backup measured (``size``) or not (``reason``, one line).
Result = collections.namedtuple('Result', 'backup_id size reason')


class NotMeasured(Exception):
    """Why one backup could not be measured, in one line."""


def driver_of(service):
    """'posix', 'nfs' or 'glusterfs' for a ``backups.service``, else None.

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


def _stored(row, conf):
    """The Size of one backup row's objects on disk; NotMeasured if not."""
    if row.status != 'available':
        raise NotMeasured('status is %s, not available' % row.status)
    driver = driver_of(row.service)
    if driver is None:
        raise NotMeasured('driver %s is not supported (%s are)'
                          % (row.service, ', '.join(SUPPORTED)))
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


def _rows(conn, backup_ids):
    backups = tables.BACKUPS
    query = (sa.select(backups.c.id, backups.c.status, backups.c.service,
                       backups.c.container, backups.c.service_metadata)
             .where(backups.c.deleted == sa.false()))
    if backup_ids is not None:
        query = query.where(backups.c.id.in_(backup_ids))
    return {row.id: row for row in conn.execute(query.order_by(backups.c.id))}


def measure(engine, conf, backup_ids=None, dry_run=False):
    """Measure ``backup_ids`` (every live backup when None); Results.

    Each measured backup is recorded with source ``measure`` at once,
    unless ``dry_run``, so that an interrupted run keeps what it did.
    """
    with engine.connect() as conn:
        rows = _rows(conn, backup_ids)
    for backup_id in (sorted(rows) if backup_ids is None else backup_ids):
        row = rows.get(backup_id)
        if row is None:
            yield Result(backup_id, None, 'no such backup')
            continue
        try:
            size = _stored(row, conf)
        except NotMeasured as exc:
            yield Result(backup_id, None, str(exc))
            continue
        if not dry_run:
            sizes.record(engine, backup_id, size, source=sizes.MEASURE)
        yield Result(backup_id, size, None)
