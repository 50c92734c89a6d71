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

"""Real Cinder, in process, for the functional tests and the demo.

This is the one test module that reaches into Cinder's own test tree: the
cinder wheel ships ``_FunctionalTestBase``, which builds Cinder's schema
with Cinder's own migrations (on SQLite), starts Cinder's WSGI API on
127.0.0.1 and Cinder's volume and scheduler services. On top of it this
base starts Cinder's backup service with Cinder's posix backup driver
writing real chunks to a temporary directory.

Only device attachment is stood in for: there is no iSCSI here, so the
backup manager is handed a regular file per volume where it would have
had a block device. Everything the plugin touches (API, routing,
controllers, views, policy, database) is Cinder's own.
"""

import os
import sys
import time

from cinder.backup.drivers import posix  # noqa: F401 (its options)
from cinder.backup import manager as backup_manager
from cinder import policy
from cinder import rpc
from cinder import service
from cinder.tests.functional.api import client
from cinder.tests.functional import functional_helpers
from cinder.tests.unit import test as cinder_test
from cinder.volume import volume_utils
import fixtures
from oslo_config import cfg
import oslo_messaging
from sqlalchemy import event

from cinder_backup_ext import compat
from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables

CINDER_ETC = os.path.join(sys.prefix, 'etc', 'cinder')
VOLUME_BYTES = 256 * 1024

# Cinder's test base swaps both for fakes in every test; notification tests
# put the real ones back.
REAL_NOTIFIER = oslo_messaging.Notifier
REAL_GET_NOTIFIER = rpc.get_notifier
RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/'

STANDARD_EXTENSIONS = 'cinder.api.contrib.standard_extensions'
PLUGIN_LOADER = 'cinder_backup_ext.api.loader.load'


class _FileConnector(object):
    """What os-brick would return for a volume attached on this host."""

    def disconnect_volume(self, *args, **kwargs):
        pass


