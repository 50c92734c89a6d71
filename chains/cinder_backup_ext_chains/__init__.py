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

"""Backup chains as trees: order, depth, what can go, what to prune.

Pure functions over backup rows (mappings with at least ``id``,
``parent_id``, ``status`` and ``created_at``), with no Cinder and no HTTP,
so that the ``os-backup-chains`` resource, the OpenStackClient plugin and
the dashboard all answer the same way. The rows must be every live backup
of the chains concerned that the caller may see: a backup's dependents are
its children among them, plus ``hidden_dependent_count`` children of other
projects (``visibility.py``), the same rows the delete check counts.
"""

import collections
import datetime

#: Cinder deletes a backup (without ``force``) only in these states, and
#: only when no live backup has it as its parent.
DELETABLE_STATUSES = frozenset(['available', 'error'])

#: Why a member is not deletable, in the order Cinder's delete checks.
STATUS_REASON = ('Its status is %s; Cinder deletes only available or error '
                 'backups.')
DEPENDENTS_REASON = 'Incremental backups depend on this one.'
HIDDEN_DEPENDENTS_REASON = 'A backup of another project depends on this one.'


def not_deletable_reason(row, kids=()):
    """Why Cinder refuses to delete ``row``; None when it accepts."""
    if row['status'] not in DELETABLE_STATUSES:
        return STATUS_REASON % row['status']
    if kids:
        return DEPENDENTS_REASON
    if row.get('hidden_dependent_count'):
        return HIDDEN_DEPENDENTS_REASON
    return None


def restore_problem(backup, rows_by_id, sees=lambda row: True):
    """Why a restore of ``backup`` cannot read its whole chain, or None.

    A restore reads every backup from the chain's full backup down to
    this one; one broken link and it fails half-way, after the target
    volume was already written. ``rows_by_id`` holds the backup's
    ancestors as far as they exist, soft-deleted rows included (with
    ``deleted`` true). Returns the nearest broken link, in words: an
    ancestor missing or deleted, not readable (``available``, or
    ``restoring``: Cinder reads it all the same), or made by another
    backup service (``service``, compared as Cinder compares it) than
    ``backup``. Of an ancestor ``sees`` refuses, only that it is broken is
    said.
    """
    row, walked = backup, {backup['id']}
    while row['parent_id'] is not None:
        parent = rows_by_id.get(row['parent_id'])
        if parent is None:
            return ('ancestor %s no longer exists' % row['parent_id']
                    if sees(row) and not row.get('parent_hidden')
                    else 'an ancestor no longer exists')
        if parent['id'] in walked:
            return 'its chain loops back on itself'
        broken = _broken_link(backup, parent)
        if broken and not sees(parent):
            # That it matters is said; nothing about it is.
            return 'an ancestor of another project cannot be read'
        if broken:
            return 'ancestor %s %s' % (parent['id'], broken)
        row = parent
        walked.add(row['id'])
    return None


#: An ancestor a running restore reads as well as an available one:
#: Cinder's chunked drivers read ancestors without looking at their status.
READABLE_STATUSES = frozenset(['available', 'restoring'])


def _same_service(one, other):
    """Cinder's own rule: one driver name is a prefix of the other."""
    return one.startswith(other) or other.startswith(one)


def _broken_link(backup, ancestor):
    """Why ``ancestor`` breaks ``backup``'s restore, or None."""
    if ancestor.get('deleted'):
        return 'is deleted'
    if ancestor['status'] not in READABLE_STATUSES:
        return 'is in status %s' % ancestor['status']
    if (backup.get('service') and ancestor.get('service')
            and not _same_service(ancestor['service'], backup['service'])):
        return ('was made by backup service %s, this backup by %s'
                % (ancestor['service'], backup['service']))
    return None


def _key(row):
    return (row['created_at'], row['id'])


