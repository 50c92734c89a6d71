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

"""os-backup-chains, as a cloud's project members and admins see it.

Like the backup flags tests, these assume nothing but Cinder with backups
enabled and the plugin's API extension; [cinder_backup_ext]
chains_enabled = false skips them on a cloud without the resource, and
the stored size test runs only with stored_sizes_enabled = true. The
client validates every body against strict schemas
(additionalProperties: false).
"""

import base64
import json

from oslo_utils import uuidutils
from tempest.common import waiters
from tempest import config
from tempest.lib.common.utils import test_utils
from tempest.lib import decorators
from tempest.lib import exceptions

from cinder_backup_ext.tempest.api import base
from cinder_backup_ext.tempest.services import backup_chains_client

CONF = config.CONF


class _ChainsTest(base.BackupTest):
    """Skipped without the resource; ``chains_client`` as the owner."""

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not CONF.cinder_backup_ext.chains_enabled:
            raise cls.skipException('os-backup-chains is not enabled')

    @classmethod
    def chains_client_of(cls, credentials):
        return backup_chains_client.BackupChainsClient(
            credentials.auth_provider,
            **config.service_client_config('volume'))

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.chains_client = cls.chains_client_of(cls.os_primary)


class BackupChainsTest(_ChainsTest):
    """A chain full -> child -> grandchild of one volume, as its owner."""

    credentials = ['primary', 'alt']

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.alt_chains_client = cls.chains_client_of(cls.os_alt)

    def chain_of_three(self):
        return [self.backup(), self.backup(incremental=True),
                self.backup(incremental=True)]

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b01')
    def test_show(self):
        full, child, grandchild = ids = [b['id'] for b in
                                         self.chain_of_three()]
        chain = self.chains_client.show_backup_chain(child)['backup_chain']
        self.assertEqual(full, chain['id'])
        self.assertEqual(self.volume['id'], chain['volume_id'])
        self.assertFalse(chain['is_orphan'])
        self.assertEqual((3, 2), (chain['backup_count'], chain['depth']))
        self.assertEqual(grandchild, chain['newest_backup_id'])
        self.assertEqual({'available': 3}, chain['statuses'])
        self.assertEqual(ids, [b['id'] for b in chain['backups']])
        self.assertEqual([None, full, child],
                         [b['parent_id'] for b in chain['backups']])
        self.assertEqual([False, False, True],
                         [b['deletable'] for b in chain['backups']])
        self.assertEqual([grandchild, child], chain['delete_order'])

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b02')
    def test_delete_order_is_accepted(self):
        full = self.chain_of_three()[0]['id']
        chain = self.chains_client.show_backup_chain(full)['backup_chain']
        for member in chain['backups']:
            if not member['deletable']:
                self.assertRaises(exceptions.BadRequest,
                                  self.backups_client.delete_backup,
                                  member['id'])
        for backup_id in chain['delete_order']:
            self.backups_client.delete_backup(backup_id)
            self.backups_client.wait_for_resource_deletion(backup_id)
        self.assertRaises(exceptions.NotFound,
                          self.chains_client.show_backup_chain, full)

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b03')
    def test_list_by_volume_and_pages(self):
        first = self.backup()
        self.backup(incremental=True)
        second = self.backup()  # a new full backup starts a new chain
        listed = self.chains_client.list_backup_chains(
            volume_id=self.volume['id'])['backup_chains']
        self.assertEqual([second['id'], first['id']],
                         [c['id'] for c in listed])
        self.assertEqual([1, 2], [c['backup_count'] for c in listed])
        page = self.chains_client.list_backup_chains(
            volume_id=self.volume['id'], limit=1)
        self.assertEqual([second['id']],
                         [c['id'] for c in page['backup_chains']])
        link, = page['backup_chains_links']
        page = self.chains_client.list_backup_chains_by_url(link['href'])
        self.assertEqual([first['id']],
                         [c['id'] for c in page['backup_chains']])

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b04')
    def test_other_projects_and_bad_requests(self):
        full = self.backup()
        self.assertRaises(exceptions.NotFound,
                          self.alt_chains_client.show_backup_chain,
                          full['id'])
        self.assertNotIn(full['id'], [
            c['id'] for c in self.alt_chains_client.list_backup_chains(
                all_tenants=1)['backup_chains']])
        for params in ({'limit': 0}, {'limit': 'abc'},
                       {'marker': full['id'] + 'x'},
                       {'volume_id': 'not-a-uuid'}):
            self.assertRaises(exceptions.BadRequest,
                              self.chains_client.list_backup_chains,
                              **params)
        self.assertRaises(exceptions.BadRequest,
                          self.chains_client.show_backup_chain, 'nope')


