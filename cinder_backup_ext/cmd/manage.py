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

"""cinder-backup-ext-manage: this package's database chores.

    cinder-backup-ext-manage --config-file /etc/cinder/cinder.conf db sync
    cinder-backup-ext-manage --config-file ... db sync --galera-rsu
    cinder-backup-ext-manage --config-file /etc/cinder/cinder.conf db version
    cinder-backup-ext-manage --config-file ... db downgrade base
    cinder-backup-ext-manage --config-file ... backups check-dependents [--fix]
    cinder-backup-ext-manage --config-file ... backups measure --all

It reads Cinder's own ``[database]`` options (``cmd/database.py``). Every
failure ends with one line on stderr and exit status 1; a migration that
fails leaves no revision recorded, so the next ``db sync`` starts it again.
``backups check-dependents`` exits 3 when it finds drift it did not fix,
so that a monitoring check can run it. ``backups measure`` (``measure.py``)
exits 3 when a backup it was asked for could not be measured, one line
each saying why.
"""

import argparse
import sys
import warnings

from alembic import util as alembic_util
from oslo_config import cfg
from oslo_db import exception as db_exc
import sqlalchemy as sa

from cinder_backup_ext.cmd import database
from cinder_backup_ext.db import dependents_check
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext.db import sizes
from cinder_backup_ext import measure

CONF = cfg.CONF
PROG = 'cinder-backup-ext-manage'
EXIT_OK, EXIT_ERROR, EXIT_DRIFT = 0, 1, 3
EXIT_NOT_MEASURED = 3
CHECK_EPILOG = """exit status:
  %d  every counter agrees with the live children (or --fix corrected all)
  %d  an error (one line on stderr)
  %d  drifted counters were found and not fixed (run with --fix)
""" % (EXIT_OK, EXIT_ERROR, EXIT_DRIFT)
MEASURE_EPILOG = """supported drivers: %s (cinder.backup.drivers.*)
exit status:
  %d  every backup asked for was measured (and recorded, unless --dry-run)
  %d  an error (one line on stderr)
  %d  a backup could not be measured (one "ID not measured: REASON" line each)
""" % (', '.join(measure.SUPPORTED), EXIT_OK, EXIT_ERROR, EXIT_NOT_MEASURED)


def db_sync(engine):
    if getattr(CONF.category, 'galera_rsu', False):
        parent_index.create_rsu(engine)
    before = migration.version(engine)
    rebuilt = migration.upgrade(engine)
    after = migration.version(engine)
    if rebuilt:
        print('Database at revision %s, but its index was missing; '
              'rebuilt it.' % after)
    elif before == after:
        print('Database already at revision %s; nothing to do.' % after)
    else:
        print('Database upgraded from %s to %s.' % (before, after))


def db_version(engine):
    print(migration.version(engine) or 'None (db sync has not run)')


def db_downgrade(engine):
    migration.downgrade(engine, CONF.category.revision)
    print('Database downgraded to %s.'
          % (migration.version(engine) or 'base'))


def check_dependents(engine):
    fix = CONF.category.fix
    drifted = 0
    for backup_id, counter, children in dependents_check.check(
            engine, fix=fix, batch_size=CONF.category.batch_size):
        drifted += 1
        print('%s num_dependent_backups=%s live children=%d%s'
              % (backup_id, counter, children, ' (fixed)' if fix else ''))
    if not drifted:
        print('Every counter agrees with the live children.')
    elif not fix:
        print('%d backup(s) drifted; run with --fix to correct them.'
              % drifted)
        return EXIT_DRIFT
    return EXIT_OK


def measure_backups(engine):
    args = CONF.category
    dry_run = args.dry_run
    missed = 0
    for result in measure.measure(
            engine, CONF, None if args.all else [args.backup_id], dry_run):
        if result.reason:
            missed += 1
            print('%s not measured: %s' % (result.backup_id, result.reason))
        else:
            print('%s %d bytes in %d objects%s' % (
                result.backup_id, result.size.stored_bytes,
                result.size.object_count,
                ' (dry run: not recorded)' if dry_run else ''))
    if missed:
        print('%d backup(s) not measured.' % missed)
        return EXIT_NOT_MEASURED
    return EXIT_OK


def _add_parsers(subparsers):
    db = subparsers.add_parser('db').add_subparsers(dest='action')
    db.required = True
    sync = db.add_parser('sync')
    sync.add_argument(
        '--galera-rsu', action='store_true',
        help='MariaDB Galera: build the index node by node with '
             'wsrep_OSU_method=RSU instead of one cluster-wide TOI ALTER '
             '(see the admin guide, "Galera")')
    sync.set_defaults(func=db_sync)
    db.add_parser('version').set_defaults(func=db_version)
    down = db.add_parser('downgrade')
    down.add_argument('revision', help="a revision, or 'base'")
    down.set_defaults(func=db_downgrade)

    backups = subparsers.add_parser('backups').add_subparsers(dest='action')
    backups.required = True
    check = backups.add_parser(
        'check-dependents', epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help='compare num_dependent_backups with the live children; dry '
             'run by default')
    check.add_argument('--fix', action='store_true',
                       help='correct the drifted counters')
    check.add_argument('--batch-size', type=int, default=1000)
    check.set_defaults(func=check_dependents)
    sizer = backups.add_parser(
        'measure', epilog=MEASURE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="record the bytes each backup's objects take on the backend")
    which = sizer.add_mutually_exclusive_group(required=True)
    which.add_argument('--backup-id', help='measure this backup')
    which.add_argument('--all', action='store_true',
                       help='measure every backup that is not deleted')
    sizer.add_argument('--dry-run', action='store_true',
                       help='print the sizes, record nothing')
    # The backup drivers' options are Cinder's: loaded only for this one.
    sizer.set_defaults(func=measure_backups, cinder_opts=True)


def _reason(exc):
    """The one line an operator needs from a driver's exception."""
    exc = getattr(exc, 'inner_exception', None) or exc  # oslo.db's wrapper
    orig = getattr(exc, 'orig', None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _register_cinder_opts():
    """Cinder's backup driver options, loaded with Cinder itself."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # eventlet's deprecation, on import
        from cinder_backup_ext import compat
    compat.register_backup_repository_opts()


def main(argv=None):
    database.log_to_stderr(PROG)
    database.register_opts(CONF)
    CONF.register_cli_opt(cfg.SubCommandOpt(
        'category', title='commands', handler=_add_parsers))
    args = sys.argv[1:] if argv is None else argv
    try:
        CONF(args, project='cinder', prog=PROG)
        if getattr(CONF.category, 'cinder_opts', False):
            # Some are CLI options: registered unparsed, then parsed again.
            CONF.clear()
            _register_cinder_opts()
            CONF(args, project='cinder', prog=PROG)
        engine = database.engine(CONF)
        try:
            return CONF.category.func(engine) or EXIT_OK
        finally:
            engine.dispose()
    except (cfg.Error, ValueError, RuntimeError,
            migration.NotCinderDatabase, sizes.NotSynced,
            alembic_util.CommandError, sa.exc.SQLAlchemyError,
            db_exc.DBError) as exc:
        print('%s: error: %s' % (PROG, _reason(exc)), file=sys.stderr)
        return EXIT_ERROR


if __name__ == '__main__':
    sys.exit(main())
