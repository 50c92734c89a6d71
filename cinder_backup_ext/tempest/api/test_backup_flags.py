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

"""is_incremental and has_dependent_backups, as a cloud's users see them.

These tests assume nothing of the cloud but Cinder with backups enabled:
no particular volume or backup driver, host or policy beyond what
``[cinder_backup_ext]`` in tempest.conf says. Tempest's own backups client
validates every body against tempest's backup schemas
(``additionalProperties: false``).
"""

import json

from tempest import config
from tempest.lib.api_schema.response.volume import backups as schema
from tempest.lib import decorators
from tempest.lib import exceptions

from cinder_backup_ext.tempest.api import base

CONF = config.CONF
FLAGS = ('is_incremental', 'has_dependent_backups')


class BackupFlagsTest(base.BackupTest):
    """A chain full -> child -> grandchild, read back as a project member."""

    def flags(self, backup_id):
        body = self.backups_client.show_backup(backup_id)['backup']
        if not CONF.cinder_backup_ext.flags_visible_to_member:
            for flag in FLAGS:
                self.assertNotIn(flag, body)
            raise self.skipException('flags hidden by the cloud\'s policy, '
                                     'as configured')
        return body['is_incremental'], body['has_dependent_backups']

    @decorators.idempotent_id('5f6b0f8a-2c1e-4d8b-9b56-0e5a2f3c1a01')
    def test_chain(self):
        full = self.backup()
        self.assertEqual((False, False), self.flags(full['id']))
        child = self.backup(incremental=True)
        self.assertEqual((False, True), self.flags(full['id']))
        self.assertEqual((True, False), self.flags(child['id']))
        grandchild = self.backup(incremental=True)
        self.assertEqual((True, True), self.flags(child['id']))
        self.assertEqual((True, False), self.flags(grandchild['id']))

    @decorators.idempotent_id('5f6b0f8a-2c1e-4d8b-9b56-0e5a2f3c1a02')
    def test_delete_follows_the_flag(self):
        full = self.backup()
        child = self.backup(incremental=True)
        self.assertTrue(self.flags(full['id'])[1])
        self.assertRaises(exceptions.BadRequest,
                          self.backups_client.delete_backup, full['id'])
        self.backups_client.delete_backup(child['id'])
        self.backups_client.wait_for_resource_deletion(child['id'])
        self.assertEqual((False, False), self.flags(full['id']))
        self.backups_client.delete_backup(full['id'])
        self.backups_client.wait_for_resource_deletion(full['id'])

    @decorators.idempotent_id('5f6b0f8a-2c1e-4d8b-9b56-0e5a2f3c1a03')
    def test_detail_pages_agree_with_show(self):
        chain = [self.backup()]
        chain += [self.backup(incremental=True) for _ in range(2)]
        ids = {b['id'] for b in chain}
        seen = {}
        url = 'backups/detail?limit=1'
        while True:
            # Raw pages: Cinder adds backups_links to a limited page, which
            # tempest's list schema does not allow (stock Cinder does too).
            _resp, body = self.backups_client.get(url)
            page = json.loads(body)['backups']
            if not page:
                break
            seen.update((b['id'], b) for b in page if b['id'] in ids)
            url = 'backups/detail?limit=1&marker=%s' % page[-1]['id']
        self.assertEqual(ids, set(seen))
        for backup_id, listed in seen.items():
            flags = self.flags(backup_id)
            self.assertEqual(flags, (listed['is_incremental'],
                                     listed['has_dependent_backups']))

    @decorators.idempotent_id('5f6b0f8a-2c1e-4d8b-9b56-0e5a2f3c1a05')
    def test_member_sees_flags_as_policy_says(self):
        full = self.backup()
        shown = self.backups_client.show_backup(full['id'])['backup']
        listed = [b for b in self.backups_client.list_backups(
            detail=True)['backups'] if b['id'] == full['id']]
        visible = CONF.cinder_backup_ext.flags_visible_to_member
        for body in [shown] + listed:
            for flag in FLAGS:
                self.assertEqual(visible, flag in body, flag)

    @decorators.idempotent_id('5f6b0f8a-2c1e-4d8b-9b56-0e5a2f3c1a04')
    def test_bodies_match_tempest_schemas(self):
        full = self.backup()
        self.backup(incremental=True)
        # The client validates already; validate the raw bodies again, so a
        # client that stops validating cannot hide an extra key.
        client = self.backups_client
        for url, expected in (('backups/%s' % full['id'], schema.show_backup),
                              ('backups/detail',
                               schema.list_backups_with_detail)):
            resp, body = client.get(url)
            client.validate_response(expected, resp, json.loads(body))