class CinderTestCase(functional_helpers._FunctionalTestBase):
    """Cinder's API, scheduler, volume and backup services, plus the plugin.

    Subclasses choose the extensions (``extensions``) and may add policy
    overrides (``policy_rules``) before the API starts.
    """

    _osapi_version = '3.0'
    extensions = [STANDARD_EXTENSIONS, PLUGIN_LOADER]
    policy_rules = {}
    RESOURCE_FILTER_PATH = os.path.join(CINDER_ETC, 'resource_filters.json')

    def setUp(self):
        self.volume_dir = None
        super().setUp()
        # The plugin's table of stored sizes (revision 0002), which the
        # chain reads join; test_migration tests the migration itself.
        sizes.TABLE.create(compat.get_engine(), checkfirst=True)
        # Cinder's enforcer may have been built before the policy file
        # above was set; the next check builds it anew from that file.
        policy.reset()
        self._plug_volume_files()
        self.backup = self.start_service('backup', service_name='backup')

    def _get_flags(self):
        flags = super()._get_flags()
        state = self.useFixture(fixtures.TempDir()).path
        self.volume_dir = os.path.join(state, 'volumes')
        os.mkdir(self.volume_dir)
        flags['osapi_volume_extension'] = {'v': list(self.extensions)}
        flags['backup_driver'] = {
            'v': 'cinder.backup.drivers.posix.PosixBackupDriver'}
        flags['backup_posix_path'] = {'v': os.path.join(state, 'backups')}
        flags['backup_file_size'] = {'v': 64 * 1024}
        flags['backup_sha_block_size_bytes'] = {'v': 4096}
        if self.policy_rules:
            policy_file = os.path.join(state, 'policy.yaml')
            with open(policy_file, 'w') as f:
                for rule, check in self.policy_rules.items():
                    f.write('"%s": "%s"\n' % (rule, check))
            flags['policy_file'] = {'v': policy_file, 'g': 'oslo_policy'}
        return flags

    def _start_api_service(self):
        # The base class looks for api-paste.ini beside the cinder package;
        # the wheel installs it under <prefix>/etc/cinder. The option is
        # registered only when the WSGI loader starts, so it is set the way
        # the base class sets it.
        cfg.CONF.api_paste_config = os.path.join(CINDER_ETC, 'api-paste.ini')
        self.osapi = service.WSGIService('osapi_volume')
        self.osapi.start()
        self.auth_url = 'http://%s:%s/v%s' % (
            self.osapi.host, self.osapi.port, self.osapi_version_major)

    def stock_api(self):
        """A second API on this cloud, as Cinder serves it without us.

        Cinder reads ``osapi_volume_extension`` when it builds its router,
        so both APIs serve the same database and services side by side.
        """
        self.override_config('osapi_volume_extension', [STANDARD_EXTENSIONS])
        try:
            stock = service.WSGIService('osapi_volume')
            stock.start()
        finally:
            self.override_config('osapi_volume_extension',
                                 list(self.extensions))
        self.addCleanup(stock.stop)
        return client.TestOpenStackClient(
            self.api.auth_user, self.api.auth_key,
            'http://%s:%s/v%s' % (stock.host, stock.port,
                                  self.osapi_version_major),
            self.osapi_version)

    def keystone_api(self, project_id, roles=('member', 'reader'),
                     user_id='u-member'):
        """A second API on this cloud, as Cinder runs behind Keystone.

        Cinder's noauth pipeline makes every caller an admin, who sees
        every project. This API runs Cinder's ``keystone`` pipeline with
        Cinder's own ``keystonecontext`` middleware; only keystonemiddleware
        (``authtoken``), which would validate a token and set the identity
        headers, is left out: the client sets them. So the context is what
        a real member's token gives: not an admin unless ``roles`` say so.
        """
        paste = os.path.join(self.useFixture(fixtures.TempDir()).path,
                             'api-paste.ini')
        with open(os.path.join(CINDER_ETC, 'api-paste.ini')) as f:
            text = f.read()
        with open(paste, 'w') as f:
            f.write(text.replace(' authtoken keystonecontext ',
                                 ' keystonecontext '))
        saved = cfg.CONF.api_paste_config, cfg.CONF.auth_strategy
        self.override_config('auth_strategy', 'keystone')
        cfg.CONF.api_paste_config = paste
        try:
            api = service.WSGIService('osapi_volume')
            api.start()
        finally:
            cfg.CONF.api_paste_config = saved[0]
            self.override_config('auth_strategy', saved[1])
        self.addCleanup(api.stop)
        return IdentityClient(
            'http://%s:%s/v%s' % (api.host, api.port,
                                  self.osapi_version_major),
            self.osapi_version, user_id, project_id, roles)

    def notify_over_rabbit(self, topic, driver='cinder_backup_ext'):
        """Send Cinder's notifications through ``driver`` to RabbitMQ.

        Cinder builds its notifier the same way in ``cinder.rpc.init``.
        """
        self.override_config('driver', [driver],
                             group='oslo_messaging_notifications')
        self.override_config('topics', [topic],
                             group='oslo_messaging_notifications')
        transport = oslo_messaging.get_notification_transport(
            cfg.CONF, url=RABBIT)
        self.addCleanup(transport.cleanup)
        notifier = REAL_NOTIFIER(
            transport, serializer=rpc.RequestContextSerializer(
                oslo_messaging.JsonPayloadSerializer()))
        self.mock_object(rpc, 'NOTIFIER', notifier)
        self.mock_object(rpc, 'get_notifier', REAL_GET_NOTIFIER)

    def _plug_volume_files(self):
        """Hand the backup manager a file where it expects a device."""
        volume_dir = self.volume_dir

        def attach_volume(manager, context, volume, properties):
            # Cinder's volume service is asked for the connection as usual;
            # only os-brick's part, making a device appear, is a file here.
            conn = manager.volume_rpcapi.initialize_connection(
                context, volume, properties)
            path = os.path.join(volume_dir, volume.id)
            if not os.path.exists(path):
                with open(path, 'wb') as f:
                    f.write(os.urandom(VOLUME_BYTES))
            return {'conn': conn, 'device': {'path': path},
                    'connector': _FileConnector()}

        self.mock_object(volume_utils, 'brick_get_connector_properties',
                         return_value={'host': 'localhost', 'ip': '127.0.0.1',
                                       'initiator': 'iqn.2026-11.test:host'})
        self.mock_object(backup_manager.BackupManager, '_attach_volume',
                         attach_volume)

    # --- the HTTP API, as a cloud user drives it ---

    def create_volume(self):
        volume = self.api.post_volume({'volume': {'size': 1}})
        return self._wait(lambda: self.api.get_volume(volume['id']),
                          'available')

    def create_chain(self, length=3):
        """A volume and a chain of its backups: a full, then incrementals."""
        volume = self.create_volume()
        backups = [self.create_backup(volume['id'])]
        backups += [self.create_backup(volume['id'], incremental=True)
                    for _ in range(length - 1)]
        return volume, backups

    def create_backup(self, volume_id, incremental=False, wait=True):
        body = {'backup': {'volume_id': volume_id,
                           'incremental': incremental}}
        backup = self.api.api_post('/backups', body)['backup']
        if not wait:
            return backup
        return self._wait(lambda: self.get_backup(backup['id']), 'available')

    def get_backup(self, backup_id, api=None):
        api = api or self.api
        return api.api_get('/backups/%s' % backup_id)['backup']

    def list_backups(self, query='', api=None):
        api = api or self.api
        return api.api_get('/backups/detail' + query)['backups']

    def set_backup_columns(self, backup_id, **values):
        """Write Cinder's row directly, as drift or a crash would leave it."""
        backups = tables.BACKUPS
        with compat.get_engine().begin() as conn:
            conn.execute(backups.update()
                         .where(backups.c.id == backup_id).values(**values))

    def wait_deleted(self, backup_id):
        def get():
            try:
                return self.get_backup(backup_id)
            except client.OpenStackApiException404:
                return {'id': backup_id, 'status': 'deleted'}
        self._wait(get, 'deleted')

    def _wait(self, get, status, timeout=60):
        deadline = time.time() + timeout
        while True:
            thing = get()
            if thing['status'] == status:
                return thing
            # An error status ends the wait, unless it is the one awaited.
            if (('error' in thing['status'] and 'error' not in status)
                    or time.time() > deadline):
                self.fail('%s is %s, not %s' % (thing['id'], thing['status'],
                                                status))
            time.sleep(0.1)


