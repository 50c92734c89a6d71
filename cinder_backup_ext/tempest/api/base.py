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

"""What every test of this plugin needs: a volume and its backups."""

from tempest.api.volume import base
from tempest.common import waiters
from tempest import config
from tempest.lib.common.utils import test_utils

CONF = config.CONF


class BackupTest(base.BaseVolumeTest):
    """A volume per test, and backups of it that clean up after themselves.

    Skipped where Cinder has no backups or the plugin is not enabled.
    """

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not CONF.volume_feature_enabled.backup:
            raise cls.skipException('Cinder backup feature disabled')
        if not CONF.cinder_backup_ext.extension_enabled:
            raise cls.skipException('cinder-backup-ext is not enabled')

    def setUp(self):
        super().setUp()
        self.volume = self.create_volume()

    def backup(self, incremental=False):
        """A backup of the test volume, cleaned up unless a test deleted it.

        Cleanups run newest first, so children go before their parents.
        """
        client = self.backups_client
        backup = client.create_backup(volume_id=self.volume['id'],
                                      incremental=incremental)['backup']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        client.wait_for_resource_deletion, backup['id'])
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        client.delete_backup, backup['id'])
        waiters.wait_for_volume_resource_status(client, backup['id'],
                                                'available')
        return backup
