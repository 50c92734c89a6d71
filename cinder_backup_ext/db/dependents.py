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

"""How many live incremental children each backup has, from the rows.

Cinder refuses to delete a backup while ``backup_get_all`` finds a
non-deleted row whose ``parent_id`` is that backup, whatever the child's
status. Its ``has_dependent_backups`` flag instead reads the
``num_dependent_backups`` counter, which only grows when a child becomes
available and shrinks on any delete, so it drifts from what the delete
check sees. This module asks the same question as the delete check, for a
whole page of backups in one grouped statement.
"""

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cinder_backup_ext import compat
from cinder_backup_ext.db import count_engine
from cinder_backup_ext.db import tables


def _grouped(condition):
    backups = tables.BACKUPS
    return (
        sa.select(backups.c.parent_id, sa.func.count())
        .where(condition)
        .where(backups.c.deleted == sa.false())
        .group_by(backups.c.parent_id))


# Each form is built once, so SQLAlchemy compiles it once per dialect and
# then finds it in its statement cache; only the parameters change.

@functools.lru_cache(maxsize=None)
def _one():
    # show: one id, one plain parameter, nothing to expand per request.
    return _grouped(tables.BACKUPS.c.parent_id == sa.bindparam('id'))


@functools.lru_cache(maxsize=None)
def _page(dialect_name):
    parent_id = tables.BACKUPS.c.parent_id
    if dialect_name == 'postgresql':
        # One text parameter holding an array literal,
        # ``parent_id = ANY(CAST(%(ids)s AS VARCHAR(36)[]))``: the server
        # parses one value, where an expanding IN (or a list, which
        # psycopg2 sends as ARRAY['...', ...]) makes it parse and plan
        # 1000 (about 3 ms of a 1000-id page, tools/bench). The planner
        # uses the index for it as for IN (test_migration).
        return _grouped(parent_id == sa.any_(sa.cast(
            sa.bindparam('ids', type_=sa.Text),
            postgresql.ARRAY(parent_id.type))))
    # Elsewhere a page of ids is one expanding parameter.
    return _grouped(parent_id.in_(sa.bindparam('ids', expanding=True)))


def _array_literal(ids):
    """PostgreSQL's text form of an array of strings, each one quoted."""
    return '{%s}' % ','.join(
        '"%s"' % i.replace('\\', '\\\\').replace('"', '\\"')
        for i in ids)


def _form(ids, dialect_name):
    if len(ids) == 1:
        return _one(), {'id': ids[0]}
    if dialect_name == 'postgresql':
        return _page(dialect_name), {'ids': _array_literal(ids)}
    return _page(dialect_name), {'ids': ids}


def statement(backup_ids, dialect_name=None):
    """The count query for these ids, as sent on that dialect.

    For the tests, EXPLAIN and the bench; without a dialect, the portable
    ``IN`` form.
    """
    query, params = _form(sorted(set(backup_ids)), dialect_name)
    return query.params(**params)


def count_children(backup_ids):
    """Map each of ``backup_ids`` that has live children to their number.

    Ids without children are absent from the result. No statement is sent
    for an empty list.
    """
    ids = sorted(set(backup_ids))
    if not ids:
        return {}
    query, params = _form(ids, count_engine.engine().dialect.name)
    return dict(count_engine.execute(query, params))


def delete_statement(backup_id, project_id):
    """One statement: what the delete guard needs to know of a backup.

    A row (project_id, status, live children, live children of
    ``project_id``) for a live backup; no row for a deleted or unknown one.
    """
    backups = tables.BACKUPS
    child = backups.alias('child')
    own = sa.case((child.c.project_id == project_id, child.c.id))
    live_children = backups.outerjoin(child, sa.and_(
        child.c.parent_id == backups.c.id, child.c.deleted == sa.false()))
    return (sa.select(backups.c.project_id, backups.c.status,
                      sa.func.count(child.c.id), sa.func.count(own))
            .select_from(live_children)
            .where(backups.c.id == backup_id)
            .where(backups.c.deleted == sa.false())
            .group_by(backups.c.project_id, backups.c.status))


def read_for_delete(context, backup_id):
    """The row of ``delete_statement`` for the caller, or None."""
    with compat.reader(context) as conn:
        return conn.execute(
            delete_statement(backup_id, context.project_id)).first()