class Chain(object):
    """One tree of live backups.

    ``root`` is the full backup, an *orphan*: an incremental whose parent
    is no longer a live row (``is_orphan``), or an incremental whose parent
    the caller may not see (``parent_hidden``). ``members`` are every
    backup of the tree in tree order (each parent before its children,
    siblings oldest first), as dicts with ``depth``, ``is_incremental``,
    ``has_dependent_backups``, ``deletable`` and ``not_deletable_reason``
    added.
    """

    def __init__(self, root, children):
        self.root = root
        self.parent_hidden = bool(root.get('parent_hidden'))
        self.is_orphan = (root['parent_id'] is not None
                          and not self.parent_hidden)
        self._children = children
        self.members = []
        stack = [(root, 0)]
        while stack:
            row, depth = stack.pop()
            kids = children.get(row['id'], ())
            reason = not_deletable_reason(row, kids)
            self.members.append(dict(
                row, depth=depth,
                hidden_dependent_count=row.get('hidden_dependent_count', 0),
                is_incremental=row['parent_id'] is not None,
                has_dependent_backups=bool(
                    kids or row.get('hidden_dependent_count')),
                deletable=reason is None,
                not_deletable_reason=reason))
            stack.extend((kid, depth + 1) for kid in reversed(kids))
        self.ids = frozenset(member['id'] for member in self.members)

    @property
    def depth(self):
        return max(member['depth'] for member in self.members)

    @property
    def newest(self):
        return max(self.members, key=_key)

    @property
    def hidden_count(self):
        """Backups the caller may not see that touch this chain."""
        return (int(self.parent_hidden)
                + sum(member.get('hidden_dependent_count') or 0
                      for member in self.members))

    def delete_order(self, backup_id):
        """The subtree rooted at ``backup_id``, leaf-first."""
        return _post_order(backup_id, self._children, lambda _id: True)


def _post_order(top, children, wanted):
    """Ids under ``top`` (included), every child before its parent."""
    order, stack = [], [(top, False)]
    while stack:
        backup_id, expanded = stack.pop()
        if expanded:
            if wanted(backup_id):
                order.append(backup_id)
            continue
        stack.append((backup_id, True))
        # Newest sibling first: the reverse of the order they were made.
        stack.extend((kid['id'], False)
                     for kid in children.get(backup_id, ()))
    return order


def build(rows):
    """The chains that ``rows`` form, newest root first."""
    by_id = {row['id']: row for row in rows}
    children = collections.defaultdict(list)
    roots = []
    for row in rows:
        if row['parent_id'] is not None and row['parent_id'] in by_id:
            children[row['parent_id']].append(row)
        else:
            roots.append(row)
    for kids in children.values():
        kids.sort(key=_key)
    chains = [Chain(root, children) for root in roots]
    # Rows that no root reaches form parent_id cycles (a corrupt table):
    # each is shown from its oldest member rather than dropped.
    seen = set().union(*(chain.ids for chain in chains))
    while len(seen) < len(by_id):
        root = min((row for row in rows if row['id'] not in seen), key=_key)
        children[root['parent_id']].remove(root)
        chains.append(Chain(root, children))
        seen |= chains[-1].ids
    chains.sort(key=lambda chain: _key(chain.root), reverse=True)
    return chains


def find(chains, backup_id):
    """The chain that holds ``backup_id``, or None."""
    for chain in chains:
        if backup_id in chain.ids:
            return chain
    return None


class Plan(collections.namedtuple('Plan', 'delete keep reasons')):
    """What a retention run deletes (leaf-first) and keeps.

    ``keep`` is the sorted ids kept; ``reasons`` maps each of them to the
    rules that kept it, in words (``keep-daily 2026-12-03``, ``parent of
    ID``, ``status creating`` ...).
    """


#: The calendar rules: each keeps the newest restore point of each of the
#: last N periods that have one. Periods are in UTC; weeks are ISO weeks.
PERIODS = {
    'daily': lambda when: when.strftime('%Y-%m-%d'),
    'weekly': lambda when: '%04d-W%02d' % when.isocalendar()[:2],
    'monthly': lambda when: when.strftime('%Y-%m'),
    'yearly': lambda when: when.strftime('%Y'),
}


