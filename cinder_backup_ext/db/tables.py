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

"""The columns of Cinder's ``backups`` table that this package touches.

Declared by name, without importing Cinder: the notifier and
``cinder-backup-ext-manage`` run where Cinder's modules are not loaded or
not configured, and Cinder's model moved between releases (see
``compat.py``). Only the names and the types that change how values are
bound are stated; the schema itself is Cinder's. The tests and the bench
write rows through the same declaration, so it lists the columns a backup
row needs to be listed by Cinder's API as well.
"""

import sqlalchemy as sa

BACKUPS = sa.table(
    'backups',
    sa.column('id', sa.String),
    sa.column('volume_id', sa.String),
    sa.column('parent_id', sa.String),
    sa.column('deleted', sa.Boolean),
    sa.column('status', sa.String),
    sa.column('num_dependent_backups', sa.Integer),
    # Read by Cinder's API views; written by the tests and the bench.
    sa.column('project_id', sa.String),
    sa.column('user_id', sa.String),
    sa.column('host', sa.String),
    sa.column('availability_zone', sa.String),
    sa.column('display_name', sa.String),
    sa.column('container', sa.String),
    sa.column('service', sa.String),
    # The prefix of a chunked backup's objects (backups measure).
    sa.column('service_metadata', sa.String),
    sa.column('fail_reason', sa.String),
    sa.column('size', sa.Integer),
    sa.column('object_count', sa.Integer),
    sa.column('created_at', sa.DateTime),
    sa.column('data_timestamp', sa.DateTime),
)

# A backup's metadata: the chain cap records there why it made a requested
# incremental full, and the notifier reads it back.
BACKUP_METADATA = sa.table(
    'backup_metadata',
    sa.column('backup_id', sa.String),
    sa.column('key', sa.String),
    sa.column('value', sa.String),
    sa.column('deleted', sa.Boolean),
)
#: The backup metadata key that says why a request was made full.
FORCED_FULL = 'cinder_backup_ext:forced_full'

# What the chain cap reads besides backups: the volume's type, its extra
# specs, and a snapshot's creation time (as Cinder picks a parent).
VOLUMES = sa.table(
    'volumes',
    sa.column('id', sa.String),
    sa.column('volume_type_id', sa.String),
)
VOLUME_TYPE_EXTRA_SPECS = sa.table(
    'volume_type_extra_specs',
    sa.column('volume_type_id', sa.String),
    sa.column('key', sa.String),
    sa.column('value', sa.String),
    sa.column('deleted', sa.Boolean),
)
SNAPSHOTS = sa.table(
    'snapshots',
    sa.column('id', sa.String),
    sa.column('created_at', sa.DateTime),
)
