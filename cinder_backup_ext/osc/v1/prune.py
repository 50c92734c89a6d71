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

#: The rules a user asks for; any other reason keeps more than asked.
RULES = frozenset(['keep-last', 'keep-chains'])


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


def kept_beyond(plan):
    """(ancestors, held): counts of backups kept though no rule asked.

    A user who asks for 2 and sees 5 kept must learn that restoring needs
    the ancestors, and that Cinder would refuse the others now.
    """
    beyond = [why for why in plan.reasons.values() if not RULES & set(why)]
    ancestors = sum(1 for why in beyond
                    if all(w.startswith('parent of ') for w in why))
    return ancestors, len(beyond) - ancestors


class PruneBackups(command.Command):
    """Delete a volume's old backups, never one a kept backup restores from.

    --keep-last N keeps the N newest available backups and every backup
    they were made from; --keep-chains K keeps the K newest chains whole.
    Backups Cinder would not delete now (creating, restoring, ...) are
    kept too, with the backups they were made from. Everything else is
    deleted leaf-first, each backup waited for before its parent. Use
    --dry-run first.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--volume', metavar='<volume>', required=True,
            help='The volume whose backups to prune (name or ID)')
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
        chains_client = self.app.client_manager.volume_backup_chains
        out = self.app.stdout
        volume_id = chains_client.find_volume(parsed_args.volume)
        rows = []
        for summary in chains_client.list_chains(volume_id=volume_id):
            rows.extend(chains_client.get_chain(summary['id'])['backups'])
        built = chains.build(rows)
        plan = chains.plan_prune(built, keep_last=parsed_args.keep_last,
                                 keep_chains=parsed_args.keep_chains)
        by_id = {row['id']: row for row in rows}
        volume = parsed_args.volume
        if volume != volume_id:
            volume = '%s (%s)' % (volume, volume_id)
        out.write('Volume %s: %d backup(s) in %d chain(s); keeping %d, '
                  'deleting %d.\n' % (volume, len(rows),
                                      len(built), len(plan.keep),
                                      len(plan.delete)))
        ancestors, held = kept_beyond(plan)
        if ancestors or held:
            parts = ['%d that kept backups were made from (restoring needs '
                     'them)' % ancestors if ancestors else None,
                     '%d that Cinder would not delete now' % held
                     if held else None]
            out.write('Kept beyond %s: %s.\n' % (
                '--keep-last %s' % parsed_args.keep_last
                if parsed_args.keep_chains is None
                else '--keep-chains %s' % parsed_args.keep_chains,
                ', '.join(filter(None, parts))))
        to_delete = [by_id[backup_id] for backup_id in plan.delete]
        if parsed_args.dry_run:
            deleter.write_plan(out, to_delete)
            kept = [m for chain in built for m in chain.members
                    if m['id'] in set(plan.keep)]
            out.write('Would keep %d backup(s):\n' % len(kept))
            for backup in kept:
                out.write('  %s%s  <- %s\n' % (
                    '  ' * backup['depth'], deleter.label(backup),
                    ', '.join(plan.reasons[backup['id']])))
            return
        if not to_delete:
            out.write('Nothing to delete.\n')
            return
        done = deleter.Deleter(chains_client, out,
                               timeout=parsed_args.timeout).run(to_delete)
        out.write('Deleted %d backup(s).\n' % len(done))
