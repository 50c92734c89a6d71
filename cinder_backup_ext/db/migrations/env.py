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

"""Alembic environment: Cinder's database, this package's version table.

Only online migrations, on a connection handed over by
``cinder_backup_ext.db.migration``; the version is kept in
``cinder_backup_ext_alembic_version``, never in Cinder's own
``alembic_version``, so ``cinder-manage db sync`` is unaffected.
"""

from alembic import context

from cinder_backup_ext.db import migration

context.configure(
    connection=context.config.attributes['connection'],
    version_table=migration.VERSION_TABLE,
    target_metadata=None)

with context.begin_transaction():
    context.run_migrations()
