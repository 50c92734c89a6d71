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

"""The rows of whole backup chains, in a fixed number of statements.

``chains.build`` needs every live member of the chains it is given. A
chain is as long as its owner let it grow, so the rows are fetched with
recursive CTEs rather than one statement per level: up from a backup to
its root by primary key, down from roots by ``parent_id`` (the index
``cinder_backup_ext_backups_parent_id_idx`` on ``(parent_id, deleted)``
serves each step). The CTEs carry ids only and join with ``UNION``, not
``UNION ALL``: a row met twice is dropped, so even a corrupt table whose
``parent_id`` values form a cycle ends the walk.

The walks follow ``parent_id`` whatever the project, like the dependents
count (``dependents.py``): another project's child blocks a delete all the
same. Each row carries its parent's project (``parent_project_id``)
so that ``visibility.py`` can tell, from the rows alone, which members and
which parents a caller may see. Roots are chosen the same way: for a
caller who sees one project, a backup whose parent belongs to another
project starts a chain of its own.
"""

import sqlalchemy as sa

from cinder_backup_ext import compat
from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables

#: The columns of a member row, as chains.build and the API read them.
COLUMNS = ('id', 'display_name', 'parent_id', 'status', 'size',
           'created_at', 'project_id', 'volume_id', 'service')


def _columns(backups):
    """The member columns, the project of the parent row, the stored bytes.

    The parent's project whether it is live or soft-deleted: a deleted
    parent of another project is not named either. The bytes a backup
    stores, and how they were obtained, come from this package's own table
    (``sizes.py``); NULL where nothing was recorded. Two outer joins on
    primary keys: the statement count does not change.
    """
    parent = backups.alias('parent_row')
    stored = sizes.TABLE
    joined = (backups.outerjoin(parent, parent.c.id == backups.c.parent_id)
              .outerjoin(stored, stored.c.backup_id == backups.c.id))
    return ([backups.c[name] for name in COLUMNS]
            + [parent.c.project_id.label('parent_project_id'),
               stored.c.stored_bytes,
               stored.c.source.label('stored_bytes_source')]), joined


def _select_rows(backups, ids_cte):
    columns, joined = _columns(backups)
    return (sa.select(*columns)
            .select_from(joined.join(ids_cte, backups.c.id == ids_cte.c.id))
            .where(backups.c.deleted == sa.false()))


def _down(backups, anchor):
    """Ids of ``anchor``'s rows and of every live row below them."""
    down = anchor.cte('chain_down', recursive=True)
    child = backups.alias('child')
    return down.union(
        sa.select(child.c.id)
        .where(child.c.parent_id == down.c.id)
        .where(child.c.deleted == sa.false()))


def chain_statement(backup_id):
    """One statement: the live chain that holds ``backup_id``.

    Up from the backup through its live ancestors, then down from all of
    them: the topmost one is the root (or the oldest of a cycle), and the
    walk down from it reaches the whole tree. No row when the backup is
    not live.
    """
    backups = tables.BACKUPS
    up = _up(backups, backups.c.id == backup_id, 'chain_up', live_only=True)
    return _select_rows(backups, _down(backups, sa.select(up.c.id)))


def _up(backups, start, name, live_only):
    """Ids of the live row matching ``start`` and of its ancestors.

    ``live_only``: through live ancestors only; else through soft-deleted
    ones too. ``UNION`` ends the walk on a cycle.
    """
    up = (sa.select(backups.c.id, backups.c.parent_id)
          .where(start)
          .where(backups.c.deleted == sa.false())
          .cte(name, recursive=True))
    parent = backups.alias('parent')
    step = (sa.select(parent.c.id, parent.c.parent_id)
            .where(parent.c.id == up.c.parent_id))
    if live_only:
        step = step.where(parent.c.deleted == sa.false())
    return up.union(step)


def ancestors_statement(backup_id):
    """One statement: a live backup and every ancestor row, deleted or not.

    What a restore reads, for ``chains.restore_problem``: up by primary key
    through soft-deleted rows too, so that a deleted link is told from a
    missing one. ``UNION`` ends the walk on a cycle.
    """
    backups = tables.BACKUPS
    up = _up(backups, backups.c.id == backup_id, 'restore_up',
             live_only=False)
    return (sa.select(backups.c.id, backups.c.parent_id, backups.c.status,
                      backups.c.deleted, backups.c.service,
                      backups.c.project_id)
            .select_from(backups.join(up, backups.c.id == up.c.id)))