class IdentityClient(client.TestOpenStackClient):
    """Cinder's test client, sending the headers Keystone's token gives."""

    def __init__(self, auth_uri, api_version, user_id, project_id, roles):
        super().__init__(user_id, None, auth_uri, api_version)
        self.project_id = project_id
        self.identity = {'X-User-Id': user_id, 'X-Project-Id': project_id,
                         'X-Roles': ','.join(roles)}

    def _authenticate(self, reauthenticate=False):
        return {'x-server-management-url': '%s/%s' % (self.auth_uri,
                                                      self.project_id),
                'x-auth-token': 'unused'}

    def request(self, url, method='GET', body=None, headers=None, **kwargs):
        headers = dict(headers or {}, **self.identity)
        return super().request(url, method=method, body=body,
                               headers=headers, **kwargs)


class ConfiguredCinder(cinder_test.TestCase):
    """Cinder configured as in its own unit tests, with its default policy.

    Cinder's test base points the policy file at Cinder's test overrides;
    here it points nowhere, so the defaults in code decide.
    """

    def setUp(self):
        super().setUp()
        self.override_config('policy_file', '/nonexistent/policy.yaml',
                             group='oslo_policy')
        policy.reset()
        self.addCleanup(policy.reset)


class StatementCounter(fixtures.Fixture):
    """Counts the SQL statements Cinder's engine sends that match a test."""

    def __init__(self, match):
        super().__init__()
        self.match = match
        self.statements = []

    def _setUp(self):
        engine = compat.get_engine()
        event.listen(engine, 'before_cursor_execute', self._seen)
        self.addCleanup(event.remove, engine, 'before_cursor_execute',
                        self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, many):
        if self.match(statement):
            self.statements.append(statement)
