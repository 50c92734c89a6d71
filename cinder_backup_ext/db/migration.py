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

"""This package's migrations of Cinder's database, with their own history.

The revisions live in ``migrations/`` and are recorded in the table
``cinder_backup_ext_alembic_version``: Cinder's own alembic chain and its
``alembic_version`` table are never touched, so ``cinder-manage db sync``
works the same before and after.
"""

import os

from alembic import command
from alembic import config
from alembic import migration as alembic_migration
from alembic import script
import sqlalchemy as sa

from cinder_backup_ext.db import parent_index

VERSION_TABLE = 'cinder_backup_ext_alembic_version'


class NotCinderDatabase(Exception):
    """The database has no Cinder schema to migrate."""


def _config(conn):
    cfg = config.Config()
    cfg.set_main_option('script_location', os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'migrations'))
    cfg.attributes['connection'] = conn
    return cfg


def _check_cinder_schema(conn):
    tables = sa.inspect(conn).get_table_names()
    if 'backups' not in tables or 'alembic_version' not in tables:
        raise NotCinderDatabase(
            'no Cinder schema in database %r: run cinder-manage db sync '
            'first' % conn.engine.url.database)


def _run(engine, action, revision):
    with engine.connect() as conn:
        _check_cinder_schema(conn)
    # A fresh connection: alembic must own the transaction, or it cannot
    # step out of it for an online index build.
    with engine.connect() as conn:
        action(_config(conn), revision)
        if conn.in_transaction():  # SQLAlchemy 2 begins one on any read
            conn.commit()


def upgrade(engine, revision='head'):
    """Apply the revisions up to ``revision``; True if the index was rebuilt.

    The index is the whole point of revision 0001, and it can disappear
    after the revision was recorded (a table rebuilt by hand or by a future
    Cinder migration, a restore of an older dump). The recorded revision
    alone would then call the sync a no-op, so a sync that reaches head
    also checks that the index is there, and builds it again if it is not.
    """
    _run(engine, command.upgrade, revision)
    if version(engine) != head() or revision not in ('head', head()):
        return False
    # CREATE INDEX CONCURRENTLY cannot run in a transaction; elsewhere one
    # that commits is what makes the DDL stick (SQLite's driver).
    if engine.dialect.name == 'postgresql':
        connection = engine.connect().execution_options(
            isolation_level='AUTOCOMMIT')
    else:
        connection = engine.begin()
    with connection as conn:
        if parent_index.find(conn) is not None:
            return False
        parent_index.create(conn)
    return True


def downgrade(engine, revision):
    _run(engine, command.downgrade, revision)


def version(engine):
    """The applied revision, or None before the first sync."""
    with engine.connect() as conn:
        context = alembic_migration.MigrationContext.configure(
            conn, opts={'version_table': VERSION_TABLE})
        return context.get_current_revision()


def head():
    return script.ScriptDirectory.from_config(_config(None)).get_current_head()
