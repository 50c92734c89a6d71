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

"""Backup chains through the real ``openstack`` CLI, on the local cloud.

    tox -e chains                              # on a cloud of its own
    CBE_CLOUD_DIR=DIR python chains_job.py     # on a running local cloud

cloud.py (jobs.sh) starts the cloud and sets CBE_CLOUD_DIR; this job stops
what it started itself (a stock cinder-api) on success, failure, Ctrl-C or
SIGTERM. Each check prints one PASS/FAIL line; the last line is
"N passed, N failed" and the exit status is 1 when any check failed.

As the project member of clouds.yaml (``cbe-member``), with the ``openstack``
command as a subprocess:

- a volume with two chains (a full with 3 incrementals, then a new full with
  2), the middle incremental of the first put into ``error`` by the admin:
  ``chain list`` and ``chain show`` describe the trees; for every member,
  ``deletable`` is what ``openstack volume backup delete`` then does
  (refused with Cinder's 400, or deleted); ``prune --keep-chains 1`` leaves
  exactly the newer chain;
- a depth-12 chain (13 backups) is emptied by one ``chain delete``;
- calendar retention: a volume's two chains (5 backups) dated, in the
  database, from August to November of last year; ``prune --keep-daily 1
  --keep-monthly 2 --dry-run -f json`` plans to keep the November
  incremental and the October full it is made from, and the real run
  deletes exactly the three planned (exit status 0);
- a restore that cannot finish is not started: a volume whose file
  (``file_volume_dir``, filedriver.py) is written with known content
  before each of three backups (a full and two incrementals); the middle
  one reset to ``error`` by the admin (``openstack volume backup set
  --state error``); ``chain show`` says the leaf is not restorable and
  why; the volume's file rewritten and its sha256 taken;
  ``openstack volume backup restore --force LEAF VOLUME`` fails with 409;
  the volume is ``available`` and its sha256 unchanged;
- what each backup really stores: a volume whose whole file is written
  with random data gets a full backup, then N MiB of it changed in
  scattered runs that start and end inside a hash block
  (``backup_sha_block_size_bytes``, read with Cinder's own options from
  the cloud's cinder.conf) and an incremental, then an incremental of the
  unchanged volume; ``chain show --long -f json`` says the full stored
  exactly the bytes written, the incremental between N MiB and N MiB plus
  two blocks a run (exactly the blocks the runs touch), the unchanged one
  0 (not unknown), each measured from the driver's progress event, and
  Restore Reads each backup plus its ancestors; ``chain list`` the
  chain's total. ``CBE_SIZES_SEED`` repeats the runs' places;
- the same on Ceph, when the cloud has it (tools/ceph.py): a volume of the
  RBD backend (its own availability zone, so backed up by the Ceph backup
  driver) with its first 64 MiB random, N MiB of them changed, then
  unchanged; the three backups' sizes are unknown (no progress event)
  until ``cinder-backup-ext-manage backups measure`` on the Ceph backup
  node reads the diffs: 64 MiB, exactly N MiB, 0, source ``ceph-diff``.
  With CBE_REQUIRE_SERVERS=1 (CI), a cloud without Ceph fails the check;
- the commands as a user meets them: volumes and backups by name, errors
  that say what to do without URLs (``--debug`` shows the requests),
  ``--all-projects`` from a member said to be ignored, another project's
  volume not found, "Nothing to delete.", plain-text ``--help``. These
  print what the user sees (``$ openstack ...`` and its output).

The chain cap under random use: a volume type whose extra specs cap chains
at depth 3 (``cinder_backup_ext:max_chain_depth``, action ``full``), four
volumes of it and 100 backups made through openstacksdk, four volumes at a
time, each incremental (80 %) or full at random, about one in seven reset
to ``error`` by the admin afterwards, and the next requested once the reset
is in place (a failed backup: Cinder then picks an older parent); no backup
is more than 3 links from its full backup, and some are exactly 3.
``CBE_CAP_SEED`` repeats a run (the seed is printed).

Then openstacksdk's project cleanup (``openstack project cleanup``) on two
projects whose chains have the same drifted ``num_dependent_backups`` (the
full backup's counter set to 0 in the database while it has a live
child): project A through a second, stock cinder-api (Cinder's WSGI app,
same cinder.conf without the plugin's ``osapi_volume_extension`` line), on
the same database; project B through the cloud's API, which has the plugin.

Port: CBE_STOCK_CINDER_PORT (18877), for the stock cinder-api.
"""

import concurrent.futures
import contextlib
import datetime
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from tools import harness  # noqa: E402
from tools import volume_data  # noqa: E402

PLUGIN_LINE = 'osapi_volume_extension = cinder_backup_ext.api.loader.load'
REFUSED = 'Incremental backups exist for this backup'
CLI_TIMEOUT = 300
BACKUP_TIMEOUT = 300
MIB = volume_data.MIB

STOPPING = threading.Event()
CHILDREN = set()
CHILDREN_LOCK = threading.Lock()


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: stop the checks, tear the cloud down."""


class CheckFailed(Exception):
    pass


def log(message):
    print(message, flush=True)


# --- processes ---------------------------------------------------------------

def spawn(args, **kwargs):
    with CHILDREN_LOCK:
        if STOPPING.is_set():
            raise Interrupted()
        proc = subprocess.Popen(args, **kwargs)
        CHILDREN.add(proc)
    return proc


def reap(proc):
    with CHILDREN_LOCK:
        CHILDREN.discard(proc)


def kill_children():
    with CHILDREN_LOCK:
        for proc in CHILDREN:
            if proc.poll() is None:
                try:
                    proc.kill()
                except OSError:
                    pass


class Cloud(object):
    """The running local cloud (cloud.py), and what this job adds to it."""

    def __init__(self, folder):
        self.dir = folder
        self.state = read_state(folder)
        self.stock = None

    def teardown(self):
        if self.stock:
            harness.stop(self.stock)
            log('the stock cinder-api stopped')
            self.stock = None


def read_state(cloud_dir):
    """The cloud's cloud.env (cloud.py) as a dict: its ports, database..."""
    state = {}
    with open(os.path.join(cloud_dir, 'cloud.env')) as f:
        for line in f:
            if '=' in line and not line.startswith(('#', 'PGIDS')):
                key, value = line.strip().split('=', 1)
                state[key] = value
    return state


# --- the openstack CLI -------------------------------------------------------

