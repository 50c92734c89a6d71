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

The plan is ``cinder_backup_ext.chains.plan_prune`` over each volume's
chains, rebuilt from their members: one request for the chain list (a few
more if it has pages) and one per chain, never one per backup. Each
volume is planned and pruned on its own; a failure on one is reported and
the next goes on. The table (stdout) lists every backup with what was
done to it and why; the plan's summary and the deletes' progress go to
stderr, so that ``-f json`` stays JSON.
"""

import argparse
import collections
import datetime
import re

from cliff import columns
from osc_lib.command import command

import cinder_backup_ext_chains as chains
from cinder_backup_ext_client import client
from cinder_backup_ext_client.v1 import backup_chains

#: --keep-within's units, in the order they are written (restic's).
UNITS = collections.OrderedDict([
    ('y', datetime.timedelta(days=365)),
    ('m', datetime.timedelta(days=30)),
    ('w', datetime.timedelta(weeks=1)),
    ('d', datetime.timedelta(days=1)),
    ('h', datetime.timedelta(hours=1)),
])
DURATION_HELP = ('a duration such as 30d, 12h, 2w or 1y5m7d2h (y: years of '
                 '365 days, m: months of 30 days, w: weeks, d: days, h: '
                 'hours)')

#: The count options, as plan_prune's keywords and the reasons' words.
COUNT_RULES = ('last', 'chains', 'daily', 'weekly', 'monthly', 'yearly')

#: The Action column: with --dry-run, then without.
KEEP, DELETE = 'keep', 'delete'
DELETED, NOT_DELETED = 'deleted', 'not deleted'

COLUMNS = ('Volume', 'Backup', 'Name', 'Created At', 'Action', 'Reasons')


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


class Duration(datetime.timedelta):
    """A timedelta that remembers how the user wrote it (``text``)."""

    text = None


def duration(text):
    """argparse type: ``1y5m7d2h`` as a Duration greater than zero."""
    parts = re.findall(r'(\d+)([a-z])', text.strip().lower())
    units = [unit for _number, unit in parts]
    if (not parts or ''.join('%s%s' % part for part in parts)
            != text.strip().lower()
            or any(unit not in UNITS for unit in units)
            or len(set(units)) != len(units)):
        raise argparse.ArgumentTypeError(
            'must be %s, not %r' % (DURATION_HELP, text))
    value = sum((int(number) * UNITS[unit] for number, unit in parts),
                datetime.timedelta(0))
    if not value:
        raise argparse.ArgumentTypeError(
            'must be longer than 0, not %r' % text)
    value = Duration(seconds=value.total_seconds())
    value.text = text.strip()
    return value


def started():
    """The command's start, UTC: nothing made at or after it is deleted."""
    return datetime.datetime.now(datetime.timezone.utc)


def is_rule(reason):
    """A reason that one of the user's --keep-* options gave."""
    return reason.startswith('keep-')


NEWER = 'made after the run started'


def kept_beyond(plan):
    """(ancestors, newer, held): counts of backups no rule asked to keep.

    A user who asks for 2 and sees 5 kept must learn that restoring needs
    the ancestors, that backups made since the command started are never
    deleted, and that Cinder would refuse the others now.
    """
    beyond = [why for why in plan.reasons.values()
              if not any(is_rule(w) for w in why)]
    ancestors = sum(1 for why in beyond
                    if all(w.startswith('parent of ') for w in why))
    newer = sum(1 for why in beyond if NEWER in why)
    return ancestors, newer, len(beyond) - ancestors - newer


def frees(members):
    """The plan's line on what deleting ``members`` frees.

    The sum of their stored bytes; a backup without a number (not
    measured, or hidden by the policy) is said, never counted as 0.
    """
    known = [m['stored_bytes'] for m in members
             if m.get('stored_bytes') is not None]
    total = sum(known)
    amount = '%s (%d bytes)' % (backup_chains.human_bytes(total), total)
    unknown = len(members) - len(known)
    if not unknown:
        return 'Deleting them frees %s.\n' % amount
    why = "(not measured, or hidden by the cloud's policy)"
    if known:
        return ('Deleting them frees at least %s: the stored size of %d of '
                'the %d is unknown %s.\n' % (amount, unknown, len(members),
                                             why))
    return ('How much deleting them frees is unknown: no stored size is '
            'known %s.\n' % why)