def when(row):
    """A row's ``created_at`` as a UTC datetime (rows from JSON hold text)."""
    value = row['created_at']
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def _newest_of_periods(points, period, count):
    """The newest point of each of the ``count`` newest periods.

    ``points`` are newest first; returns {id: period} of those kept, for
    the periods that have a point.
    """
    kept = {}
    for point in points:
        key = period(when(point))
        if key in kept.values():
            continue
        if len(kept) == count:
            break
        kept[point['id']] = key
    return kept


def plan_prune(chains, keep_last=None, keep_chains=None, keep_daily=None,
               keep_weekly=None, keep_monthly=None, keep_yearly=None,
               keep_within=None, now=None):
    """Delete all but what the retention rules keep, never a needed parent.

    The rules, any number of them, keep the union of what each keeps:

    - ``keep_last=N``: the N newest restore points (available backups);
    - ``keep_daily``, ``keep_weekly``, ``keep_monthly``, ``keep_yearly``
      ``=N``: the newest restore point of each of the N newest days (ISO
      weeks, months, years; UTC) that have one;
    - ``keep_within`` (a timedelta): every restore point made within that
      long before the newest one;
    - ``keep_chains=K``: the K newest chains, whole.

    Then, whatever the rules: every backup a kept one restores from (its
    ancestors); a backup in a state Cinder will not delete (creating,
    restoring, deleting ...) or that a backup of another project depends
    on, with its ancestors, so the plan never asks for a delete Cinder
    would refuse; and, when ``now`` is given (the start of the run), every
    backup made at or after it.
    """
    counts = {'last': keep_last, 'chains': keep_chains, 'daily': keep_daily,
              'weekly': keep_weekly, 'monthly': keep_monthly,
              'yearly': keep_yearly}
    if all(value is None for value in counts.values()) and keep_within is None:
        raise ValueError('give at least one rule of what to keep')
    if any(value is not None and value < 0 for value in counts.values()):
        raise ValueError('the number to keep must not be negative')
    if keep_within is not None and keep_within < datetime.timedelta(0):
        raise ValueError('keep_within must not be negative')
    if now is not None:
        now = when({'created_at': now})
    members = [member for chain in chains for member in chain.members]
    points = sorted((m for m in members if m['status'] == 'available'),
                    key=_key, reverse=True)
    reasons = collections.defaultdict(list)
    if keep_chains is not None:
        for chain in chains[:keep_chains]:
            for backup_id in chain.ids:
                reasons[backup_id].append('keep-chains')
    for point in points[:keep_last or 0]:
        reasons[point['id']].append('keep-last')
    for name, period in PERIODS.items():
        if counts[name]:
            kept = _newest_of_periods(points, period, counts[name])
            for backup_id, key in kept.items():
                reasons[backup_id].append('keep-%s %s' % (name, key))
    if keep_within is not None and points:
        since = when(points[0]) - keep_within
        for point in points:
            if when(point) >= since:
                reasons[point['id']].append('keep-within')
    for member in members:
        if member['status'] not in DELETABLE_STATUSES:
            reasons[member['id']].append('status %s' % member['status'])
        if member.get('hidden_dependent_count'):
            reasons[member['id']].append(
                'a backup of another project depends on it')
        if now is not None and when(member) >= now:
            reasons[member['id']].append('made after the run started')
    for chain in chains:
        # Children come after their parent in tree order: walked backwards,
        # a kept backup has marked its parent before the parent is seen.
        for member in reversed(chain.members[1:]):
            if member['id'] in reasons:
                reasons[member['parent_id']].append(
                    'parent of %s' % member['id'])
    delete = []
    for chain in chains:
        delete.extend(_post_order(chain.root['id'], chain._children,
                                  lambda _id: _id not in reasons))
    return Plan(delete=delete, keep=sorted(reasons), reasons=dict(reasons))
