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


"""``openstack volume backup chain list|show|delete``.

The class docstrings are the commands' ``--help`` text: plain text.
"""

import argparse

from cliff import columns
from osc_lib.command import command
from osc_lib import exceptions

import cinder_backup_ext_chains as chains
from cinder_backup_ext_chains import deleter


def seconds(text):
    """argparse type: a number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(
            'must be a number of seconds greater than 0, not %r' % text)
    return value


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
        out.write('  [%d/%d] %s%s\n' % (number, len(backups),
                                        deleter.label(backup), note))


def stopped(result):
    """The error for a run that stopped: where, why, what is left."""
    at = result.stopped_at
    why = result.failed.get(at) or '%s (--timeout)' % result.slow[at]
    deleted = [b['id'] for b in result.deleted]
    left = [at] + result.not_tried
    return exceptions.CommandError(
        'Stopped at backup %s: %s\nDeleted (%d): %s\nNot deleted (%d): %s'
        '\nOnce the cause is fixed, run the command again: it starts from '
        'what is left.' % (at, why, len(deleted), ', '.join(deleted) or
                           'none', len(left), ', '.join(left)))


def add_wait_arguments(parser):
    parser.add_argument(
        '--timeout', metavar='<seconds>', type=seconds, default=600,
        help='How long to wait for each backup to be gone before giving up '
             '(default: 600)')


class TreeID(columns.FormattableColumn):
    """A backup id indented by its depth in tables, plain elsewhere.

    Machine formats (json, yaml, value, csv) get the bare id; the Depth
    column carries the tree there.
    """

    def __init__(self, backup_id, depth):
        super().__init__(backup_id)
        self.depth = depth

    def human_readable(self):
        return '  ' * self.depth + self._value

    def machine_readable(self):
        return self._value


class GiB(columns.FormattableColumn):
    """Cinder's sizes are whole GiB: ``3 GiB`` in tables, 3 elsewhere."""

    def human_readable(self):
        return '' if self._value is None else '%s GiB' % self._value

    def machine_readable(self):
        return self._value


#: What a table says for a size the API does not give: not measured,
#: hidden by policy, or a cloud whose API predates the sizes.
UNKNOWN = 'unknown'


def human_bytes(value):
    """``3.1 MiB``: binary units, as Cinder's GiB; ``unknown`` for None."""
    if value is None:
        return UNKNOWN
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if abs(value) < 1024 or unit == 'TiB':
            break
        value /= 1024.0
    if unit == 'B':
        return '%d B' % value
    return '%s %s' % (('%.1f' % value).rstrip('0').rstrip('.'), unit)


class Bytes(columns.FormattableColumn):
    """Stored bytes: ``3.1 MiB`` in tables; the int (or null) elsewhere.

    Scripts must get exact bytes, and null must stay null: an unknown
    size is not 0.
    """

    def human_readable(self):
        return human_bytes(self._value)

    def machine_readable(self):
        return self._value


class Statuses(columns.FormattableColumn):
    """``available=3, error=1`` in tables; the mapping elsewhere."""

    def human_readable(self):
        return ', '.join('%s=%s' % item
                         for item in sorted((self._value or {}).items()))

    def machine_readable(self):
        return dict(self._value or {})


class Blank(columns.FormattableColumn):
    """Empty in tables when there is nothing to say; null elsewhere.

    A reason is None when there is none; a Cinder whose API predates a
    field sends none either.
    """

    def human_readable(self):
        return '' if self._value is None else self._value

    def machine_readable(self):
        return self._value


FORMATTERS = {'size': GiB, 'statuses': Statuses, 'restorable': Blank,
              'not_restorable_reason': Blank, 'not_deletable_reason': Blank,
              'stored_bytes': Bytes, 'restore_bytes': Bytes,
              'stored_bytes_source': Blank,
              'unmeasured_backup_count': Blank}


def _row(item, fields):
    return [FORMATTERS.get(key, lambda value: value)(item.get(key))
            for _name, key in fields]


def _not_admin(app):
    """True when the token has no admin role (Cinder's all-projects rule).

    None is unknown (a token without roles, as with --os-token): no claim.
    """
    auth_ref = app.client_manager.auth_ref
    return auth_ref is not None and 'admin' not in auth_ref.role_names


