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


"""``openstack volume backup chain list|show|delete``."""

from cliff import columns
from osc_lib.command import command
from osc_lib import exceptions

from cinder_backup_ext import chains
from cinder_backup_ext.osc import deleter


def positive_number(text):
    """argparse type: a number of seconds greater than zero."""
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


def add_wait_arguments(parser):
    parser.add_argument(
        '--timeout', metavar='<seconds>', type=positive_number, default=600,
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


class Statuses(columns.FormattableColumn):
    """``available=3, error=1`` in tables; the mapping elsewhere."""

    def human_readable(self):
        return ', '.join('%s=%s' % item
                         for item in sorted((self._value or {}).items()))

    def machine_readable(self):
        return dict(self._value or {})


class ListBackupChains(command.Lister):
    """List backup chains: each full backup (root) with its incrementals."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--volume', metavar='<volume-id>',
            help='Only the chains of this volume (ID)')
        parser.add_argument(
            '--all-projects', action='store_true', default=False,
            help='Chains of every project (admin only)')
        parser.add_argument(
            '--long', action='store_true', default=False,
            help='Also the root creation time and the newest backup')
        return parser

    def take_action(self, parsed_args):
        found = self.app.client_manager.backup_chains.list_chains(
            volume_id=parsed_args.volume,
            all_projects=parsed_args.all_projects)
        fields = [('ID', 'id'), ('Volume ID', 'volume_id'),
                  ('Backups', 'backup_count'), ('Depth', 'depth'),
                  ('Size', 'size'), ('Newest Created At', 'newest_created_at'),
                  ('Orphan', 'is_orphan'), ('Statuses', 'statuses'),
                  ('Hidden Backups', 'hidden_backup_count')]
        if parsed_args.all_projects:
            fields.insert(2, ('Project ID', 'project_id'))
        if parsed_args.long:
            fields += [('Created At', 'created_at'),
                       ('Newest Backup ID', 'newest_backup_id')]
        rows = [[Statuses(chain.get(key))
                 if key == 'statuses' else chain.get(key)
                 for _name, key in fields] for chain in found]
        return [name for name, _key in fields], rows


class ShowBackupChain(command.Lister):
    """Show the chain that holds a backup, as a tree (root first)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'backup', metavar='<backup>',
            help='ID of any backup of the chain')
        parser.add_argument(
            '--long', action='store_true', default=False,
            help='Also each backup\'s parent ID, why it cannot be deleted '
                 'and how many backups of other projects depend on it')
        return parser

    def take_action(self, parsed_args):
        chain = self.app.client_manager.backup_chains.get_chain(
            parsed_args.backup)
        fields = [('Name', 'name'), ('Status', 'status'), ('Size', 'size'),
                  ('Created At', 'created_at'),
                  ('Incremental', 'is_incremental'),
                  ('Has Dependents', 'has_dependent_backups'),
                  ('Deletable', 'deletable'), ('Depth', 'depth')]
        if parsed_args.long:
            fields += [('Parent ID', 'parent_id'),
                       ('Not Deletable Because', 'not_deletable_reason'),
                       ('Hidden Dependents', 'hidden_dependent_count')]
        rows = [[TreeID(backup['id'], backup.get('depth', 0))]
                + [backup.get(key) for _name, key in fields]
                for backup in chain['backups']]
        return ['ID'] + [name for name, _key in fields], rows


class DeleteBackupChain(command.Command):
    """Delete a backup and every backup made from it, leaf-first.

    Each delete goes through Cinder's own backup DELETE and is waited for
    before its parent's, so Cinder never refuses a parent for a child that
    is still being deleted. The first refusal or failure stops the run.
    """

    #: Time source for the waits (tests set fakes on the instance).
    sleep = None
    clock = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'backup', metavar='<backup>',
            help='ID of the backup to delete with all its descendants')
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
        chains_client = self.app.client_manager.backup_chains
        chain = chains_client.get_chain(parsed_args.backup)
        members = {backup['id']: backup for backup in chain['backups']}
        order = [members.get(backup_id, {'id': backup_id})
                 for backup_id in chain['delete_order']]
        # What Cinder refuses whatever goes before it: a status, or a
        # backup of another project (never listed) that depends on it.
        refused = {b['id']: chains.not_deletable_reason(b) for b in order
                   if chains.not_deletable_reason(b)}
        if parsed_args.dry_run:
            deleter.write_plan(self.app.stdout, order, refused)
            return
        hidden = [b for b in order if b.get('hidden_dependent_count')]
        if hidden:
            raise exceptions.CommandError(
                'Nothing deleted: %s cannot be deleted. %s Cinder refuses to '
                'delete it and every backup it was made from.'
                % (deleter.label(hidden[0]), chains.HIDDEN_DEPENDENTS_REASON))
        done = make_deleter(self, chains_client, parsed_args).run(
            order, wait_last=parsed_args.wait)
        if parsed_args.wait:
            self.app.stdout.write('Deleted %d backup(s).\n' % len(done))
        else:
            self.app.stdout.write(
                'Deleted %d backup(s); %s is being deleted.\n'
                % (len(done) - 1, done[-1]['id']))


def make_deleter(cmd, chains_client, parsed_args):
    """A Deleter writing to the command's stdout, with its time source."""
    kwargs = {name: getattr(cmd, name) for name in ('sleep', 'clock')
              if getattr(cmd, name, None) is not None}
    return deleter.Deleter(chains_client, cmd.app.stdout,
                           timeout=parsed_args.timeout, **kwargs)