def read_ancestors(context, backup_id):
    """{id: row} of ``backup_id`` and its ancestors ({} if not live)."""
    with compat.reader(context) as conn:
        unbounded_recursion(conn)
        return {row['id']: row
                for row in _dicts(conn.execute(ancestors_statement(
                    backup_id)))}


def parent_line_statement(volume_id, project_id, snapshot_id=None):
    """One statement: the parent Cinder will pick, and its live ancestors.

    Cinder (``backup/api.py`` ``create``, 24.5 to 29) gives an incremental
    backup of a volume, as its parent, the caller's project's available
    backup of that volume with the latest ``data_timestamp``; from a
    snapshot, the latest one whose ``data_timestamp`` is earlier than the
    snapshot's creation. The rows come parent first, up to the chain's
    full backup (or the oldest live ancestor); none when Cinder will find
    no parent (and refuse the incremental itself).
    """
    backups = tables.BACKUPS
    candidate = (sa.select(backups.c.id)
                 .where(backups.c.volume_id == volume_id)
                 .where(backups.c.project_id == project_id)
                 .where(backups.c.deleted == sa.false())
                 .where(backups.c.status == 'available'))
    if snapshot_id is not None:
        snapshot = (sa.select(tables.SNAPSHOTS.c.created_at)
                    .where(tables.SNAPSHOTS.c.id == snapshot_id)
                    .scalar_subquery())
        candidate = candidate.where(backups.c.data_timestamp < snapshot)
    parent_id = (candidate.order_by(backups.c.data_timestamp.desc())
                 .limit(1).scalar_subquery())
    up = _up(backups, backups.c.id == parent_id, 'parent_line',
             live_only=True)
    return (sa.select(backups.c.id, backups.c.parent_id,
                      backups.c.created_at)
            .select_from(backups.join(up, backups.c.id == up.c.id)))


def extra_specs_statement(volume_id, keys):
    """The volume's type's extra specs among ``keys``: (key, value) rows."""
    specs, volumes = tables.VOLUME_TYPE_EXTRA_SPECS, tables.VOLUMES
    # Labelled, so that the tests count this statement among Cinder's.
    return (sa.select(specs.c.key.label('cbe_spec_key'),
                      specs.c.value.label('cbe_spec_value'))
            .select_from(specs.join(volumes, volumes.c.volume_type_id
                                    == specs.c.volume_type_id))
            .where(volumes.c.id == volume_id)
            .where(specs.c.deleted == sa.false())
            .where(specs.c.key.in_(list(keys))))


def read_extra_specs(context, volume_id, keys):
    """{key: value} of the volume's type's extra specs among ``keys``."""
    with compat.reader(context) as conn:
        return dict(conn.execute(extra_specs_statement(volume_id,
                                                       keys)).all())


def read_parent_line(context, volume_id, project_id, snapshot_id):
    """The parent Cinder will pick and its live ancestors, parent first."""
    with compat.reader(context) as conn:
        unbounded_recursion(conn)
        rows = {row['id']: row for row in _dicts(conn.execute(
            parent_line_statement(volume_id, project_id, snapshot_id)))}
    # Parent first: the one row no other row of the line names as parent.
    named = {row['parent_id'] for row in rows.values()}
    line = [row for row in rows.values() if row['id'] not in named]
    while line and line[-1]['parent_id'] in rows:
        line.append(rows[line[-1]['parent_id']])
        if len(line) > len(rows):
            break  # a cycle: a corrupt table, the line is what was read
    return line


def _scope(query, backups, project_id, volume_id):
    if project_id is not None:
        query = query.where(backups.c.project_id == project_id)
    if volume_id is not None:
        query = query.where(backups.c.volume_id == volume_id)
    return query


def _is_root(backups, seen_project):
    """No parent, or a parent the caller does not see as a live row.

    ``seen_project`` None: the caller sees every project, and a root is a
    full backup or an orphan (its parent is not a live row). Otherwise the
    caller sees that project only, and a backup whose live parent belongs
    to another project is a root too.
    """
    parent = backups.alias('parent')
    live_parent = (sa.select(parent.c.id)
                   .where(parent.c.id == backups.c.parent_id)
                   .where(parent.c.deleted == sa.false()))
    if seen_project is not None:
        live_parent = live_parent.where(parent.c.project_id == seen_project)
    return sa.and_(backups.c.deleted == sa.false(),
                   sa.or_(backups.c.parent_id.is_(None),
                          ~live_parent.exists()))


