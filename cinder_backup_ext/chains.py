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


class Plan(collections.namedtuple('Plan', 'delete keep')):
    """What a retention run deletes (leaf-first) and keeps (ids)."""


def plan_prune(chains, keep_last=None, keep_chains=None):
    """Delete all but what a retention policy keeps, never a needed parent.

    ``keep_last=N`` keeps the N newest available backups and every
    ancestor they restore from; ``keep_chains=K`` keeps the K newest chains
    whole. A backup in a state Cinder will not delete (creating, restoring,
    deleting ...), or that a backup of another project depends on, is kept
    with its ancestors, so the plan never asks for a delete that Cinder
    would refuse.
    """
    if (keep_last is None) == (keep_chains is None):
        raise ValueError('give exactly one of keep_last and keep_chains')
    if (keep_last if keep_chains is None else keep_chains) < 0:
        raise ValueError('the number to keep must not be negative')
    members = [member for chain in chains for member in chain.members]
    if keep_chains is not None:
        kept = set().union(*(chain.ids for chain in chains[:keep_chains]))
    else:
        available = sorted((m for m in members if m['status'] == 'available'),
                           key=_key, reverse=True)
        kept = {m['id'] for m in available[:keep_last]}
    # Nor one that another project's backup depends on (visibility.py).
    kept |= {m['id'] for m in members
             if m['status'] not in DELETABLE_STATUSES
             or m.get('hidden_dependent_count')}
    for chain in chains:
        # Children come after their parent in tree order: walked backwards,
        # a kept backup has marked its parent before the parent is seen.
        for member in reversed(chain.members[1:]):
            if member['id'] in kept:
                kept.add(member['parent_id'])
    delete = []
    for chain in chains:
        delete.extend(_post_order(chain.root['id'], chain._children,
                                  lambda _id: _id not in kept))
    return Plan(delete=delete, keep=sorted(kept))
