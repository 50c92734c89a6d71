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

"""The one module that imports Cinder's internals.

Cinder does not promise a stable Python API: 29.0.0 moved
``cinder.db.sqlalchemy.{api,models}`` to ``cinder.db.{api,models}``, for
instance. Every other module of this package reaches Cinder through the
names below, so a release that moves things again is mended here and
nowhere else. Only Cinder's light policy modules load with this module;
the API and database modules load on first use (see _LAZY below).
"""

import functools
import importlib
import warnings

from cinder.policies import backups as backup_policies
from cinder.policies import base as policy_base
from cinder import policy
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Cinder's check string for "may read this project's resources", the
#: default of ``backup:get``.
READER_CHECK = policy_base.SYSTEM_READER_OR_PROJECT_READER
#: Cinder's check string for its admin-only operations, such as listing
#: every project's backups with ``all_tenants``.
ADMIN_CHECK = policy_base.RULE_ADMIN_API
#: Cinder's rules for ``DELETE /backups/{id}`` and its restore.
BACKUP_DELETE = backup_policies.DELETE_POLICY
BACKUP_RESTORE = backup_policies.RESTORE_POLICY

# Cinder's API and database modules import cinder.common.config, which
# registers command-line options on the global CONF. The policy and config
# sample generators load this package after parsing that CONF, so these
# names are imported on first use (PEP 562), inside a Cinder process.
_LAZY = {
    'ExtensionDescriptor': ('cinder.api.extensions', 'ExtensionDescriptor'),
    'ResourceExtension': ('cinder.api.extensions', 'ResourceExtension'),
    'Controller': ('cinder.api.openstack.wsgi', 'Controller'),
    'extends': ('cinder.api.openstack.wsgi', 'extends'),
    # Cinder's backups controller: the class behind the v3 core routes of
    # /backups (a subclass) and the contrib extension's member actions
    # (restore, export_record, action).
    'BackupsController': ('cinder.api.contrib.backups', 'BackupsController'),
    # Raised where Cinder refuses a backup operation: its 400 and message.
    'InvalidBackup': ('cinder.exception', 'InvalidBackup'),
}


@functools.lru_cache(maxsize=None)
def _db_api():
    # Before 29.0.0, cinder.db.api is a facade over this module, without
    # the engine and the context managers.
    try:  # Cinder <= 28.x
        from cinder.db.sqlalchemy import api
    except ImportError:  # Cinder >= 29.0.0 (2026.2)
        from cinder.db import api
    return api


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError('%s has no attribute %s' % (__name__, name))
    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)


def reader(ctxt):
    """A read-only connection to Cinder's database, as Cinder opens one.

    A Core connection, not an ORM session: the count needs no objects.
    """
    return _db_api().main_context_manager.reader.connection.using(ctxt)


def sees_every_project(ctxt):
    """Cinder's ``GET /backups/{id}`` shows this context every project.

    Cinder's database API filters by project only for a "user context"
    (not an admin, with a user and a project).
    """
    return not _db_api().is_user_context(ctxt)


def extend_backups(controller, purpose):
    """A routes hook that extends the Resources serving /backups.

    Cinder's v3 router serves backups from core routes (show, detail,
    create, delete), then the contrib ``Backups`` extension registers a
    second ``backups`` resource for the member actions (restore, ...) that
    replaces ``router.resources['backups']``. A ``ControllerExtension`` on
    'backups' would attach to that second resource only, and never run
    for show, detail or delete. The route mapper still knows both
    Resources; extend each. Pass the hook as ``custom_routes_fn`` of a
    ``ResourceExtension``; ``purpose`` says in the log what is lost when
    no route is found.
    """
    def attach(mapper, _own_resource):
        found = {}
        for route in mapper.matchlist:
            resource = route.defaults.get('controller')
            if isinstance(getattr(resource, 'controller', None),
                          __getattr__('BackupsController')):
                found[id(resource)] = resource
        if not found:
            LOG.error('No route serves Cinder\'s BackupsController; '
                      'cinder-backup-ext does NOT %s.', purpose)
        for resource in found.values():
            resource.register_extensions(controller)
    return attach


def post_forced_full_message(ctxt, volume_id):
    """Cinder's own user message for an incremental made full.

    The one Cinder's Ceph backup driver posts ("Incremental backup not
    possible, forcing full backup."), on the volume, as a WARNING; users
    read it with ``openstack volume message list``.
    """
    from cinder.message import api as message_api
    from cinder.message import message_field
    message_api.API().create(
        ctxt, message_field.Action.BACKUP_CREATE,
        resource_uuid=volume_id,
        detail=message_field.Detail.INCREMENTAL_BACKUP_FORCES_FULL_BACKUP,
        level='WARNING')


