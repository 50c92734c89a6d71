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

"""Index backups.parent_id for the dependents count.

Revision ID: 0001
Revises:
"""

from alembic import op

from cinder_backup_ext.db import parent_index

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Online builds cannot run inside a transaction on PostgreSQL, and
    # MariaDB commits DDL anyway.
    with op.get_context().autocommit_block():
        conn = op.get_bind()
        if parent_index.find(conn) is None:
            parent_index.create(conn)


def downgrade():
    with op.get_context().autocommit_block():
        parent_index.drop(op.get_bind())