class CLI(object):
    """``openstack --os-cloud CLOUD ...`` with one clouds.yaml."""

    def __init__(self, clouds_yaml):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = clouds_yaml
        self.env = env

    def run(self, cloud, *args):
        """(exit status, stdout, stderr) of one command."""
        command = ['openstack', '--os-cloud', cloud] + list(args)
        proc = spawn(command, env=self.env, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += '\n(killed after %d s)' % CLI_TIMEOUT
        finally:
            reap(proc)
        if STOPPING.is_set():
            raise Interrupted()
        return proc.returncode, out, err

    def ok(self, cloud, *args):
        status, out, err = self.run(cloud, *args)
        if status:
            raise CheckFailed('`openstack %s` failed (%d): %s' % (
                ' '.join(args), status, err.strip()[-600:]))
        return out

    def json(self, cloud, *args):
        return json.loads(self.ok(cloud, *(list(args) + ['-f', 'json'])))


class Waiter(object):
    """Polls Cinder through openstacksdk (cheap; the checks use the CLI)."""

    def __init__(self, clouds_yaml, cloud):
        import openstack
        from openstack.config import loader
        config = loader.OpenStackConfig(config_files=[clouds_yaml])
        self.conn = openstack.connection.Connection(
            config=config.get_one(cloud))

    def backup(self, backup_id):
        from openstack import exceptions
        try:
            return self.conn.block_storage.get_backup(backup_id)
        except exceptions.NotFoundException:
            return None

    def until(self, what, probe, timeout=BACKUP_TIMEOUT):
        deadline = time.monotonic() + timeout
        delay = 0.5
        while True:
            if STOPPING.is_set():
                raise Interrupted()
            done, state = probe()
            if done:
                return state
            if time.monotonic() > deadline:
                raise CheckFailed('%s: still %s after %d s'
                                  % (what, state, timeout))
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def backup_available(self, backup_id):
        def probe():
            backup = self.backup(backup_id)
            status = backup.status if backup else 'gone'
            if status in ('error', 'gone'):
                raise CheckFailed('backup %s: %s' % (backup_id, status))
            return status == 'available', status
        return self.until('backup %s' % backup_id, probe)

    def backup_gone(self, backup_id):
        def probe():
            backup = self.backup(backup_id)
            if backup is None:
                return True, 'gone'
            if backup.status != 'deleting':
                raise CheckFailed('backup %s: %s instead of gone'
                                  % (backup_id, backup.status))
            return False, backup.status
        return self.until('delete of %s' % backup_id, probe)

    def volume_available(self, volume_id):
        def probe():
            status = self.conn.block_storage.get_volume(volume_id).status
            if status == 'error':
                raise CheckFailed('volume %s: error' % volume_id)
            return status == 'available', status
        return self.until('volume %s' % volume_id, probe)


def make_volume(waiter, name):
    # Through openstacksdk: `openstack volume create` of OSC 10.3 asks the
    # catalog for an image service even without --image, and this cloud
    # has none ("public endpoint for image service ... not found").
    volume = waiter.conn.block_storage.create_volume(size=1, name=name)
    waiter.volume_available(volume.id)
    return volume.id


def make_backup(cli, waiter, cloud, volume_id, name, incremental):
    args = ['volume', 'backup', 'create', '--name', name]
    args.append('--incremental' if incremental else '--no-incremental')
    backup = cli.json(cloud, *(args + [volume_id]))
    waiter.backup_available(backup['id'])
    return backup['id']


def make_chains(cli, clouds_yaml, cloud, name, lengths):
    """A volume and its chains: [[full, incr, ...], ...], made in order."""
    waiter = Waiter(clouds_yaml, cloud)
    volume_id = make_volume(waiter, name)
    made = []
    for number, length in enumerate(lengths):
        chain = []
        for position in range(length):
            chain.append(make_backup(
                cli, waiter, cloud, volume_id,
                '%s-c%d-%d' % (name, number, position), position > 0))
        made.append(chain)
    return volume_id, made


# --- the checks --------------------------------------------------------------

class Checks(object):

    def __init__(self):
        self.results = []

    def record(self, name, passed, detail):
        self.results.append((name, passed))
        log('%s %s: %s' % ('PASS' if passed else 'FAIL', name, detail))

    def check(self, name, function, *args):
        """Run one check: it returns its detail or raises CheckFailed."""
        started = time.monotonic()
        try:
            detail = function(*args)
        except CheckFailed as exc:
            self.record(name, False, '%s [%.0f s]' % (
                exc, time.monotonic() - started))
            return False
        self.record(name, True, '%s [%.0f s]' % (
            detail, time.monotonic() - started))
        return True

    def summary(self):
        passed = sum(1 for _name, ok in self.results if ok)
        failed = len(self.results) - passed
        log('%d passed, %d failed' % (passed, failed))
        return failed


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def chain_rows(cli, cloud, backup_id):
    return cli.json(cloud, 'volume', 'backup', 'chain', 'show', backup_id,
                    '--long')


def check_list(cli, volume_name, chains):
    old, new = chains
    listed = cli.json('cbe-member', 'volume', 'backup', 'chain', 'list',
                      '--volume', volume_name, '--long')
    got = [(c['Full Backup ID'], c['Full Backup Name'], c['Backups'],
            c['Depth'], c['Statuses'], c['Newest Backup ID'])
           for c in listed]
    want = [(new[0], volume_name + '-c1-0', 3, 2, {'available': 3},
             new[-1]),
            (old[0], volume_name + '-c0-0', 4, 3,
             {'available': 3, 'error': 1}, old[-1])]
    expect(got == want, 'chain list gave %s, expected %s' % (got, want))
    return '2 chains, newest root first: %s (3 backups, depth 2), %s ' \
           '(4 backups, depth 3, statuses %s)' % (new[0], old[0], got[1][4])


def check_show(cli, chains, errored):
    seen = []
    for chain in chains:
        # Asked for by any member: the error child's chain, the leaf's.
        for asked in ([errored] if errored in chain else [chain[-1]]):
            rows = chain_rows(cli, 'cbe-member', asked)
            got = [(r['ID'], r['Depth'], r['Parent ID'], r['Incremental'],
                    r['Has Dependents'], r['Deletable'], r['Status'])
                   for r in rows]
            want = [(backup_id, depth, chain[depth - 1] if depth else None,
                     depth > 0, depth < len(chain) - 1,
                     depth == len(chain) - 1,
                     'error' if backup_id == errored else 'available')
                    for depth, backup_id in enumerate(chain)]
            expect(got == want, 'chain show %s gave %s, expected %s'
                   % (asked, got, want))
            seen.append(len(rows))
    return 'trees of %s members in tree order with depth and parent; the ' \
           'error child (depth 2) has dependents; deletable only at the ' \
           'leaves' % seen


def check_show_matches_delete(cli, waiter, chains):
    """Every member: `deletable` from show, then a real DELETE attempt.

    Tree order, parents first: a refused parent is tried while its
    children are certainly still there, as when show answered.
    """
    shown = {}
    for chain in chains:
        shown.update({r['ID']: r for r in
                      chain_rows(cli, 'cbe-member', chain[0])})
    refused, accepted, wrong = [], [], []
    for chain in chains:
        for backup_id in chain:
            status, _out, err = cli.run('cbe-member', 'volume', 'backup',
                                        'delete', backup_id)
            if status == 0:
                outcome = 'accepted'
                accepted.append(backup_id)
            elif REFUSED in err and '400' in err:
                outcome = 'refused'
                refused.append(backup_id)
            else:
                raise CheckFailed('delete %s failed otherwise: %s'
                                  % (backup_id, err.strip()[-300:]))
            if (outcome == 'accepted') != shown[backup_id]['Deletable']:
                wrong.append('%s (%s, deletable=%s): %s' % (
                    backup_id, shown[backup_id]['Status'],
                    shown[backup_id]['Deletable'], outcome))
    for backup_id in accepted:
        waiter.backup_gone(backup_id)
    expect(not wrong, 'show and DELETE disagree: %s' % '; '.join(wrong))
    # A refused delete changed nothing.
    for backup_id in refused:
        backup = waiter.backup(backup_id)
        expect(backup is not None
               and backup.status == shown[backup_id]['Status'],
               'refused %s is now %s' % (
                   backup_id, backup and backup.status))
    return '%d members: %d refused with 400 "%s" (deletable false, the ' \
           'error child included), %d deleted (deletable true); refused ' \
           'ones unchanged' % (len(shown), len(refused), REFUSED,
                               len(accepted))


def check_prune(cli, volume_id, newer, volume_name):
    status, _out, err = cli.run('cbe-member', 'volume', 'backup', 'prune',
                                '--volume', volume_name, '--keep-chains', '1')
    expect(status == 0, 'prune (%d): %s' % (status, err[-600:]))
    left = cli.json('cbe-member', 'volume', 'backup', 'list', '--volume',
                    volume_id)
    left_ids = sorted(b['ID'] for b in left)
    expect(left_ids == sorted(newer), 'after prune: %s, expected exactly '
           'the newer chain %s' % (left_ids, sorted(newer)))
    listed = cli.json('cbe-member', 'volume', 'backup', 'chain', 'list',
                      '--volume', volume_id)
    expect([(c['Full Backup ID'], c['Backups']) for c in listed]
           == [(newer[0], 3)], 'chain list after prune: %s' % listed)
    # The summary goes to stderr; stdout is the table.
    status, _out, again = cli.run('cbe-member', 'volume', 'backup', 'prune',
                                  '--volume', volume_name, '--keep-chains',
                                  '1')
    expect(status == 0 and 'Nothing to delete.' in again.splitlines(),
           'prune again (%d): %r' % (status, again))
    line = next((ln for ln in err.splitlines() if 'keeping' in ln), err)
    return '%s -> left %d backups, exactly the newer chain %s; again: ' \
        '"Nothing to delete."' % (line.strip(), len(left_ids), newer[0])


def check_delete_deep(cli, volume_id, chain):
    rows = chain_rows(cli, 'cbe-member', chain[-1])
    expect(len(rows) == 13 and max(r['Depth'] for r in rows) == 12,
           'chain show: %d members, depth %s' % (
               len(rows), max(r['Depth'] for r in rows)))
    started = time.monotonic()
    out = cli.ok('cbe-member', 'volume', 'backup', 'chain', 'delete',
                 chain[0])
    took = time.monotonic() - started
    left = cli.json('cbe-member', 'volume', 'backup', 'list', '--volume',
                    volume_id)
    chains_left = cli.json('cbe-member', 'volume', 'backup', 'chain',
                           'list', '--volume', volume_id)
    expect('Deleted 13 backup(s).' in out and not left and not chains_left,
           'after chain delete: %d backups, %d chains; output %r'
           % (len(left), len(chains_left), out[-300:]))
    return 'depth 12 (13 backups) emptied by one `chain delete` in %.0f s' \
        % took


def set_created_at(db, dates):
    """Backup id -> created_at, written in Cinder's database."""
    with db.cursor() as cur:
        for backup_id, when in dates.items():
            cur.execute('UPDATE backups SET created_at = %s WHERE id = %s',
                        (when, backup_id))


def prune_rows(cli, *args):
    """{backup: (action, reasons)} of ``prune ... -f json``; its stderr."""
    status, out, err = cli.run('cbe-member', 'volume', 'backup', 'prune',
                               *(list(args) + ['-f', 'json']))
    if status:
        raise CheckFailed('`prune %s` exit %d: %s' % (
            ' '.join(args), status, err.strip()[-600:]))
    return {row['Backup']: (row['Action'], row['Reasons'])
            for row in json.loads(out)}, err


def check_prune_calendar(cli, db, volume_id, volume_name, chains):
    (full, inc1, inc2), (full2, inc3) = chains
    year = datetime.datetime.now(datetime.timezone.utc).year - 1
    set_created_at(db, {
        full: datetime.datetime(year, 8, 3, 2, 0),
        inc1: datetime.datetime(year, 9, 10, 2, 0),
        inc2: datetime.datetime(year, 9, 20, 2, 0),
        full2: datetime.datetime(year, 10, 5, 2, 0),
        inc3: datetime.datetime(year, 11, 2, 2, 0)})
    rules = ['--keep-daily', '1', '--keep-monthly', '2']
    plan, _err = prune_rows(cli, '--volume', volume_name, '--dry-run',
                            *rules)
    want = {inc3: ('keep', ['keep-daily %d-11-02' % year,
                            'keep-monthly %d-11' % year]),
            full2: ('keep', ['keep-monthly %d-10' % year,
                             'parent of %s' % inc3]),
            inc2: ('delete', []), inc1: ('delete', []), full: ('delete', [])}
    expect(plan == want, 'dry-run plan %s, expected %s' % (plan, want))
    planned = sorted(b for b, (action, _why) in plan.items()
                     if action == 'delete')
    done, err = prune_rows(cli, '--volume', volume_name, *rules)
    deleted = sorted(b for b, (action, _why) in done.items()
                     if action == 'deleted')
    left = sorted(b['ID'] for b in cli.json(
        'cbe-member', 'volume', 'backup', 'list', '--volume', volume_id))
    expect(deleted == planned and left == sorted([full2, inc3]),
           'planned %s; deleted %s; left %s (expected %s)' % (
               planned, deleted, left, sorted([full2, inc3])))
    line = next((ln for ln in err.splitlines() if 'keeping' in ln), err)
    return ('prune --volume %s %s: %s; deleted exactly the 3 planned '
            '(leaf-first), kept the November incremental and its October '
            'full' % (volume_name, ' '.join(rules), line.strip().rstrip('.')))


def volume_file(cloud_dir, volume_id):
    return os.path.join(cloud_dir, 'volumes', volume_id)


def write_content(path, seed):
    """Known bytes at a few places of the volume's file."""
    with open(path, 'r+b') as f:
        for offset in (0, 5 << 20, 300 << 20):
            f.seek(offset)
            f.write(hashlib.sha256(b'%s-%d' % (seed.encode(), offset))
                    .digest() * (1 << 14))  # 512 KiB


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 22), b''):
            digest.update(block)
    return digest.hexdigest()


