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

"""Deleting backups leaf-first through Cinder's DELETE, for every client.

Cinder refuses to delete a backup while any live backup has it as its
parent, and a child being deleted stays live until its row is gone. So a
backup whose parent is deleted later in the same run is waited for, to the
end, before the parent's DELETE is sent. The OpenStackClient commands stop
at the first failure (run again, they start from what is left); the
dashboard deletes a selection, so it goes on with every backup that does
not depend on the failure. The transport is the caller's: ``delete`` and
``get`` wrap its client.
"""

import time


class Gone(Exception):
    """What ``delete`` raises when the backup is already gone (404)."""


class Refused(Exception):
    """What ``delete`` may raise with Cinder's reason for refusing.

    Any other exception counts the same, by its text.
    """


def label(backup):
    """``id (name, status)``: what a user recognises a backup by."""
    details = [backup[key] for key in ('name', 'status') if backup.get(key)]
    if not details:
        return backup['id']
    return '%s (%s)' % (backup['id'], ', '.join(details))


class Result(object):
    """What a run did, backup by backup (each keyed by its id).

    ``deleted``: the backups whose DELETE was accepted, in order (gone,
    or only sent where nothing waited for them); ``failed``: why Cinder
    refused a DELETE or a delete ended in another status; ``slow``: the
    backups accepted but still being deleted at the timeout; ``blocked``:
    the ids of this run's backups that kept each one from being tried;
    ``not_tried``: what came after a stop.
    """

    def __init__(self):
        self.deleted = []
        self.failed = {}
        self.slow = {}
        self.blocked = {}
        self.not_tried = []

    @property
    def stopped_at(self):
        """The id where a run that stops at the first failure stopped."""
        return next(iter(self.failed), None) or next(iter(self.slow), None)

    @property
    def complete(self):
        return not (self.failed or self.slow or self.blocked
                    or self.not_tried)


class Deleter(object):
    """Deletes backups in the order given, each after its dependents.

    ``backups`` are mappings with ``id`` and ``parent_id``, leaf-first.
    ``delete(id)`` sends the DELETE; ``get(id)`` returns the backup
    (``status``, ``fail_reason``) or None once it is gone. ``timeout`` is
    per backup, in seconds; polls start half a second apart and back off to
    ``interval``: most backups are gone within a second, and a slow backend
    is not hammered. ``out``, when given, gets one progress line a backup.
    """

    def __init__(self, delete, get, timeout=600, interval=2.0, out=None):
        self.delete = delete
        self.get = get
        self.timeout = timeout
        self.interval = interval
        self.out = out

    def run(self, backups, wait_all=True, keep_going=False):
        """Delete ``backups``; return a Result.

        With ``wait_all=False`` only the backups whose parent comes later
        are waited for (Cinder would refuse the parent); the others are
        only sent. With ``keep_going`` a failure stops only the backups it
        was made from; without, it stops the run.
        """
        result = Result()
        troubled = set()
        for number, backup in enumerate(backups, 1):
            backup_id = backup['id']
            if not keep_going and troubled:
                result.not_tried.append(backup_id)
                continue
            kids = [b['id'] for b in backups[:number - 1]
                    if b.get('parent_id') == backup_id
                    and b['id'] in troubled]
            if kids:
                result.blocked[backup_id] = kids
                troubled.add(backup_id)
                continue
            self._write('[%d/%d] deleting %s ...'
                        % (number, len(backups), label(backup)))
            try:
                self.delete(backup_id)
            except Gone:
                self._write(' already gone\n')
                result.deleted.append(backup)
                continue
            except Exception as exc:
                self._write(' refused\n')
                result.failed[backup_id] = 'Cinder refused the delete: %s' % (
                    exc)
                troubled.add(backup_id)
                continue
            later = {b['id'] for b in backups[number:]}
            if not (wait_all or backup.get('parent_id') in later):
                self._write(' accepted\n')
                result.deleted.append(backup)
                continue
            why, still_deleting = self._wait_gone(backup_id)
            if why is None:
                self._write(' deleted\n')
                result.deleted.append(backup)
            elif still_deleting:
                self._write(' still deleting\n')
                result.slow[backup_id] = why
                troubled.add(backup_id)
            else:
                self._write(' failed\n')
                result.failed[backup_id] = why
                troubled.add(backup_id)
        return result

    def _wait_gone(self, backup_id):
        """``(None, False)`` once gone, else ``(why, still deleting)``."""
        deadline = time.monotonic() + self.timeout
        delay = 0.5
        while True:
            current = self.get(backup_id)
            if current is None:
                return None, False
            if current.get('status') != 'deleting':
                reason = current.get('fail_reason')
                return ('Cinder could not delete it: its status is now %s%s'
                        % (current.get('status'),
                           ' (%s)' % reason if reason else '')), False
            if time.monotonic() >= deadline:
                return ('still %s after %s s' % (current['status'],
                                                 self.timeout)), True
            time.sleep(min(delay, self.interval))
            delay *= 2

    def _write(self, text):
        if self.out is not None:
            self.out.write(text)
            self.out.flush()