class ListBackupChains(command.Lister):
    """List backup chains: each full backup with the backups made from it.

    One row per chain, newest first, named by its full backup. A chain
    whose full backup no longer exists (Orphan) is named by its oldest
    backup. Size is Cinder's (each backup counted as its whole volume);
    Stored what the chain's backups wrote, before compression: unknown
    when a backup was not measured or the cloud's policy hides sizes.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--volume', metavar='<volume>',
            help='Only the chains of this volume (name or ID)')
        parser.add_argument(
            '--all-projects', action='store_true', default=False,
            help='Chains of every project (admin only; ignored for others)')
        parser.add_argument(
            '--long', action='store_true', default=False,
            help='Also when the full backup was made, the newest '
                 'backup\'s ID and how many backups have no stored size')
        return parser

    def take_action(self, parsed_args):
        chains_client = self.app.client_manager.volume_backup_chains
        all_projects = parsed_args.all_projects
        if all_projects and _not_admin(self.app):
            # Cinder lists the caller's own project then, without a word.
            self.app.stderr.write(
                'Note: --all-projects is ignored: only an admin sees other '
                "projects' backups. Listing your project's chains.\n")
            all_projects = False
        volume_id = None
        if parsed_args.volume:
            volume_id = chains_client.find_volume(parsed_args.volume,
                                                  all_projects=all_projects)
        found = chains_client.list_chains(volume_id=volume_id,
                                          all_projects=all_projects)
        names = chains_client.backup_names(volume_id, all_projects)
        for chain in found:
            chain['name'] = names.get(chain['id'])
        fields = [('Full Backup ID', 'id'), ('Full Backup Name', 'name'),
                  ('Volume ID', 'volume_id'), ('Backups', 'backup_count'),
                  ('Depth', 'depth'), ('Size', 'size'),
                  ('Stored', 'stored_bytes'),
                  ('Newest Backup At', 'newest_created_at'),
                  ('Orphan', 'is_orphan'), ('Statuses', 'statuses'),
                  ('Hidden Backups', 'hidden_backup_count')]
        if all_projects:
            fields.insert(3, ('Project ID', 'project_id'))
        if parsed_args.long:
            fields += [('Full Backup Created At', 'created_at'),
                       ('Newest Backup ID', 'newest_backup_id'),
                       ('Unmeasured Backups', 'unmeasured_backup_count')]
        return ([name for name, _key in fields],
                [_row(chain, fields) for chain in found])


class ShowBackupChain(command.Lister):
    """Show the chain that holds a backup, as a tree (full backup first).

    Deletable says whether Cinder accepts a delete of that backup now;
    Restorable whether a restore of it can read its whole chain now, and
    Not Restorable Because why not (the first broken link). Cinder
    refuses such a restore before it writes anything. Stored is what the
    backup wrote, before compression (Size is its volume's, as Cinder
    counts it); Restore Reads what a restore of it reads: it and every
    backup it was made from. unknown: not measured, or hidden by the
    cloud's policy.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'backup', metavar='<backup>',
            help='Any backup of the chain (name or ID)')
        parser.add_argument(
            '--long', action='store_true', default=False,
            help='Also each backup\'s parent ID, why it cannot be deleted, '
                 'how many backups of other projects depend on it and how '
                 'its stored size was measured')
        return parser

    def take_action(self, parsed_args):
        chains_client = self.app.client_manager.volume_backup_chains
        chain = chains_client.get_chain(
            chains_client.find_backup(parsed_args.backup))
        fields = [('Name', 'name'), ('Status', 'status'), ('Size', 'size'),
                  ('Stored', 'stored_bytes'),
                  ('Restore Reads', 'restore_bytes'),
                  ('Created At', 'created_at'),
                  ('Incremental', 'is_incremental'),
                  ('Has Dependents', 'has_dependent_backups'),
                  ('Deletable', 'deletable'), ('Restorable', 'restorable'),
                  ('Not Restorable Because', 'not_restorable_reason'),
                  ('Depth', 'depth')]
        if parsed_args.long:
            fields += [('Parent ID', 'parent_id'),
                       ('Not Deletable Because', 'not_deletable_reason'),
                       ('Hidden Dependents', 'hidden_dependent_count'),
                       ('Stored Source', 'stored_bytes_source')]
        rows = [[TreeID(backup['id'], backup.get('depth', 0))]
                + _row(backup, fields) for backup in chain['backups']]
        return ['ID'] + [name for name, _key in fields], rows


class DeleteBackupChain(command.Command):
    """Delete a backup and every backup made from it, leaf-first.

    Each delete goes through Cinder's own backup delete and is waited for
    before its parent's: Cinder refuses to delete a backup while a backup
    made from it exists, even one being deleted. The first refusal or
    failure stops the run and says what was deleted and what is left.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'backup', metavar='<backup>',
            help='The backup to delete with all its descendants (name or '
                 'ID)')
        parser.add_argument(
            '--dry-run', action='store_true', default=False,
            help='Print what would be deleted, in order; delete nothing')
        wait = parser.add_mutually_exclusive_group()
        wait.add_argument(
            '--wait', dest='wait', action='store_true', default=True,
            help='Wait until the last backup is gone too (default)')
        wait.add_argument(
            '--no-wait', dest='wait', action='store_false',
            help='Return once the last delete is accepted (every earlier '
                 'one is still waited for: Cinder refuses a parent '
                 'while a child exists)')
        add_wait_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        chains_client = self.app.client_manager.volume_backup_chains
        chain = chains_client.get_chain(
            chains_client.find_backup(parsed_args.backup))
        members = {backup['id']: backup for backup in chain['backups']}
        order = [members.get(backup_id, {'id': backup_id})
                 for backup_id in chain['delete_order']]
        # What Cinder refuses whatever goes before it: a status, or a
        # backup of another project (never listed) that depends on it.
        refused = {b['id']: chains.not_deletable_reason(b) for b in order
                   if chains.not_deletable_reason(b)}
        if parsed_args.dry_run:
            write_plan(self.app.stdout, order, refused)
            return
        hidden = [b for b in order if b.get('hidden_dependent_count')]
        if hidden:
            raise exceptions.CommandError(
                'Nothing deleted: %s cannot be deleted. %s Cinder refuses to '
                'delete it and every backup it was made from; ask that '
                "project, or the cloud's operators, to delete that backup "
                'first.' % (deleter.label(hidden[0]),
                            chains.HIDDEN_DEPENDENTS_REASON))
        result = chains_client.deleter(
            self.app.stdout, parsed_args.timeout).run(
                order, wait_all=parsed_args.wait)
        if not result.complete:
            raise stopped(result)
        done = result.deleted
        if parsed_args.wait:
            self.app.stdout.write('Deleted %d backup(s).\n' % len(done))
        else:
            self.app.stdout.write(
                'Deleted %d backup(s); %s is being deleted.\n'
                % (len(done) - 1, done[-1]['id']))