def make_restore_chain(cli, clouds_yaml, cloud_dir):
    """A volume and a chain of three, new content before each backup."""
    waiter = Waiter(clouds_yaml, 'cbe-member')
    volume_id = make_volume(waiter, 'chains-restore')
    path = volume_file(cloud_dir, volume_id)
    expect(os.path.exists(path), 'no volume file %s' % path)
    chain = []
    for position in range(3):
        write_content(path, 'backup-%d' % position)
        chain.append(make_backup(cli, waiter, 'cbe-member', volume_id,
                                 'chains-restore-%d' % position,
                                 position > 0))
    return volume_id, chain


def check_restore_refused(cli, waiter, cloud_dir, volume_id, chain):
    full, middle, leaf = chain
    cli.ok('cbe-admin', 'volume', 'backup', 'set', '--state', 'error',
           middle)
    rows = {r['ID']: r for r in chain_rows(cli, 'cbe-member', leaf)}
    verdict = [(rows[b]['Restorable'], rows[b]['Not Restorable Because'])
               for b in chain]
    want = [(True, None),
            (False, 'Its status is error; Cinder restores only available '
                    'backups.'),
            (False, 'Ancestor %s is in status error.' % middle)]
    expect(verdict == want, 'chain show verdicts %s, expected %s'
           % (verdict, want))
    # Today's data, which a restore would overwrite with the chain's.
    path = volume_file(cloud_dir, volume_id)
    write_content(path, 'after-the-backups')
    before = sha256(path)
    status, out, err = transcript(cli, 'cbe-member', 'volume', 'backup',
                                  'restore', '--force', leaf, volume_id)
    expect(status == 1 and '409' in err and middle in err,
           'restore of %s (%d): %r %r' % (leaf, status, out, err[-600:]))
    volume = waiter.conn.block_storage.get_volume(volume_id)
    backup = waiter.backup(leaf)
    after = sha256(path)
    expect(volume.status == 'available' and backup.status == 'available',
           'after the refused restore: volume %s, backup %s'
           % (volume.status, backup.status))
    expect(after == before, 'the volume file changed: sha256 %s -> %s'
           % (before, after))
    return ('chain show: leaf not restorable ("%s"); restore --force of '
            'the leaf into the volume: exit 1, 409; volume available, '
            'sha256 %s... unchanged' % (want[2][1], before[:16]))


