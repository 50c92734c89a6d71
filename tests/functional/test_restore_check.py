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

"""A restore that cannot read its whole chain is refused before it starts.

Through Cinder's real API and backup service: a chain of three real
backups of a volume, each broken link made in the database as a failure
or an operator would leave it, and the restore of the newest backup.
"""

import glob
import hashlib
import os
import uuid

from oslo_config import cfg

from cinder_backup_ext.db import tables
from tests.functional import base

OTHER = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0'


class TestRestoreCheck(base.CinderTestCase):

    def setUp(self):
        super().setUp()
        self.volume, (self.full, self.middle, self.leaf) = (
            self.create_chain())

    def restore(self, backup_id, api=None):
        api = api or self.api
        return api.api_request(
            '/backups/%s/restore' % backup_id, method='POST',
            body='{"restore": {"volume_id": "%s"}}' % self.volume['id'],
            check_response_status=None)

    def chain_member(self, backup_id, api=None):
        api = api or self.api
        body = api.api_get('/os-backup-chains/%s' % backup_id)
        return {m['id']: m for m in body['backup_chain']['backups']}[
            backup_id]

    def assert_refused(self, why, api=None):
        before = self.get_backup(self.leaf['id'])
        response = self.restore(self.leaf['id'], api)
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('Backup %s cannot be restored: %s.'
                      % (self.leaf['id'], why), response.text)
        # Nothing started: no restore on the backup, the volume untouched.
        self.assertEqual(before['status'],
                         self.get_backup(self.leaf['id'])['status'])
        self.assertEqual('available',
                         self.api.get_volume(self.volume['id'])['status'])

    def test_an_ancestor_in_error(self):
        self.set_backup_columns(self.full['id'], status='error')
        self.assert_refused('ancestor %s is in status error'
                            % self.full['id'])
        leaf = self.chain_member(self.leaf['id'])
        self.assertEqual((False, 'Ancestor %s is in status error.'
                          % self.full['id']),
                         (leaf['restorable'], leaf['not_restorable_reason']))

    def test_a_deleted_ancestor(self):
        self.set_backup_columns(self.middle['id'], deleted=True,
                                status='deleted')
        self.assert_refused('ancestor %s is deleted' % self.middle['id'])

    def test_a_missing_ancestor(self):
        gone = str(uuid.uuid4())
        self.set_backup_columns(self.middle['id'], parent_id=gone)
        self.assert_refused('ancestor %s no longer exists' % gone)

    def test_an_ancestor_of_another_backup_service(self):
        self.set_backup_columns(self.full['id'],
                                service='cinder.backup.drivers.swift')
        self.assert_refused(
            'ancestor %s was made by backup service '
            'cinder.backup.drivers.swift, this backup by %s'
            % (self.full['id'], self.leaf_service()))

    def test_another_projects_ancestor_is_not_named(self):
        self.set_backup_columns(self.full['id'], project_id=OTHER,
                                status='error')
        member = self.keystone_api(self.api.project_id)
        self.assert_refused('an ancestor of another project cannot be '
                            'read', api=member)
        response = self.restore(self.leaf['id'], member)
        for secret in (self.full['id'], 'error', OTHER):
            self.assertNotIn(secret, response.text)

    def test_a_sound_chain_restores(self):
        for backup in (self.full, self.middle, self.leaf):
            self.assertTrue(self.chain_member(backup['id'])['restorable'])
        checks = self.useFixture(base.StatementCounter(
            lambda statement: 'restore_up' in statement))
        response = self.restore(self.leaf['id'])
        self.assertEqual(1, len(checks.statements))
        self.assertEqual(202, response.status_code, response.text)
        self._wait(lambda: self.api.get_volume(self.volume['id']),
                   'available', timeout=120)
        self._wait(lambda: self.get_backup(self.leaf['id']), 'available')

    def test_stock_cinder_starts_what_it_cannot_finish(self):
        # What the refusal saves a user from, measured on Cinder itself: the
        # middle backup's objects lost from the backup store and the backup
        # marked error, as an operator would after noticing; the volume
        # written since the backups.
        for path in glob.glob(os.path.join(
                cfg.CONF.backup_posix_path, '**',
                '*backup_%s*' % self.middle['id']), recursive=True):
            os.remove(path)
        self.set_backup_columns(self.middle['id'], status='error')
        device = os.path.join(self.volume_dir, self.volume['id'])
        with open(device, 'wb') as f:
            f.write(os.urandom(base.VOLUME_BYTES))

        def digest():
            with open(device, 'rb') as f:
                return hashlib.sha256(f.read()).hexdigest()
        written = digest()

        # The plugin: 409 before anything is written.
        self.assert_refused('ancestor %s is in status error'
                            % self.middle['id'])
        self.assertEqual(written, digest())

        # Stock Cinder accepts the restore, writes the full backup over the
        # volume, fails at the lost link and leaves the volume in
        # error_restoring, its data replaced.
        response = self.restore(self.leaf['id'], self.stock_api())
        self.assertEqual(202, response.status_code, response.text)
        self._wait(lambda: self.api.get_volume(self.volume['id']),
                   'error_restoring')
        self.assertNotEqual(written, digest())

    def test_stock_cinder_on_an_error_status_alone(self):
        # The other side of the refusal: the middle backup marked error but
        # its objects all there. The plugin cannot tell this from a backup
        # that failed half-written and refuses; stock Cinder restores.
        self.set_backup_columns(self.middle['id'], status='error')
        self.assert_refused('ancestor %s is in status error'
                            % self.middle['id'])
        response = self.restore(self.leaf['id'], self.stock_api())
        self.assertEqual(202, response.status_code, response.text)
        self._wait(lambda: self.api.get_volume(self.volume['id']),
                   'available', timeout=120)

    def test_cinder_keeps_its_own_answers(self):
        # A backup Cinder will not restore for its own status: Cinder's
        # 400, whatever its chain.
        self.set_backup_columns(self.full['id'], status='error')
        self.set_backup_columns(self.leaf['id'], status='creating')
        response = self.restore(self.leaf['id'])
        self.assertEqual(400, response.status_code, response.text)
        stranger = self.keystone_api('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0')
        self.assertEqual(404, self.restore(self.leaf['id'],
                                           stranger).status_code)

    def leaf_service(self):
        with self.engine().connect() as conn:
            return conn.execute(
                tables.BACKUPS.select().where(
                    tables.BACKUPS.c.id == self.leaf['id'])).first().service

    @staticmethod
    def engine():
        from cinder_backup_ext import compat
        return compat.get_engine()
