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

"""What the dashboard knows about a backup's chain, without Django.

The backups table and the detail page decide from two sources:

- the flags in Cinder's backup body (``is_incremental``,
  ``has_dependent_backups``), which cinderclient keeps in the resource's
  raw body at every microversion Horizon asks for (3.18 for show, 3.45 for
  the paged list); absent when the policy rule hides them;
- the ``os-backup-chains`` resource (one GET per chain), for the number
  of backups that depend on one, the parent, the children, the tree and
  the bytes each backup stored (Cinder's body has no such number).

Everything here is plain Python so that it is tested without Horizon.
"""

import cinder_backup_ext_chains as chains

#: Statuses of a dependent that will change without the user doing
#: anything: the row of its ancestor is polled until they settle.
TRANSIENT_STATUSES = frozenset(['deleting', 'creating', 'restoring'])


def flag(backup, name):
    """``True``/``False`` as Cinder sent it, ``None`` when it is absent.

    ``backup`` is Horizon's ``VolumeBackup`` wrapper (its ``_attrs`` do not
    list the flags), a cinderclient ``Backup`` or a plain mapping. The raw
    body is read rather than the resource's attributes: a cinderclient
    resource may lazy-load a missing attribute with another GET.
    """
    resource = getattr(backup, '_apiresource', backup)
    info = getattr(resource, '_info', resource)
    if isinstance(info, dict):
        value = info.get(name)
    else:
        value = getattr(resource, name, None)
    return value if isinstance(value, bool) else None