def transcript(cli, cloud, *args):
    """Run one command and print it as the user saw it; its result."""
    status, out, err = cli.run(cloud, *args)
    log('$ openstack %s' % ' '.join(args))
    for line in (out + err).splitlines():
        log('  ' + line)
    log('  (exit status %d)' % status)
    return status, out, err


def check_usability(cli, other_volume):
    """What a member sees when something is wrong; help; our group."""
    member = 'cbe-member'
    status, _out, err = transcript(cli, member, 'volume', 'backup', 'chain',
                                   'list', '--all-projects')
    expect(status == 0 and '--all-projects is ignored: only an admin sees '
           "other projects' backups" in err,
           'chain list --all-projects as a member (%d): %s' % (status, err))
    for args, want in (
            (['chain', 'list', '--volume', 'nope'],
             "No volume with a name or ID of 'nope' exists. Check it: "
             '`openstack volume list` lists the volumes you can see.'),
            (['chain', 'list', '--volume', other_volume],
             "No volume with a name or ID of '%s' exists." % other_volume),
            (['prune', '--volume', 'nope', '--keep-last', '1'],
             "No volume with a name or ID of 'nope' exists."),
            (['chain', 'show', 'nope'],
             "No backup with a name or ID of 'nope' exists. Check it: "
             '`openstack volume backup list` lists the backups you can '
             'see.'),
            (['chain', 'delete', 'nope'],
             "No backup with a name or ID of 'nope' exists.")):
        status, out, err = transcript(cli, member, 'volume', 'backup', *args)
        expect(status == 1 and not out and want in err and 'http' not in err,
               '%s (%d): %r' % (' '.join(args), status, err))
    status, _out, err = transcript(cli, member, 'volume', 'backup', 'chain',
                                   'delete', 'nope', '--timeout', '0')
    expect(status == 2 and "argument --timeout: must be a number of seconds "
           "greater than 0, not '0'" in err and 'invalid' not in err,
           '--timeout 0 (%d): %r' % (status, err))
    status, _out, err = cli.run(member, '--debug', 'volume', 'backup',
                                'chain', 'show', 'nope')
    expect(status == 1 and 'GET http' in err and '/backups/nope' in err,
           '--debug shows no request: %r' % err[-400:])
    for args in (['chain', 'list'], ['chain', 'show'], ['chain', 'delete'],
                 ['prune']):
        out = cli.ok(member, 'volume', 'backup', *(args + ['--help']))
        expect('``' not in out and '(name or ID)' in ' '.join(out.split()),
               '%s --help: %r' % (' '.join(args), out))
    in_volume = sorted(c for g in cli.json(member, 'command', 'list',
                                           '--group', 'volume')
                       for c in g['Commands'] if 'chain' in c or 'prune' in c)
    expect(in_volume == ['volume backup chain delete',
                         'volume backup chain list',
                         'volume backup chain show', 'volume backup prune'],
           'command list --group volume: %s' % in_volume)
    return 'names resolved; 5 not-found errors say what to do, no URL; ' \
        '--debug shows the request; --all-projects said ignored; ' \
        '--timeout 0 said for people; --help plain; commands in ' \
        '--group volume: %s' % ', '.join(in_volume)


# --- stored sizes: what each backup really wrote ---------------------------

SIZES_CHANGED_MIB = 3   # changed between the full and the incremental,
SIZES_RUNS = 24         # in this many runs of 128 KiB, far apart


