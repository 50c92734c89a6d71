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

"""A table of this package's own for the bytes each backup stores.

Revision ID: 0002
Revises: 0001

A new table: no lock on any of Cinder's, so the API and the backup
service keep running while it is created. No foreign key to ``backups``:
Cinder's ``db purge`` deletes backup rows without knowing of this table.
Creating a table that is already there, or dropping one that is gone, is
a no-op, as 0001 does for its index.
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLE = 'cinder_backup_ext_backup_sizes'


def _exists():
    return sa.inspect(op.get_bind()).has_table(TABLE)


def upgrade():
    if _exists():
        return
    op.create_table(
        TABLE,
        # Cinder's backups.id: a UUID in a String(36).
        sa.Column('backup_id', sa.String(36), primary_key=True),
        # NULL: recorded as unknown. 0 is a real answer (nothing written).
        sa.Column('stored_bytes', sa.BigInteger, nullable=True),
        sa.Column('object_count', sa.Integer, nullable=True),
        # progress | measure | ceph-diff (cinder_backup_ext.db.sizes)
        sa.Column('source', sa.String(16), nullable=False),
        sa.Column('recorded_at', sa.DateTime, nullable=False),
        mysql_engine='InnoDB',
        mysql_charset='utf8')


def downgrade():
    if _exists():
        op.drop_table(TABLE)