class Reasons(columns.FormattableColumn):
    """``keep-daily 2026-12-03, parent of X`` in tables; a list elsewhere."""

    def human_readable(self):
        return ', '.join(self._value)

    def machine_readable(self):
        return list(self._value)


class VolumeResult(object):
    """One volume's plan and what became of it."""

    def __init__(self, volume_id, label):
        self.volume_id = volume_id
        self.label = label
        self.members = []       # tree order, every chain, newest first
        self.plan = None
        self.deleted = set()
        self.not_deleted = {}   # id -> why
        self.error = None       # the chains could not be read or planned

    @property
    def failed(self):
        return bool(self.error or self.not_deleted)


class PruneBackups(command.Lister):
    """Delete old backups by retention rules, never one a kept backup needs.

    Restore points are the available backups. The rules keep the union of
    what each keeps: --keep-last N the N newest; --keep-daily,
    --keep-weekly, --keep-monthly, --keep-yearly N the newest of each of
    the N newest days (ISO weeks, months, years; UTC) that have one;
    --keep-within DURATION every one made within DURATION before the
    newest; --keep-chains K the K newest chains whole. Every backup a kept
    one is restored from is kept too, and so are backups Cinder would not
    delete now (creating, restoring, ...), with the backups they were made
    from, and backups made after the command started. Everything else is
    deleted leaf-first, each backup waited for before its parent. Each
    volume is pruned on its own: a failure on one does not stop the
    others, and the exit status is 1 when anything planned was not
    deleted. The table lists every backup with its action (keep or
    delete with --dry-run; keep, deleted or not deleted otherwise) and
    the rules that kept it. Use --dry-run first.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            '--volume', metavar='<volume>',
            help='The volume whose backups to prune (name or ID)')
        which.add_argument(
            '--all-volumes', action='store_true', default=False,
            help="Every volume of the project, including backups whose "
                 "volume was deleted")
        keep = parser.add_argument_group(
            'retention rules', 'At least one; the backups they keep add up')
        keep.add_argument(
            '--keep-last', metavar='<N>', type=at_least_one,
            help='Keep the N newest available backups')
        for period, unit in (('daily', 'day'), ('weekly', 'ISO week'),
                             ('monthly', 'month'), ('yearly', 'year')):
            keep.add_argument(
                '--keep-%s' % period, metavar='<N>', type=at_least_one,
                help='Keep the newest available backup of each of the N '
                     'newest %ss (UTC) that have one' % unit)
        keep.add_argument(
            '--keep-within', metavar='<duration>', type=duration,
            help='Keep every available backup made within this long before '
                 'the newest one: %s' % DURATION_HELP)
        keep.add_argument(
            '--keep-chains', metavar='<K>', type=at_least_one,
            help='Keep the K newest chains (full backup and incrementals)')
        parser.add_argument(
            '--dry-run', action='store_true', default=False,
            help='Print what would be deleted and kept, and why; delete '
                 'nothing')
        backup_chains.add_wait_arguments(parser)
        self._parser = parser
        return parser

    def _rules(self, parsed_args):
        rules = {name: getattr(parsed_args, 'keep_' + name)
                 for name in COUNT_RULES}
        rules['within'] = parsed_args.keep_within
        return rules

    def run(self, parsed_args):
        self._results = []
        status = super().run(parsed_args)
        return 1 if any(r.failed for r in self._results) else status

    def take_action(self, parsed_args):
        rules = self._rules(parsed_args)
        if all(value is None for value in rules.values()):
            # argparse's own usage error (exit status 2), before any request.
            self._parser.error(
                'give at least one of --keep-last, --keep-daily, '
                '--keep-weekly, --keep-monthly, --keep-yearly, '
                '--keep-within, --keep-chains: prune keeps what they keep '
                'and deletes the rest')
        now = started()
        chains_client = self.app.client_manager.volume_backup_chains
        given = ' '.join(
            '--keep-%s %s' % (name, value.text if name == 'within'
                              else value)
            for name, value in rules.items() if value is not None)
        if parsed_args.volume:
            volume_id = chains_client.find_volume(parsed_args.volume)
            label = volume_id
            if parsed_args.volume != volume_id:
                label = '%s (%s)' % (parsed_args.volume, volume_id)
            volumes = [(volume_id, label)]
            summaries = {volume_id: chains_client.list_chains(
                volume_id=volume_id)}
            strict = True
        else:
            summaries = collections.OrderedDict()
            for summary in chains_client.list_chains():
                summaries.setdefault(summary['volume_id'], []).append(
                    summary)
            # None: Cinder refused the volume list; the IDs label them.
            names = chains_client.volume_names()
            volumes = []
            for volume_id in summaries:
                if names is None:
                    label = volume_id
                elif volume_id not in names:
                    label = '%s (volume deleted)' % volume_id
                elif names[volume_id]:
                    label = '%s (%s)' % (names[volume_id], volume_id)
                else:
                    label = volume_id
                volumes.append((volume_id, label))
            if not volumes:
                self.app.stderr.write('The project has no backups.\n')
            strict = False
        for volume_id, label in volumes:
            result = VolumeResult(volume_id, label)
            self._results.append(result)
            try:
                self._prune(chains_client, result, summaries[volume_id],
                            rules, now, given, parsed_args)
            except client.ApiError as exc:
                if strict:
                    raise
                result.error = exc.message
                self.app.stderr.write(
                    'Volume %s: not pruned: %s\n' % (label, exc))
        rows = []
        for result in self._results:
            rows.extend(self._rows(result, parsed_args.dry_run))
        return COLUMNS, rows

    def _prune(self, chains_client, result, summaries, rules, now, given,
               parsed_args):
        err = self.app.stderr
        rows = []
        for summary in summaries:
            rows.extend(chains_client.get_chain(summary['id'])['backups'])
        built = chains.build(rows)
        result.members = [m for chain in built for m in chain.members]
        plan = result.plan = chains.plan_prune(
            built, keep_last=rules['last'], keep_chains=rules['chains'],
            keep_daily=rules['daily'], keep_weekly=rules['weekly'],
            keep_monthly=rules['monthly'], keep_yearly=rules['yearly'],
            keep_within=rules['within'], now=now)
        err.write('Volume %s: %d backup(s) in %d chain(s); keeping %d, '
                  'deleting %d.\n' % (result.label, len(rows), len(built),
                                      len(plan.keep), len(plan.delete)))
        ancestors, newer, held = kept_beyond(plan)
        if ancestors or newer or held:
            parts = ['%d that kept backups were made from (restoring needs '
                     'them)' % ancestors if ancestors else None,
                     '%d made after the command started' % newer
                     if newer else None,
                     '%d that Cinder would not delete now' % held
                     if held else None]
            err.write('Kept beyond %s: %s.\n' % (
                given, ', '.join(filter(None, parts))))
        if not plan.delete:
            err.write('Nothing to delete.\n')
            return
        by_id = {member['id']: member for member in result.members}
        to_delete = [by_id[backup_id] for backup_id in plan.delete]
        err.write(frees(to_delete))
        if parsed_args.dry_run:
            return
        run = chains_client.deleter(err, parsed_args.timeout).run(to_delete)
        result.deleted = {b['id'] for b in run.deleted}
        if not run.complete:
            stop = backup_chains.stopped(run)
            at = run.stopped_at
            result.not_deleted = dict(
                (backup_id, 'not tried: the run stopped at %s' % at)
                for backup_id in run.not_tried)
            result.not_deleted[at] = run.failed.get(at) or run.slow[at]
            err.write('Volume %s: %s\n' % (result.label, stop))
            return
        err.write('Deleted %d backup(s).\n' % len(run.deleted))

    def _rows(self, result, dry_run):
        plan = result.plan
        if plan is None:
            return []
        rows = []
        for member in result.members:
            backup_id = member['id']
            if backup_id in plan.reasons:
                action, why = KEEP, plan.reasons[backup_id]
            elif dry_run:
                action, why = DELETE, []
            elif backup_id in result.not_deleted:
                action, why = NOT_DELETED, [result.not_deleted[backup_id]]
            else:
                action, why = DELETED, []
            rows.append((result.volume_id,
                         backup_chains.TreeID(backup_id,
                                              member.get('depth', 0)),
                         member.get('name'), member.get('created_at'),
                         action, Reasons(why)))
        return rows