def make_sized_chain(cli, clouds_yaml, cloud_dir, seed):
    """A volume of random data and three backups of it.

    A full, then N MiB changed and an incremental, then an incremental of
    the unchanged volume.
    """
    waiter = Waiter(clouds_yaml, 'cbe-member')
    volume_id = make_volume(waiter, 'chains-sizes')
    path = volume_file(cloud_dir, volume_id)
    expect(os.path.exists(path), 'no volume file %s' % path)
    written = volume_data.fill_random(path)
    full = make_backup(cli, waiter, 'cbe-member', volume_id,
                       'chains-sizes-full', False)
    block, file_size = volume_data.backup_block_sizes(cloud_dir)
    rng = random.Random(seed)
    runs = volume_data.scatter(rng, written, block,
                               SIZES_CHANGED_MIB * volume_data.MIB,
                               SIZES_RUNS)
    volume_data.rewrite(path, runs, rng)
    changed = make_backup(cli, waiter, 'cbe-member', volume_id,
                          'chains-sizes-changed', True)
    unchanged = make_backup(cli, waiter, 'cbe-member', volume_id,
                            'chains-sizes-unchanged', True)
    return {'volume': volume_id, 'written': written, 'block': block,
            'file_size': file_size, 'runs': runs, 'seed': seed,
            'chain': [full, changed, unchanged]}