def marker_statement(marker, project_id=None, seen_project=None):
    """The (created_at, id) of root ``marker``, in the caller's scope."""
    backups = tables.BACKUPS
    query = (sa.select(backups.c.created_at, backups.c.id)
             .where(backups.c.id == marker)
             .where(_is_root(backups, seen_project)))
    return _scope(query, backups, project_id, None)


def roots_statement(limit, project_id=None, volume_id=None, after=None,
                    seen_project=None):
    """A page of chain roots, newest first.

    ``after`` is the (created_at, id) of the previous page's last root;
    ``seen_project`` as in ``_is_root``.
    """
    backups = tables.BACKUPS
    columns, joined = _columns(backups)
    query = _scope(sa.select(*columns).select_from(joined)
                   .where(_is_root(backups, seen_project)),
                   backups, project_id, volume_id)
    if after is not None:
        created_at, root_id = after
        query = query.where(sa.or_(
            backups.c.created_at < created_at,
            sa.and_(backups.c.created_at == created_at,
                    backups.c.id < root_id)))
    return (query.order_by(backups.c.created_at.desc(), backups.c.id.desc())
            .limit(limit))


def members_statement(root_ids):
    """One statement: every live member of the chains of these roots."""
    backups = tables.BACKUPS
    anchor = sa.select(backups.c.id).where(backups.c.id.in_(list(root_ids)))
    return _select_rows(backups, _down(backups, anchor))


def _dicts(result):
    return [dict(row._mapping) for row in result]


def unbounded_recursion(conn):
    """Let this connection's recursive CTEs walk a chain of any length.

    MariaDB stops a recursive CTE after ``max_recursive_iterations`` steps
    (1000 by default) with a mere warning, so a chain deeper than that
    would be cut short, its deepest member shown deletable; MySQL 8 fails
    after ``cte_max_recursion_depth`` (also 1000). The walks here end by
    themselves (``UNION`` drops a row met twice), so the session's limit
    is lifted. Cinder runs no recursive CTE, for which the limit would
    matter, on the pooled connection afterwards. A session variable lasts
    as long as the database connection, so it is set once per connection
    of the pool (remembered in its ``info``), not once per request.
    """
    if conn.dialect.name not in ('mysql', 'mariadb'):
        return
    info = conn.connection.info
    if info.get(_UNBOUNDED):
        return
    name = ('max_recursive_iterations'
            if getattr(conn.dialect, 'is_mariadb', False)
            else 'cte_max_recursion_depth')
    conn.execute(sa.text('SET SESSION %s = 4294967295' % name))
    info[_UNBOUNDED] = True


_UNBOUNDED = 'cinder_backup_ext.unbounded_recursion'


def read_chain(conn, backup_id):
    """The live members of the chain holding ``backup_id``, on ``conn``."""
    unbounded_recursion(conn)
    return _dicts(conn.execute(chain_statement(backup_id)))


def chain_of(context, backup_id):
    """Every live member of the chain holding ``backup_id`` ([] if none)."""
    with compat.reader(context) as conn:
        return read_chain(conn, backup_id)


def sizes_table_exists(context):
    """False when ``db sync`` has not made the stored sizes' table yet.

    Asked only after a read failed, to say what to do about it; None when
    even that cannot be told.
    """
    try:
        with compat.reader(context) as conn:
            return sa.inspect(conn).has_table(sizes.NAME)
    except sa.exc.SQLAlchemyError:
        return None


class MarkerNotFound(Exception):
    pass


def page_of_chains(context, limit, project_id=None, volume_id=None,
                   marker=None, seen_project=None):
    """A page of roots, newest first, and every live member of their chains.

    Returns (roots, members). ``project_id`` None means every project;
    ``seen_project`` is the one project the caller sees (None: all).
    Two statements, three with a marker; none of them grows with the
    chains' length.
    """
    with compat.reader(context) as conn:
        after = None
        if marker is not None:
            after = conn.execute(marker_statement(
                marker, project_id, seen_project)).first()
            if after is None:
                raise MarkerNotFound(marker)
            after = tuple(after)
        roots = _dicts(conn.execute(roots_statement(
            limit, project_id, volume_id, after, seen_project)))
        if not roots:
            return [], []
        unbounded_recursion(conn)
        members = _dicts(conn.execute(
            members_statement([root['id'] for root in roots])))
    return roots, members
