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

from cinder_backup_ext import compat


@functools.lru_cache(maxsize=None)
def _query():
    # Built once: a page of 1000 ids is bound to one expanding parameter.
    backups = compat.BACKUPS
    return (
        sa.select(backups.c.parent_id, sa.func.count())
        .where(backups.c.parent_id.in_(sa.bindparam('ids', expanding=True)))
        .where(backups.c.deleted == sa.false())
        .group_by(backups.c.parent_id))


def statement(backup_ids):
    """The count query for these ids, as sent (tests, EXPLAIN, bench)."""
    return _query().params(ids=list(backup_ids))


def count_children(context, backup_ids):
    """Map each of ``backup_ids`` that has live children to their number.

    Ids without children are absent from the result. No statement is sent
    for an empty list.
    """
    ids = sorted(set(backup_ids))
    if not ids:
        return {}
    with compat.reader(context) as conn:
        return dict(conn.execute(_query(), {'ids': ids}).all())
