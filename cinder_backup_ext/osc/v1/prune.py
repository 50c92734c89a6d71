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


"""``openstack volume backup prune``: retention that keeps restore points.

The plan is ``cinder_backup_ext.chains.plan_prune`` over the volume's
chains, rebuilt from their members: one request for the chain list (a few
more if it has pages) and one per chain, never one per backup.
"""

import argparse

from osc_lib.command import command

from cinder_backup_ext import chains
from cinder_backup_ext.osc import deleter
from cinder_backup_ext.osc.v1 import backup_chains


def at_least_one(text):
    """argparse type: keeping nothing is not retention (see the help)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            'must be a whole number of at least 1, not %r' % text)
    return value


class PruneBackups(command.Command):
    """Delete a volume's old backups, never one a kept backup restores from.

    ``--keep-last N`` keeps the N newest available backups and every
    ancestor they need; ``--keep-chains K`` keeps the K newest chains
    whole. Everything else is deleted leaf-first, each backup waited for
    before its parent. Backups Cinder would not delete now (creating,
    restoring, ...) are kept with their ancestors.
    """

    sleep = None
    clock = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--volume', metavar='<volume-id>', required=True,
            help='The volume whose backups to prune (ID)')
        keep = parser.add_mutually_exclusive_group(required=True)
        keep.add_argument(
            '--keep-last', metavar='<N>', type=at_least_one,
            help='Keep the N newest available backups and their ancestors')
        keep.add_argument(
            '--keep-chains', metavar='<K>', type=at_least_one,
            help='Keep the K newest chains (full backup and incrementals)')
        parser.add_argument(
            '--dry-run', action='store_true', default=False,
            help='Print what would be deleted and kept; delete nothing')
        backup_chains.add_wait_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        chains_client = self.app.client_manager.backup_chains
        out = self.app.stdout
        # A mistyped volume is an error, not "nothing to prune".
        chains_client.get_volume(parsed_args.volume)
        rows = []
        for summary in chains_client.list_chains(volume_id=parsed_args.volume):
            rows.extend(chains_client.get_chain(summary['id'])['backups'])
        built = chains.build(rows)
        plan = chains.plan_prune(built, keep_last=parsed_args.keep_last,
                                 keep_chains=parsed_args.keep_chains)
        by_id = {row['id']: row for row in rows}
        out.write('Volume %s: %d backup(s) in %d chain(s); keeping %d, '
                  'deleting %d.\n' % (parsed_args.volume, len(rows),
                                      len(built), len(plan.keep),
                                      len(plan.delete)))
        to_delete = [by_id[backup_id] for backup_id in plan.delete]
        if parsed_args.dry_run:
            deleter.write_plan(out, to_delete)
            kept = [m for chain in built for m in chain.members
                    if m['id'] in set(plan.keep)]
            out.write('Would keep %d backup(s):\n' % len(kept))
            for backup in kept:
                indent = '  ' * backup['depth']
                out.write('  %s%s\n' % (indent, deleter.label(backup)))
            return
        if not to_delete:
            return
        done = backup_chains.make_deleter(
            self, chains_client, parsed_args).run(to_delete)
        out.write('Deleted %d backup(s).\n' % len(done))