class StoredSizesTest(_ChainsTest):
    """What each backup of a new chain stores, as its owner reads it.

    Measured inside cinder-backup by the plugin's notification driver from
    the chunked backup driver's last progress event, so only a cloud that
    runs both has sizes: [cinder_backup_ext] stored_sizes_enabled = true
    says this one does (elsewhere the sizes are null, as documented).
    """

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not CONF.cinder_backup_ext.stored_sizes_enabled:
            raise cls.skipException(
                'stored sizes are not enabled ([cinder_backup_ext] '
                'stored_sizes_enabled)')

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b06')
    def test_full_and_incremental(self):
        full = self.backup()
        child = self.backup(incremental=True)
        chain = self.chains_client.show_backup_chain(child['id'])[
            'backup_chain']
        members = chain['backups']
        self.assertEqual([full['id'], child['id']],
                         [m['id'] for m in members])
        stored = [m['stored_bytes'] for m in members]
        # Integers, not null (unknown) and not JSON's true or false.
        self.assertEqual([int, int], [type(n) for n in stored])
        self.assertEqual(['progress', 'progress'],
                         [m['stored_bytes_source'] for m in members])
        # A chunked driver's full backup reads and lists every byte of the
        # volume; nothing wrote to the volume since, so the incremental
        # wrote nothing: 0, which is known, not null.
        self.assertEqual([self.volume['size'] * 1024 ** 3, 0], stored)
        self.assertEqual([stored[0], stored[0] + stored[1]],
                         [m['restore_bytes'] for m in members])
        self.assertEqual((sum(stored), 0), (chain['stored_bytes'],
                                            chain['unmeasured_backup_count']))
        listed = self.chains_client.list_backup_chains(
            volume_id=self.volume['id'])['backup_chains']
        self.assertEqual([(full['id'], sum(stored), 0)],
                         [(c['id'], c['stored_bytes'],
                           c['unmeasured_backup_count']) for c in listed])


class CrossProjectDeleteTest(_ChainsTest):
    """A delete that would orphan another project's incremental is refused.

    Cinder 24.5 and later pick an incremental's parent among the caller's
    own backups, so such a chain cannot be made by creating backups; older
    releases made them, and an upgraded cloud keeps them. An admin can
    still make one: import a backup record whose parent is a member's
    backup. The imported backup belongs to the admin's project and names a
    container of its own, so deleting it touches none of the member's
    data. Skipped with the reason where the cloud refuses the import.
    """

    credentials = ['primary', 'admin']

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.admin_backups_client = cls.os_admin.backups_client_latest

    def admin_child_of(self, parent):
        """An admin project's backup whose parent is ``parent``."""
        admin = self.admin_backups_client
        try:
            record = admin.export_backup(parent['id'])['backup-record']
        except exceptions.Forbidden as exc:
            raise self.skipException(
                'this cloud does not let its admin export backup records, '
                'so no cross-project chain can be made here: %s' % exc)
        fields = json.loads(base64.b64decode(record['backup_url']))
        child_id = uuidutils.generate_uuid()
        fields.update(id=child_id, parent_id=parent['id'],
                      container='cbe-tempest-%s' % child_id)
        try:
            admin.import_backup(
                backup_service=record['backup_service'],
                backup_url=base64.b64encode(
                    json.dumps(fields).encode()).decode())
        except (exceptions.Forbidden, exceptions.BadRequest) as exc:
            raise self.skipException(
                'this cloud refuses to import a backup record, so no '
                'cross-project chain can be made here: %s' % exc)
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        admin.wait_for_resource_deletion, child_id)
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        admin.delete_backup, child_id)
        waiters.wait_for_volume_resource_status(admin, child_id,
                                                'available')
        return child_id

    @decorators.idempotent_id('a3c2e1f0-7b5d-4c1e-9f3a-6d2b8e4c0b05')
    def test_delete_that_orphans_another_project_is_refused(self):
        full = self.backup()
        child_id = self.admin_child_of(full)
        # The member sees that something depends on its backup, not what.
        self.assertTrue(self.backups_client.show_backup(full['id'])[
            'backup']['has_dependent_backups'])
        chain = self.chains_client.show_backup_chain(full['id'])[
            'backup_chain']
        self.assertEqual([full['id']], [b['id'] for b in chain['backups']])
        self.assertEqual(1, chain['hidden_backup_count'])
        self.assertFalse(chain['backups'][0]['deletable'])
        self.assertNotIn(child_id, json.dumps(chain))
        error = self.assertRaises(exceptions.BadRequest,
                                  self.backups_client.delete_backup,
                                  full['id'])
        self.assertIn('Incremental backups exist for this backup',
                      str(error))
        # Once the other project's incremental is gone, the delete goes.
        self.admin_backups_client.delete_backup(child_id)
        self.admin_backups_client.wait_for_resource_deletion(child_id)
        self.backups_client.delete_backup(full['id'])
        self.backups_client.wait_for_resource_deletion(full['id'])
