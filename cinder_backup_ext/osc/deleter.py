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


"""Deleting backups one at a time, leaf-first, through Cinder's DELETE.

Cinder refuses to delete a backup while any live backup has it as its
parent, and a child being deleted is still live until its row is gone. So
each delete is waited for, to the end, before its parent's is sent; the
first refusal or failure stops the run, saying what went and what is left.
"""

import time

from osc_lib import exceptions

from cinder_backup_ext.osc import client


def label(backup):
    """``id (name, status)``: what a user recognises a backup by."""
    details = [backup[key] for key in ('name', 'status') if backup.get(key)]
    if not details:
        return backup['id']
    return '%s (%s)' % (backup['id'], ', '.join(details))


def write_plan(out, backups, refused=None):
    """The dry-run listing: what would be deleted, in order.

    ``refused`` maps the id of each backup Cinder would refuse to why.
    """
    refused = refused or {}
    if not backups:
        out.write('Nothing to delete.\n')
        return
    out.write('Would delete %d backup(s), leaf-first (--dry-run: nothing '
              'is deleted):\n' % len(backups))
    for number, backup in enumerate(backups, 1):
        note = ''
        if backup['id'] in refused:
            note = ('  <- Cinder refuses: %s The run would stop here.'
                    % refused[backup['id']])
        out.write('  [%d/%d] %s%s\n' % (number, len(backups), label(backup),
                                        note))


class Stopped(exceptions.CommandError):
    """A delete was refused or failed; nothing after it was attempted.

    ``backup`` is where it stopped and ``why``; ``deleted`` the backups
    gone before; ``remaining`` the ids not deleted, ``backup``'s first.
    """

    def __init__(self, message, backup=None, why=None, deleted=(),
                 remaining=()):
        super().__init__(message)
        self.backup = backup
        self.why = why
        self.deleted = list(deleted)
        self.remaining = list(remaining)


class Deleter(object):
    """Deletes backups in the order given, waiting for each to be gone.

    ``timeout`` is per backup, in seconds. Polls start half a second apart
    and back off to ``interval``: most backups are gone within a second,
    and a slow backend is not hammered.
    """

    def __init__(self, chains_client, out, timeout=600, interval=2.0):
        self.client = chains_client
        self.out = out
        self.timeout = timeout
        self.interval = interval

    def run(self, backups, wait_last=True):
        """Delete ``backups`` (member dicts, leaf-first); return them.

        With ``wait_last=False`` the last delete is only sent: every
        earlier one must still be waited for, or Cinder would refuse the
        next parent.
        """
        deleted = []
        for number, backup in enumerate(backups, 1):
            self.out.write('[%d/%d] deleting %s ...' % (
                number, len(backups), label(backup)))
            self.out.flush()
            try:
                self.client.delete_backup(backup['id'])
            except client.NotFound:
                self.out.write(' already gone\n')
                deleted.append(backup)
                continue
            except client.ApiError as exc:
                raise self._stop(backup, 'Cinder refused the delete: %s'
                                 % exc.message, deleted, backups)
            if number == len(backups) and not wait_last:
                self.out.write(' accepted (--no-wait)\n')
                return deleted + [backup]
            self._wait_gone(backup, deleted, backups)
            deleted.append(backup)
            self.out.write(' deleted\n')
        return deleted

    def _wait_gone(self, backup, deleted, backups):
        deadline = time.monotonic() + self.timeout
        delay = 0.5
        while True:
            current = self.client.get_backup(backup['id'])
            if current is None:
                return
            if current['status'] != 'deleting':
                reason = current.get('fail_reason')
                raise self._stop(backup, 'Cinder could not delete it: its '
                                 'status is now %s%s' % (
                                     current['status'],
                                     ' (%s)' % reason if reason else ''),
                                 deleted, backups)
            if time.monotonic() >= deadline:
                raise self._stop(backup, 'still %s after %s s (--timeout)'
                                 % (current['status'], self.timeout),
                                 deleted, backups)
            time.sleep(min(delay, self.interval))
            delay *= 2

    def _stop(self, backup, why, deleted, backups):
        self.out.write(' stopped\n')
        done = {b['id'] for b in deleted}
        remaining = [b['id'] for b in backups if b['id'] not in done]
        return Stopped(
            'Stopped at backup %s: %s\nDeleted (%d): %s\nNot deleted (%d): %s'
            '\nOnce the cause is fixed, run the command again: it starts '
            'from what is left.'
            % (backup['id'], why, len(deleted),
               ', '.join(b['id'] for b in deleted) or 'none',
               len(remaining), ', '.join(remaining)),
            backup=backup, why=why, deleted=deleted, remaining=remaining)