def check_stored_sizes(cli, made):
    chain = made['chain']
    block, written, runs = made['block'], made['written'], made['runs']
    transcript(cli, 'cbe-member', 'volume', 'backup', 'chain', 'show',
               'chains-sizes-unchanged')
    rows = chain_rows(cli, 'cbe-member', chain[-1])
    expect([r['ID'] for r in rows] == chain,
           'chain show lists %s, expected %s' % ([r['ID'] for r in rows],
                                                 chain))
    stored = [r['Stored'] for r in rows]
    reads = [r['Restore Reads'] for r in rows]
    sources = [r['Stored Source'] for r in rows]
    # JSON's true would pass == 1; null is unknown, not 0.
    expect(all(type(n) is int for n in stored + reads),
           'Stored %s, Restore Reads %s: not all integers' % (stored, reads))
    expect(sources == ['progress'] * 3, 'Stored Source: %s' % sources)
    full, changed, unchanged = stored
    expect(full == written, 'the full stored %d bytes; %d were written'
           % (full, written))
    low = SIZES_CHANGED_MIB * volume_data.MIB
    high = low + 2 * block * len(runs)
    touched = volume_data.touched_bytes(runs, block)
    expect(low <= changed <= high,
           'the incremental stored %d bytes, not within [%d, %d] (%d MiB '
           'changed in %d runs, %d-byte blocks; CBE_SIZES_SEED=%d)'
           % (changed, low, high, SIZES_CHANGED_MIB, len(runs), block,
              made['seed']))
    expect(changed == touched,
           'the incremental stored %d bytes; the runs touch %d blocks, %d '
           'bytes (CBE_SIZES_SEED=%d)' % (
               changed, touched // block, touched, made['seed']))
    expect(unchanged == 0, 'the unchanged incremental stored %r' % unchanged)
    expect(reads == [full, full + changed, full + changed + unchanged],
           'Restore Reads %s for Stored %s' % (reads, stored))
    listed = cli.json('cbe-member', 'volume', 'backup', 'chain', 'list',
                      '--volume', made['volume'], '--long')
    totals = [(c['Full Backup ID'], c['Stored'], c['Unmeasured Backups'])
              for c in listed]
    expect(totals == [(chain[0], sum(stored), 0)],
           'chain list: %s, expected %s' % (
               totals, [(chain[0], sum(stored), 0)]))
    return ('backup_sha_block_size_bytes %d, backup_file_size %d; full of '
            '%d random bytes: Stored %d; %d MiB changed in %d runs of %d '
            'bytes, none on a block edge (seed %d): incremental Stored %d '
            '(%d blocks touched; bound [%d, %d]); unchanged incremental '
            'Stored 0; all from the progress event; Restore Reads %s; '
            'chain list Stored %d, 0 unmeasured' % (
                block, made['file_size'], written, full, SIZES_CHANGED_MIB,
                len(runs), runs[0][1], made['seed'], changed,
                touched // block, low, high, reads, sum(stored)))


# --- Ceph: sizes from the diff between the backups' snapshots ------------

CEPH_FILLED_MIB = 64    # of the 1 GiB RBD volume: 16 whole 4 MiB objects


def rbd_volume(conf, volume_id):
    """(ExitStack, rbd.Image): a Ceph backend volume's image, open.

    cinder-ceph.conf names the pool; 'volume-<id>' is Cinder's name.
    """
    import rados
    import rbd
    cluster = rados.Rados(conffile=conf, rados_id='admin')
    cluster.connect(timeout=60)
    stack = contextlib.ExitStack()
    stack.callback(cluster.shutdown)
    ioctx = stack.enter_context(cluster.open_ioctx('volumes'))
    image = stack.enter_context(rbd.Image(ioctx, 'volume-%s' % volume_id))
    return stack, image


def make_ceph_chain(cli, clouds_yaml, conf, seed):
    """A volume of the RBD backend and three Ceph backups of it.

    As make_sized_chain, on the first CEPH_FILLED_MIB of the volume.
    """
    Waiter(clouds_yaml, 'cbe-admin').conn.block_storage.create_type(
        name='cbe-ceph', extra_specs={'volume_backend_name': 'ceph'})
    waiter = Waiter(clouds_yaml, 'cbe-member')
    volume = waiter.conn.block_storage.create_volume(
        size=1, name='chains-ceph', volume_type='cbe-ceph',
        availability_zone='ceph')
    waiter.volume_available(volume.id)
    rng = random.Random(seed)
    stack, image = rbd_volume(conf, volume.id)
    with stack:
        written = volume_data.fill_random(image, CEPH_FILLED_MIB * MIB)
        full = make_backup(cli, waiter, 'cbe-member', volume.id,
                           'chains-ceph-full', False)
        runs = volume_data.scatter(rng, written, 4096,
                                   SIZES_CHANGED_MIB * MIB, SIZES_RUNS)
        volume_data.rewrite(image, runs, rng)
    changed = make_backup(cli, waiter, 'cbe-member', volume.id,
                          'chains-ceph-changed', True)
    unchanged = make_backup(cli, waiter, 'cbe-member', volume.id,
                            'chains-ceph-unchanged', True)
    return {'volume': volume.id, 'written': written, 'runs': runs,
            'seed': seed, 'chain': [full, changed, unchanged]}


def check_ceph_sizes(cli, cloud_dir, made):
    chain = made['chain']
    rows = chain_rows(cli, 'cbe-member', chain[-1])
    expect([r['Stored'] for r in rows] == [None] * 3,
           'before the measure, Stored %s: a Ceph backup sends no progress '
           'event, so its size is unknown' % [r['Stored'] for r in rows])
    manage = ['cinder-backup-ext-manage', '--config-file',
              os.path.join(cloud_dir, 'cinder.conf'), '--config-file',
              os.path.join(cloud_dir, 'cinder-backup-ceph.conf'),
              'backups', 'measure']
    measured = []
    for backup_id in chain:
        proc = subprocess.run(manage + ['--backup-id', backup_id],
                              capture_output=True, text=True,
                              timeout=CLI_TIMEOUT)
        expect(proc.returncode == 0, 'measure %s: exit %d: %s %s' % (
            backup_id, proc.returncode, proc.stdout, proc.stderr[-600:]))
        measured.append(proc.stdout.strip())
    rows = chain_rows(cli, 'cbe-member', chain[-1])
    stored = [r['Stored'] for r in rows]
    reads = [r['Restore Reads'] for r in rows]
    sources = [r['Stored Source'] for r in rows]
    expect(sources == ['ceph-diff'] * 3, 'Stored Source: %s' % sources)
    expect(all(type(n) is int for n in stored + reads),
           'Stored %s, Restore Reads %s: not all integers' % (stored, reads))
    changed_bytes = SIZES_CHANGED_MIB * MIB
    expect(stored == [made['written'], changed_bytes, 0],
           'Stored %s; expected [%d, %d, 0]: %d random bytes, then %d MiB '
           'changed in %d runs (CBE_SIZES_SEED=%d)' % (
               stored, made['written'], changed_bytes, made['written'],
               SIZES_CHANGED_MIB, len(made['runs']), made['seed']))
    expect(reads == [stored[0], stored[0] + stored[1], sum(stored)],
           'Restore Reads %s for Stored %s' % (reads, stored))
    out = cli.ok('cbe-member', 'volume', 'backup', 'chain', 'delete',
                 chain[0])
    expect('Deleted 3 backup(s).' in out, 'chain delete: %r' % out[-300:])
    return ('RBD volume, %d MiB random then %d MiB changed in %d runs (seed '
            '%d): before the measure Stored unknown (null); `backups '
            'measure` on the Ceph backup node: %s; Stored %s from '
            'ceph-diff, Restore Reads %s; the Ceph chain deleted' % (
                CEPH_FILLED_MIB, SIZES_CHANGED_MIB, len(made['runs']),
                made['seed'], ' | '.join(measured), stored, reads))


# --- the chain cap under random use ---------------------------------------

CAP = 3
CAP_VOLUMES = 4
CAP_CREATES = 100


def make_capped_volumes(clouds_yaml):
    """A volume type capping chains at CAP (extra specs), and its volumes."""
    admin = Waiter(clouds_yaml, 'cbe-admin')
    admin.conn.block_storage.create_type(
        name='cbe-capped', extra_specs={
            'cinder_backup_ext:max_chain_depth': str(CAP),
            'cinder_backup_ext:chain_cap_action': 'full'})
    member = Waiter(clouds_yaml, 'cbe-member')
    volumes = []
    for number in range(CAP_VOLUMES):
        volume = member.conn.block_storage.create_volume(
            size=1, name='capped-%d' % number, volume_type='cbe-capped')
        volumes.append(volume.id)
    for volume_id in volumes:
        member.volume_available(volume_id)
    return volumes


def random_creates(clouds_yaml, volume_id, count, seed):
    """``count`` backups of a volume, each incremental or full at random.

    Some are made "failed" afterwards (reset to error by the admin), which
    changes the parent Cinder picks next. Returns (made, failed).
    """
    rng = random.Random(seed)
    member = Waiter(clouds_yaml, 'cbe-member')
    admin = Waiter(clouds_yaml, 'cbe-admin')
    made, failed = [], []
    for number in range(count):
        # Cinder refuses an incremental while no backup is available.
        incremental = len(made) > len(failed) and rng.random() < 0.8
        backup = member.conn.block_storage.create_backup(
            volume_id=volume_id, name='capped-%s' % number,
            is_incremental=incremental)
        member.backup_available(backup.id)
        made.append(backup.id)
        if rng.random() < 0.15:
            admin.conn.block_storage.reset_backup(backup.id, 'error')
            failed.append(backup.id)
            # Cinder's reset-status is a cast to the backup service: the
            # failure is in place only once the row says so. (Landing in
            # the middle of the next request, it can change the parent
            # Cinder picks after the cap predicted it; see chain-cap.rst.)
            admin.until('reset of backup %s' % backup.id,
                        lambda b=backup.id: (admin.backup(b).status == 'error',
                                             admin.backup(b).status))
    return made, failed


def depths(db, ids):
    """Each backup's depth in its chain (chains.build), over live rows."""
    import cinder_backup_ext_chains as chains
    with db.cursor() as cur:
        cur.execute('SELECT id, parent_id, status, created_at FROM backups '
                    'WHERE deleted = 0')
        rows = [dict(zip(('id', 'parent_id', 'status', 'created_at'), row))
                for row in cur.fetchall()]
    found = {member['id']: member['depth']
             for chain in chains.build(rows) for member in chain.members}
    return {backup_id: found[backup_id] for backup_id in ids}


def check_cap_holds(clouds_yaml, db, seed):
    volumes = make_capped_volumes(clouds_yaml)
    per_volume = CAP_CREATES // CAP_VOLUMES
    with concurrent.futures.ThreadPoolExecutor(CAP_VOLUMES) as pool:
        runs = [pool.submit(random_creates, clouds_yaml, volume_id,
                            per_volume, seed + number)
                for number, volume_id in enumerate(volumes)]
        results = [run.result() for run in runs]
    made = [b for run_made, _failed in results for b in run_made]
    failed = sum(len(run_failed) for _made, run_failed in results)
    found = depths(db, made)
    deepest = max(found.values())
    histogram = {d: list(found.values()).count(d)
                 for d in sorted(set(found.values()))}
    expect(len(made) == CAP_CREATES and deepest <= CAP,
           '%d backups, deepest %d > cap %d: %s (CBE_CAP_SEED=%d): %s' % (
               len(made), deepest, CAP, histogram, seed,
               [b for b, depth in found.items() if depth > CAP]))
    # A cap never reached proves nothing.
    expect(histogram.get(CAP, 0) > 0,
           'no backup reached depth %d: %s' % (CAP, histogram))
    return ('%d creates on %d volumes of a type capped at depth %d (seed '
            '%d, %d made failed): depths %s; deepest %d' % (
                len(made), len(volumes), CAP, seed, failed, histogram,
                deepest))


# --- project cleanup: stock cinder-api vs ours -----------------------------

def start_stock_api(cloud, port):
    conf = os.path.join(cloud.dir, 'cinder.conf')
    stock_conf = os.path.join(cloud.dir, 'cinder-stock.conf')
    with open(conf) as f:
        lines = f.read().splitlines()
    expect(PLUGIN_LINE in lines, '%s has no line %r' % (conf, PLUGIN_LINE))
    with open(stock_conf, 'w') as f:
        f.write('\n'.join(ln for ln in lines if ln != PLUGIN_LINE) + '\n')
    # The cloud's too: its teardown (or run.sh stop) stops it as well.
    cloud.stock = harness.start(
        'gunicorn-cinder-api-stock', harness.gunicorn(HERE) + [
            '-b', '127.0.0.1:%d' % port, '--workers', '1',
            '--worker-class', 'sync', '--timeout', '180',
            'cinder_wsgi:application'],
        cloud.dir, cloud.state['RUN'], http='http://127.0.0.1:%d/' % port,
        env={'CBE_CINDER_ARGS': '--config-file %s --log-file %s' % (
            stock_conf, os.path.join(cloud.dir, 'cinder-api-stock.log'))})
    harness.adopt(cloud.dir, cloud.stock)
    return stock_conf


def cleanup_clouds(cli, cloud_dir, ours_port, stock_port):
    """Projects A and B with a member each; clouds for them in a new file."""
    with open(os.path.join(cloud_dir, 'clouds.yaml')) as f:
        clouds = yaml.safe_load(f)
    member = clouds['clouds']['cbe-member']
    password = member['auth']['password']
    for project, port in (('cbe-cleanup-a', stock_port),
                          ('cbe-cleanup-b', ours_port)):
        cli.ok('cbe-admin', 'project', 'create', '--or-show', project)
        cli.ok('cbe-admin', 'user', 'create', '--or-show', '--project',
               project, '--password', password, project + '-member')
        cli.ok('cbe-admin', 'role', 'add', '--project', project, '--user',
               project + '-member', 'member')
        entry = json.loads(json.dumps(member))
        entry['auth'].update(username=project + '-member',
                             project_name=project)
        entry['block_storage_endpoint_override'] = (
            'http://127.0.0.1:%d/v3/%%(project_id)s' % port)
        clouds['clouds'][project] = entry
    path = os.path.join(cloud_dir, 'clouds-cleanup.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump(clouds, f)
    return path


def db_connect(cloud_dir):
    import pymysql
    return pymysql.connect(host='127.0.0.1', user='root',
                           database=read_state(cloud_dir)['DB'],
                           autocommit=True)


def live_backups(db, project_id):
    with db.cursor() as cur:
        cur.execute('SELECT id, status, parent_id, num_dependent_backups '
                    'FROM backups WHERE project_id = %s AND deleted = 0 '
                    'ORDER BY created_at', (project_id,))
        return cur.fetchall()


def check_stock_has_no_plugin(cli, stock_log):
    status, _out, err = cli.run('cbe-cleanup-a', 'volume', 'backup',
                                'chain', 'list')
    expect(status != 0 and 'os-backup-chains' in err,
           'the stock API answered the chains list (%d): %s'
           % (status, err[-300:]))
    with open(stock_log, encoding='utf-8', errors='replace') as f:
        loaded = [ln for ln in f if 'cinder-backup-ext: loaded' in ln]
    expect(not loaded, 'the stock API loaded the plugin: %s' % loaded[:1])
    return 'GET /os-backup-chains on the stock API: 404 (the CLI says the ' \
           'extension is missing); its log loaded no cinder-backup-ext ' \
           'extension'


def drift(db, fulls):
    with db.cursor() as cur:
        for full in fulls:
            cur.execute('UPDATE backups SET num_dependent_backups = 0 '
                        'WHERE id = %s', (full,))


def check_drift_visible(cli, full_a, full_b):
    """Stock says the full has no dependents, ours (same rows) says it has."""
    answers = {}
    for label, cloud, backup_id in (
            ('stock API, project A', 'cbe-cleanup-a', full_a),
            ('plugin API, project B', 'cbe-cleanup-b', full_b)):
        answers[label] = cli.json(cloud, 'volume', 'backup', 'show',
                                  backup_id)['has_dependent_backups']
    expect(answers == {'stock API, project A': False,
                       'plugin API, project B': True},
           'has_dependent_backups of the drifted fulls: %s' % answers)
    return 'full backup with a live child, counter 0: %s' % answers


def project_cleanup(cli, cloud):
    started = time.monotonic()
    status, out, err = cli.run(cloud, 'project', 'cleanup', '--auth-project',
                               '--auto-approve')
    return {'status': status, 'out': out, 'err': err,
            'seconds': time.monotonic() - started,
            'refusals': sum(1 for line in err.splitlines()
                            if line.startswith('Cannot delete resource')
                            and REFUSED in line),
            'last': (err.strip().splitlines() or [''])[-1][-200:]}


def check_cleanup(db, label, project_id, result, made, expect_left):
    """Backups left in the project; ours must also exit 0."""
    left = live_backups(db, project_id)
    detail = '%s: `openstack project cleanup` exit %d%s in %.0f s, %d ' \
             'delete(s) refused with "%s"; %d of %d backups left%s' % (
                 label, result['status'],
                 ' (%s)' % result['last'] if result['status'] else '',
                 result['seconds'],
                 result['refusals'], REFUSED, len(left), len(made),
                 (' (%s)' % ', '.join('%s %s counter=%s' % (
                     row[0][:8], row[1], row[3]) for row in left))
                 if left else '')
    expect(expect_left or result['status'] == 0,
           detail + '; stderr: ' + result['err'][-400:])
    expect(bool(left) == expect_left, detail)
    return detail


# --- the job -----------------------------------------------------------------

def run_checks(cloud, checks, env):
    ours_port = int(cloud.state['CINDER_PORT'])
    stock_port = int(env.get('CBE_STOCK_CINDER_PORT', '18877'))
    cloud_dir = cloud.dir
    log('--- on the local cloud in %s' % cloud_dir)
    clouds_yaml = os.path.join(cloud_dir, 'clouds.yaml')
    cli = CLI(clouds_yaml)
    # Cinder's default quota is 10 backups a project; the member makes 29,
    # and the cap check 100 more on 4 more volumes.
    cli.ok('cbe-admin', 'quota', 'set', '--backups', '200', '--volumes', '20',
           '--backup-gigabytes', '2000', 'cbe-demo')

    # Projects A and B, the stock API, then every backup, volumes in
    # parallel (the chain of one volume is made one backup at a time).
    cleanup_yaml = cleanup_clouds(CLI(clouds_yaml), cloud_dir, ours_port,
                                  stock_port)
    ccli = CLI(cleanup_yaml)
    stock_conf = start_stock_api(cloud, stock_port)
    log('--- stock cinder-api on 127.0.0.1:%d (%s)'
        % (stock_port, stock_conf))
    phase = time.monotonic()
    sizes_seed = int(env.get('CBE_SIZES_SEED', random.randrange(10000)))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        jobs = {
            'two': pool.submit(make_chains, cli, clouds_yaml, 'cbe-member',
                               'chains-two', [4, 3]),
            'deep': pool.submit(make_chains, cli, clouds_yaml, 'cbe-member',
                                'chains-deep', [13]),
            'a': pool.submit(make_chains, ccli, cleanup_yaml,
                             'cbe-cleanup-a', 'cleanup-a', [2]),
            'b': pool.submit(make_chains, ccli, cleanup_yaml,
                             'cbe-cleanup-b', 'cleanup-b', [2]),
            'calendar': pool.submit(make_chains, cli, clouds_yaml,
                                    'cbe-member', 'chains-calendar', [3, 2]),
            'restore': pool.submit(make_restore_chain, cli, clouds_yaml,
                                   cloud_dir),
            'sizes': pool.submit(make_sized_chain, cli, clouds_yaml,
                                 cloud_dir, sizes_seed),
        }
        if cloud.state.get('CEPH_CONF'):
            jobs['ceph'] = pool.submit(make_ceph_chain, cli, clouds_yaml,
                                       cloud.state['CEPH_CONF'], sizes_seed)
        made = {name: job.result() for name, job in jobs.items()}
    log('--- %d backups on %d volumes made in %.0f s' % (
        35 + 3 * ('ceph' in made), len(made), time.monotonic() - phase))

    # 2a. Project cleanup through the stock API (A) and ours (B), in the
    # background: openstacksdk waits up to 120 s for a backup whose delete
    # Cinder refused, and the member checks need not wait for that.
    checks.check('the second cinder-api is stock (no plugin)',
                 check_stock_has_no_plugin, ccli,
                 os.path.join(cloud_dir, 'cinder-api-stock.log'))
    db = db_connect(cloud_dir)
    cleanup_pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        chain_a, chain_b = made['a'][1][0], made['b'][1][0]
        projects = {name: ccli.json('cbe-admin', 'project', 'show',
                                    name)['id']
                    for name in ('cbe-cleanup-a', 'cbe-cleanup-b')}
        drift(db, [chain_a[0], chain_b[0]])
        checks.check('the drifted counter: stock says no dependents, ours '
                     'says yes', check_drift_visible, ccli, chain_a[0],
                     chain_b[0])
        runs = {name: cleanup_pool.submit(project_cleanup, ccli, name)
                for name in projects}

        # 1. Two chains; the middle incremental of the first in error.
        volume, (old, new) = made['two']
        # Another project's volume (the admin's), for the member to miss.
        admin_volume = make_volume(Waiter(clouds_yaml, 'cbe-admin'),
                                   'chains-admin')
        errored = old[2]
        cli.ok('cbe-admin', 'volume', 'backup', 'set', '--state', 'error',
               errored)
        waiter = Waiter(clouds_yaml, 'cbe-member')
        checks.check('chain list (member CLI, volume by name)', check_list,
                     cli, 'chains-two', [old, new])
        checks.check('chain show trees', check_show, cli, [old, new], errored)
        checks.check('chain show deletable == DELETE outcome, every member',
                     check_show_matches_delete, cli, waiter, [old, new])
        # The newer chain's leaf was deleted: made again, same parent.
        new = new[:2] + [make_backup(cli, waiter, 'cbe-member', volume,
                                     'chains-two-c1-2b', True)]
        checks.check('prune --keep-chains 1 keeps exactly the newer chain',
                     check_prune, cli, volume, new, 'chains-two')
        checks.check('the CLI for people: names, errors, help',
                     check_usability, cli, admin_volume)
        deep_volume, (deep,) = made['deep']
        checks.check('chain delete empties a depth-12 chain in one command',
                     check_delete_deep, cli, deep_volume, deep)
        calendar_volume, calendar_chains = made['calendar']
        checks.check('prune with calendar rules on backups months apart '
                     'deletes exactly the plan', check_prune_calendar, cli,
                     db, calendar_volume, 'chains-calendar', calendar_chains)
        restore_volume, restore_chain = made['restore']
        checks.check('a restore through a broken chain is refused (409), '
                     'the volume unchanged', check_restore_refused, cli,
                     waiter, cloud_dir, restore_volume, restore_chain)
        checks.check('stored sizes: a full stores the data written, an '
                     'incremental the blocks changed, an unchanged one 0',
                     check_stored_sizes, cli, made['sizes'])
        if 'ceph' in made:
            checks.check('stored sizes on Ceph: unknown until measured, then '
                         'the diff between the backups\' snapshots',
                         check_ceph_sizes, cli, cloud_dir, made['ceph'])
        elif env.get('CBE_REQUIRE_SERVERS') == '1':
            checks.record('stored sizes on Ceph', False, 'the cloud has no '
                          'Ceph backend (see its log: "no Ceph backend")')

        # 2b. What each cleanup left.
        results = {name: run.result() for name, run in runs.items()}
        checks.check('project cleanup via the stock cinder-api leaves '
                     'backups behind', check_cleanup, db, 'stock API, '
                     'project A', projects['cbe-cleanup-a'],
                     results['cbe-cleanup-a'], chain_a, True)
        checks.check('project cleanup via the plugin API removes them all',
                     check_cleanup, db, 'plugin API, project B',
                     projects['cbe-cleanup-b'], results['cbe-cleanup-b'],
                     chain_b, False)
        checks.check('the chain cap holds under random creates and failed '
                     'backups', check_cap_holds, clouds_yaml, db,
                     int(env.get('CBE_CAP_SEED', random.randrange(10000))))
    finally:
        cleanup_pool.shutdown(wait=False, cancel_futures=True)
        db.close()


def main():
    env = dict(os.environ)
    folder = env.get('CBE_CLOUD_DIR', '')
    if not os.path.isfile(os.path.join(folder, 'cloud.env')):
        log("CBE_CLOUD_DIR=%r is not a local cloud's folder (no cloud.env):"
            " run tools/local-cloud/jobs.sh chains (tox -e chains), which "
            "starts one." % folder)
        return 2
    started = time.monotonic()
    cloud = Cloud(folder)
    checks = Checks()

    def interrupted(signum, _frame):
        if not STOPPING.is_set():
            STOPPING.set()
            log('--- signal %d: stopping' % signum)
            kill_children()
            raise Interrupted()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    status = 0
    try:
        run_checks(cloud, checks, env)
    except Interrupted:
        status = 130
    except CheckFailed as exc:
        checks.record('setup', False, str(exc))
    except Exception as exc:  # a broken check is a failed one
        import traceback
        traceback.print_exc()
        checks.record('setup', False, '%s: %s' % (type(exc).__name__, exc))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        STOPPING.set()
        kill_children()
        cloud.teardown()
    failed = checks.summary()
    log('chains job took %.0f s' % (time.monotonic() - started))
    if status:
        return status
    return 1 if failed or not checks.results else 0


if __name__ == '__main__':
    sys.exit(main())