def byte_count(value):
    """A byte count as the API sent it; None for null or anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class ChainBody(object):
    """The body of ``GET os-backup-chains/{id}`` (its ``backup_chain``)."""

    def __init__(self, body):
        self.members = list(body.get('backups') or [])
        #: The chain's total; None unless every member's is known.
        self.stored_bytes = byte_count(body.get('stored_bytes'))
        self.by_id = {member['id']: member for member in self.members}
        rows = [dict(member, created_at=member.get('created_at') or '')
                for member in self.members]
        # Normally one tree; chains.build also copes with what is not.
        self._trees = chains.build(rows)
        self._children = {}
        for member in self.members:
            if member.get('parent_id') in self.by_id:
                self._children.setdefault(member['parent_id'], []).append(
                    member)

    @property
    def ids(self):
        return frozenset(self.by_id)

    def parent(self, backup_id):
        member = self.by_id.get(backup_id) or {}
        return self.by_id.get(member.get('parent_id'))

    def children(self, backup_id):
        return list(self._children.get(backup_id, ()))

    def descendants(self, backup_id):
        """Every backup made from this one, leaf-first (itself excluded)."""
        tree = chains.find(self._trees, backup_id)
        if tree is None:
            return []
        return [self.by_id[i] for i in tree.delete_order(backup_id)
                if i != backup_id]

    def hidden_dependents(self, backup_id):
        """Backups of other projects that depend on this one or below it.

        The chain resource counts them (``hidden_dependent_count``) and
        never names them; any of them blocks the delete of this backup.
        """
        ids = [backup_id] + [m['id'] for m in self.descendants(backup_id)]
        return sum(self.by_id[i].get('hidden_dependent_count') or 0
                   for i in ids if i in self.by_id)

    def pending(self, backup_id):
        """A dependent is still changing (being deleted, created ...)."""
        return any(member.get('status') in TRANSIENT_STATUSES
                   for member in self.descendants(backup_id))


class Info(object):
    """What the dashboard shows and decides for one backup."""

    def __init__(self, backup_id, status=None, created_at=None,
                 is_incremental=None, has_dependents=None, chain=None):
        self.id = backup_id
        self.status = status
        self.created_at = created_at or ''
        #: From Cinder's body; None when the policy hides them.
        self.is_incremental = is_incremental
        self.has_dependents = has_dependents
        #: The ChainBody holding this backup, None when it could not be read.
        self.chain = chain

    @property
    def dependents(self):
        """The backups that depend on this one, leaf-first; None: unknown."""
        if self.chain is not None and self.id in self.chain.ids:
            return self.chain.descendants(self.id)
        if self.has_dependents is False:
            return []
        return None

    def _member_bytes(self, key):
        if self.chain is None or self.id not in self.chain.ids:
            return None
        return byte_count(self.chain.by_id[self.id].get(key))

    @property
    def stored_bytes(self):
        """What this backup wrote; None: unknown, hidden or not read."""
        return self._member_bytes('stored_bytes')

    @property
    def restore_bytes(self):
        """What a restore of it reads (with its ancestors); None: unknown."""
        return self._member_bytes('restore_bytes')

    @property
    def restore_refusal(self):
        """Why a restore would be refused, in the chain resource's words.

        None when it would not be, or when the chain is not known.
        """
        if self.chain is None or self.id not in self.chain.ids:
            return None
        member = self.chain.by_id[self.id]
        if member.get('restorable', True):
            return None
        return member.get('not_restorable_reason') or ''

    @property
    def hidden_dependents(self):
        """Backups of other projects that block the delete; 0 if unknown."""
        if self.chain is not None and self.id in self.chain.ids:
            return self.chain.hidden_dependents(self.id)
        return 0

    @property
    def blocked(self):
        """Cinder would refuse the delete: backups depend on this one.

        The flag decides when it is there (it is computed from the same
        rows as Cinder's delete check); without it, the chain does.
        """
        if self.has_dependents is not None:
            return self.has_dependents
        dependents = self.dependents
        return bool(dependents) if dependents is not None else False

    @property
    def dependents_count(self):
        """How many backups must go first; None when not known."""
        dependents = self.dependents
        if dependents is None:
            return None
        return len(dependents)

    @property
    def pending(self):
        """The row must be read again: its dependents are changing.

        Either a dependent is in a transient state, or the flag and the
        chain disagree: they are read one after the other, and a dependent
        that was deleted (or made) in between leaves the flag saying one
        thing and the chain another until the row is read again.
        """
        if self.chain is None or self.id not in self.chain.ids:
            return False
        if self.chain.pending(self.id):
            return True
        return (self.has_dependents is not None
                and self.has_dependents != bool(
                    self.chain.descendants(self.id)
                    or self.hidden_dependents))


def from_backup(backup):
    """An Info from a backup as Horizon lists it, without chain."""
    return Info(getattr(backup, 'id', None),
                status=getattr(backup, 'status', None),
                created_at=getattr(backup, 'created_at', None),
                is_incremental=flag(backup, 'is_incremental'),
                has_dependents=flag(backup, 'has_dependent_backups'))


def attach_chains(infos, get_chain):
    """Give each Info its ChainBody, one GET per chain.

    Every backup shows its stored bytes, which only the chain has; the
    members of a chain read for one backup serve the others, so a page
    costs one GET per chain on it (a full backup without incrementals is
    a chain of its own). ``get_chain`` returns None when it cannot read
    a chain (the resource is missing, the policy denies it, the backup was
    deleted since the list was read). Then Delete's count is lost for a
    backup whose flag says others depend on it, and the reading stops;
    an incremental still gets its own chain, for Restore's reason; only
    the sizes of the others are given up (they would fail the same way).
    """
    chains_read = []
    sizes = True
    for info in infos:
        chain = next((c for c in chains_read if info.id in c.ids), None)
        if chain is None:
            if not (sizes or info.is_incremental):
                continue
            chain = get_chain(info.id)
            if chain is None:
                if info.has_dependents:
                    return
                sizes = False
                continue
            chains_read.append(chain)
        info.chain = chain


# --- deleting a selection ---------------------------------------------------

class Refusal(object):
    """Why one selected backup is not deleted (``kind`` and details)."""

    #: Backups outside the selection depend on it (``others``: the members).
    UNSELECTED_DEPENDENTS = 'unselected-dependents'
    #: A selected dependent cannot be deleted (``others``: those).
    DEPENDENT_REFUSED = 'dependent-refused'
    #: Its dependents were deleted but are not gone yet (``others``).
    STILL_DELETING = 'still-deleting'
    #: Its status does not allow a delete (``status``).
    STATUS = 'status'
    #: Cinder says backups depend on it; which is not known (no chain).
    HAS_DEPENDENTS = 'has-dependents'
    #: A backup of another project, which is never named, depends on it.
    HIDDEN_DEPENDENTS = 'hidden-dependents'

    def __init__(self, kind, others=(), status=None):
        self.kind = kind
        self.others = list(others)
        self.status = status

    def __repr__(self):
        return 'Refusal(%s, %s)' % (self.kind,
                                    [o.get('id') for o in self.others])


def plan(selected, deletable_statuses=chains.DELETABLE_STATUSES):
    """Order a selection leaf-first, and set aside what cannot go.

    ``selected`` are Infos. A backup is refused when its status does not
    allow a delete, when a backup outside the selection depends on it, or
    when one of its selected dependents is refused. Returns ``(order,
    refused)``: ``order`` the Infos to delete, every dependent before the
    backup it depends on; ``refused`` a dict id -> Refusal.
    """
    by_id = {info.id: info for info in selected}
    refused = {}
    for info in selected:
        if info.status not in deletable_statuses:
            refused[info.id] = Refusal(Refusal.STATUS, status=info.status)
            continue
        if info.hidden_dependents:
            refused[info.id] = Refusal(Refusal.HIDDEN_DEPENDENTS)
            continue
        dependents = info.dependents
        if dependents is None and info.has_dependents:
            refused[info.id] = Refusal(Refusal.HAS_DEPENDENTS)
            continue
        outside = [m for m in dependents or () if m['id'] not in by_id]
        if outside:
            refused[info.id] = Refusal(Refusal.UNSELECTED_DEPENDENTS, outside)
    # A refusal climbs to every selected ancestor; dependents lists are
    # leaf-first, so one pass in order of fewest dependents settles it.
    ranked = sorted(selected, key=lambda i: str(i.created_at), reverse=True)
    ranked.sort(key=lambda i: len(i.dependents or ()))
    for info in ranked:
        if info.id in refused:
            continue
        blocked = [m for m in (info.dependents or ()) if m['id'] in refused]
        if blocked:
            refused[info.id] = Refusal(Refusal.DEPENDENT_REFUSED, blocked)
    # A backup's dependents are a strict subset of its ancestor's: fewer
    # dependents first is leaf-first. Unknown chains: newest first, as an
    # incremental is always newer than its parent.
    order = [info for info in ranked if info.id not in refused]
    return order, refused


def to_delete(order):
    """The members a Deleter takes for ``order`` (from ``plan``).

    Each carries its Info, and its parent from whichever chain of the
    selection lists it (a leaf's own chain may not have been read): the
    deleter waits for a backup whose parent it deletes next.
    """
    known = {}
    for info in order:
        for member in info.chain.members if info.chain else ():
            known.setdefault(member['id'], member)
    return [{'id': info.id,
             'parent_id': known.get(info.id, {}).get('parent_id'),
             'name': known.get(info.id, {}).get('name'), 'info': info}
            for info in order]


def refusals(result, members):
    """A Refusal for each backup the deleter did not try (``blocked``).

    A backup waits for its dependents still being deleted (Cinder took
    them, slower than the wait), or is the parent of one that could not
    go.
    """
    by_id = {member['id']: member for member in members}
    refused = {}
    for backup_id, kids in result.blocked.items():
        others = [by_id[kid] for kid in kids]
        kind = (Refusal.STILL_DELETING
                if any(kid in result.slow for kid in kids)
                else Refusal.DEPENDENT_REFUSED)
        refused[backup_id] = Refusal(kind, others)
    return refused
