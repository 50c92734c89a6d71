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

"""Find, and optionally mend, drift in Cinder's num_dependent_backups.

Cinder's ``has_dependent_backups`` reads the ``num_dependent_backups``
counter, which drifts from the rows its delete check counts (see
``cinder_backup_ext/dependents.py``). This compares the counter of every
live backup with its live children and, when asked, sets the counter to the
real count, one transaction per batch of parents.

The table comes from ``tables.py``, not Cinder's models, so that the
manage command can run before Cinder's modules are configured.
"""

import sqlalchemy as sa

from cinder_backup_ext.db import tables


def _drift_in(conn, after, batch_size):
    """(ids of the batch, drifted rows) for parents with id > ``after``."""
    backups = tables.BACKUPS
    parents = [row[0] for row in conn.execute(
        sa.select(backups.c.id)
        .where(backups.c.deleted == sa.false(), backups.c.id > after)
        .order_by(backups.c.id).limit(batch_size))]
    if not parents:
        return parents, []
    children = backups.alias('children')
    live = sa.and_(children.c.parent_id == backups.c.id,
                   children.c.deleted == sa.false())
    counted = sa.func.count(children.c.id)
    rows = conn.execute(
        sa.select(backups.c.id, backups.c.num_dependent_backups, counted)
        .select_from(backups.outerjoin(children, live))
        .where(backups.c.id.in_(parents))
        .group_by(backups.c.id, backups.c.num_dependent_backups)
        .having(sa.func.coalesce(backups.c.num_dependent_backups, 0)
                != counted)
        .order_by(backups.c.id)).all()
    return parents, rows


def check(engine, fix=False, batch_size=1000):
    """Yield (backup id, counter, live children) for each drifted backup.

    With ``fix``, each batch's counters are set to the live count in the
    transaction that found them.
    """
    after = ''
    while True:
        with engine.begin() as conn:
            parents, drifted = _drift_in(conn, after, batch_size)
            for backup_id, _counter, children in drifted:
                if fix:
                    conn.execute(tables.BACKUPS.update()
                                 .where(tables.BACKUPS.c.id == backup_id)
                                 .values(num_dependent_backups=children))
        yield from drifted
        if len(parents) < batch_size:
            return
        after = parents[-1]