def max_limit():
    """Cinder's ``osapi_max_limit``: the longest page a list returns."""
    from cinder.api import common
    return common.CONF.osapi_max_limit


def next_link(req, collection, **query):
    """The ``next`` href of a page, built as Cinder builds its own.

    Cinder's view builder keeps the request's query, sets ``marker``, and
    honours ``public_endpoint`` and ``X-Forwarded-Host``; ``query`` (with
    ``marker``) replaces values of the request's query in the link.
    """
    from cinder.api import common
    linked = req.copy_get()
    # The copy's environ is shallow: drop webob's cached parse of the query,
    # or setting values below would rewrite the original request's query.
    linked.environ.pop('webob._parsed_query_vars', None)
    marker = query.pop('marker')
    for name, value in query.items():
        linked.GET[name] = str(value)
    return common.ViewBuilder()._get_next_link(linked, marker, collection)


def get_engine():
    return _db_api().get_engine()


def db_sync(engine):
    """Cinder's own ``cinder-manage db sync``, on ``engine``."""
    from cinder.db import migration
    migration.db_sync(engine=engine)


def authorize(ctxt, rule_defaults, action, target):
    """Check ``action`` with Cinder's enforcer; never raise on a denial.

    Cinder's enforcer is created lazily and is thrown away by
    ``cinder.policy.reset()``, so registration at load time alone is not
    enough: a rule missing from the enforcer raises ``PolicyNotRegistered``
    even with ``fatal=False``. ``rule_defaults`` are (re)registered
    whenever the enforcer in use lacks them.
    """
    policy.init()
    # Not policy.get_enforcer(): that one is for the sample generators and
    # parses sys.argv.
    enforcer = policy._ENFORCER
    if action not in enforcer.registered_rules:
        enforcer.register_defaults(rule_defaults)
    return ctxt.authorize(action, target=target, fatal=False)


def register_backup_repository_opts():
    """Register the options that say where backups are (``measure.py``).

    ``backup_posix_path``, ``backup_share``, ``glusterfs_backup_share``,
    their mount bases, ``backup_ceph_conf`` and its user, and
    ``state_path`` are declared by Cinder's own driver modules, which
    register them on ``cfg.CONF`` when imported, so the defaults
    (``$state_path/backup``...) are Cinder's. Call before ``cfg.CONF``
    parses its arguments: ``state_path`` is a CLI option.
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # eventlet's deprecation, on import
        for module in ('posix', 'nfs', 'glusterfs', 'ceph', 'swift', 's3'):
            importlib.import_module('cinder.backup.drivers.' + module)


#: Cinder's object store backup drivers, by module.
OBJECT_STORE_DRIVERS = {'swift': 'SwiftBackupDriver', 's3': 'S3BackupDriver'}


def backup_driver(module):
    """Cinder's own Swift or S3 backup driver, made as cinder-backup makes it.

    Its client (``conn``: swiftclient's Connection, boto3's S3 client) is
    connected with exactly the options and credentials Cinder's backups
    use.
    """
    from cinder import context
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        driver = importlib.import_module('cinder.backup.drivers.' + module)
    made = getattr(driver, OBJECT_STORE_DRIVERS[module])(
        context.get_admin_context())
    if not hasattr(made, 'conn'):
        # Swift connects in __init__ only for a request's context (one with
        # a user); with single_user auth the credentials are the service's.
        made.initialize()
    return made


def backup_metadata(driver, container, service_metadata):
    """A chunked backup's metadata object, read as Cinder's restore reads it.

    ``ChunkedBackupDriver._read_metadata`` (Cinder 24.5.0 to 29.0.0): its
    ``objects`` list every data object of the backup.
    """
    return driver._read_metadata({'container': container,
                                  'service_metadata': service_metadata})


def share_mount_point(driver, base, share):
    """Where cinder-backup mounts an NFS or GlusterFS ``share``.

    os-brick (Cinder's own dependency) names it: a hash of the share under
    ``base``. Imported here: os-brick loads eventlet, whose import warns.
    """
    from os_brick.remotefs import remotefs
    client = remotefs.RemoteFsClient(
        driver, root_helper=None, **{'%s_mount_point_base' % driver: base})
    return client.get_mount_point(share)
