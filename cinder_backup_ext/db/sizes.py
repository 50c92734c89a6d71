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

"""What each backup really stores, in a table of this package's own.

Cinder sizes every backup as its volume (``backups.size``, GiB), so an
incremental that wrote 3 MiB of a 10 GiB volume says 10 GiB. The bytes a
backup wrote are known where they are written: Cinder's chunked drivers
(posix, NFS, Swift, S3, GCS, GlusterFS) end each backup with a
``backup.createprogress`` notification at ``backup_percent`` 100 whose
payload is the driver's object list for this backup, each object with its
``offset``, uncompressed ``length`` and ``compression`` (checked for
Cinder 24.5.0 to 29.0.0). An incremental lists only the extents it wrote,
so the sum is what the backup adds to its chain, before compression.

The table ``cinder_backup_ext_backup_sizes`` (revision 0002) keeps one row
per backup: no row means unknown (the event was missed, the backup predates
the plugin, or the driver is not chunked), never 0; an incremental of an
unchanged volume records 0 bytes in 0 objects. It has no foreign key to
Cinder's ``backups``, so ``cinder-manage db purge`` works as before.
"""

import collections

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

NAME = 'cinder_backup_ext_backup_sizes'

#: How a number was obtained: the driver's last progress event (bytes
#: before compression); later the backend's own sizes, a Ceph diff.
PROGRESS = 'progress'
MEASURE = 'measure'
CEPH_DIFF = 'ceph-diff'

# The columns as revision 0002 creates them (the migration spells them out
# itself, so that a later change here cannot rewrite history).
TABLE = sa.Table(
    NAME, sa.MetaData(),
    sa.Column('backup_id', sa.String(36), primary_key=True),
    sa.Column('stored_bytes', sa.BigInteger, nullable=True),
    sa.Column('object_count', sa.Integer, nullable=True),
    sa.Column('source', sa.String(16), nullable=False),
    sa.Column('recorded_at', sa.DateTime, nullable=False),
)

#: What a backup wrote: bytes (None when unknown) and objects.
Size = collections.namedtuple('Size', 'stored_bytes object_count')

_INSERTS = {'postgresql': postgresql.insert, 'sqlite': sqlite.insert}


class NotSynced(Exception):
    """The table is not there: ``cinder-backup-ext-manage db sync``."""


def from_progress(payload):
    """The Size a final ``backup.createprogress`` payload reports, or None.

    None for any other progress event (below 100 %) and for a payload of
    another shape: a number that cannot be trusted is not recorded.
    """
    if payload.get('backup_percent') != 100:
        return None
    objects = payload.get('list')
    if not isinstance(objects, list):
        return None
    try:
        lengths = [described['length'] for entry in objects
                   for described in entry.values()]
    except (AttributeError, KeyError, TypeError):
        return None
    # One description per object; bool is an int, but not a length.
    if len(lengths) != len(objects) or not all(
            type(n) is int and n >= 0 for n in lengths):
        return None
    return Size(sum(lengths), len(objects))


def _upsert(dialect, row):
    """INSERT, or UPDATE the row of the same backup: one statement."""
    changed = {k: v for k, v in row.items() if k != 'backup_id'}
    if dialect.name == 'mysql':
        return mysql.insert(TABLE).values(**row).on_duplicate_key_update(
            **changed)
    insert = _INSERTS[dialect.name](TABLE).values(**row)
    return insert.on_conflict_do_update(index_elements=['backup_id'],
                                        set_=changed)


def record(engine, backup_id, size, source=PROGRESS):
    """Record ``size`` for ``backup_id``; the same call twice, one row.

    Raises NotSynced when the table is missing, so that a deployment that
    skipped ``db sync`` is told so rather than taken for an outage.
    """
    row = {'backup_id': backup_id, 'stored_bytes': size.stored_bytes,
           'object_count': size.object_count, 'source': source,
           'recorded_at': timeutils.utcnow()}
    try:
        with engine.begin() as conn:
            conn.execute(_upsert(conn.dialect, row))
    # Cinder's engine is oslo.db's: its errors are translated.
    except (sa.exc.DBAPIError, db_exc.DBError) as exc:
        if (isinstance(exc, db_exc.DBConnectionError)
                or getattr(exc, 'connection_invalidated', False)):
            raise  # an outage: no second try to connect
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(NAME):
                raise NotSynced('no table %s: run cinder-backup-ext-manage '
                                'db sync' % NAME) from exc
        raise


def read(conn, backup_id):
    """(Size, source) recorded for ``backup_id``, or None: unknown."""
    row = conn.execute(
        sa.select(TABLE.c.stored_bytes, TABLE.c.object_count,
                  TABLE.c.source)
        .where(TABLE.c.backup_id == backup_id)).first()
    if row is None:
        return None
    return Size(row.stored_bytes, row.object_count), row.source
