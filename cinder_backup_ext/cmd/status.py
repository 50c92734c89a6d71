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

"""cinder-backup-ext-status upgrade check: is this node set up right?

    cinder-backup-ext-status --config-file /etc/cinder/cinder.conf \\
        upgrade check

The OpenStack convention (oslo.upgradecheck): each check reports Success,
Warning or Failure, and the exit status is the worst of them.
"""

import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_policy import opts as policy_opts
from oslo_policy import policy
from oslo_upgradecheck import upgradecheck
import sqlalchemy as sa
from stevedore import extension

from cinder_backup_ext.api import loader
from cinder_backup_ext.cmd import database
from cinder_backup_ext.db import migration
from cinder_backup_ext.db import parent_index
from cinder_backup_ext import opts

CONF = cfg.CONF
NOTIFY_DRIVERS = 'oslo.messaging.notify.drivers'
OUR_DRIVER = 'cinder_backup_ext'

Code = upgradecheck.Code
Result = upgradecheck.Result


def _register_opts(conf):
    """Cinder's and oslo's options that the checks read, if not yet known."""
    database.register_opts(conf)
    policy_opts.set_defaults(conf)
    opts.register_opts(conf)
    for opt, group in (
            (cfg.MultiStrOpt('osapi_volume_extension',
                             default=['cinder.api.contrib.'
                                      'standard_extensions']), None),
            (cfg.MultiStrOpt('driver', default=[]),
             'oslo_messaging_notifications')):
        try:
            conf.register_opt(opt, group=group)
        except cfg.DuplicateOptError:
            pass


class Checks(upgradecheck.UpgradeCommands):

    def _check_index(self):
        if not CONF.database.connection:
            return Result(Code.FAILURE, 'No [database] connection.')
        engine = None
        try:
            engine = database.engine(CONF)
            with engine.connect() as conn:
                revision = migration.version(engine)
                found = parent_index.find(conn)
        except (sa.exc.SQLAlchemyError, db_exc.DBError) as exc:
            exc = getattr(exc, 'inner_exception', None) or exc
            return Result(Code.FAILURE, 'Cannot read the database: %s'
                          % str(getattr(exc, 'orig', exc)).splitlines()[0])
        finally:
            if engine is not None:
                engine.dispose()
        if found is None:
            return Result(Code.FAILURE,
                          'No usable index on backups.parent_id: run '
                          'cinder-backup-ext-manage db sync.')
        if revision != migration.head():
            return Result(Code.WARNING,
                          'Database at revision %s, package at %s: run '
                          'cinder-backup-ext-manage db sync.'
                          % (revision, migration.head()))
        return Result(Code.SUCCESS, 'Index %s present.' % found)

    def _check_extension(self):
        if loader.__name__ + '.load' in CONF.osapi_volume_extension:
            return Result(Code.SUCCESS)
        return Result(Code.WARNING,
                      '%s.load is not in osapi_volume_extension: the API '
                      'extension is not loaded on this node.'
                      % loader.__name__)

    def _check_policy(self):
        enforcer = policy.Enforcer(CONF)
        try:
            enforcer.load_rules()
        except Exception as exc:
            return Result(Code.FAILURE, 'The policy file does not parse: %s'
                          % exc)
        return Result(Code.SUCCESS)

    def _check_notifier(self):
        if OUR_DRIVER not in CONF.oslo_messaging_notifications.driver:
            return Result(Code.SUCCESS, 'Notifier hook not enabled.')
        inner = CONF.cinder_backup_ext.notification_drivers
        if not set(inner) - {'noop'}:
            # Legitimate where notifications are off on purpose, but then
            # the hook only costs lookups: say so rather than "Success".
            return Result(Code.WARNING, '[cinder_backup_ext] '
                          'notification_drivers is %s: the hook is enabled '
                          'but nothing is sent anywhere.'
                          % (', '.join(inner) or 'empty'))
        if OUR_DRIVER in inner:
            return Result(Code.FAILURE, '[cinder_backup_ext] '
                          'notification_drivers names %s itself.'
                          % OUR_DRIVER)
        known = set(extension.ExtensionManager(NOTIFY_DRIVERS).names())
        unknown = sorted(set(inner) - known)
        if unknown:
            return Result(Code.FAILURE, 'Unknown notification drivers: %s.'
                          % ', '.join(unknown))
        return Result(Code.SUCCESS)

    _upgrade_checks = (
        ('Index on backups.parent_id', _check_index),
        ('API extension', _check_extension),
        ('Policy file', _check_policy),
        ('Notifier hook', _check_notifier),
    )


def main():
    _register_opts(CONF)
    return upgradecheck.main(CONF, project='cinder', upgrade_command=Checks(),
                             argv=sys.argv[1:])


if __name__ == '__main__':
    sys.exit(main())
