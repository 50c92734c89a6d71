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

"""A Cinder volume driver that keeps each volume as a sparse local file.

For the local tempest cloud only (tools/local-cloud/run.sh): volumes are
attached through os-brick's "local" connector, so Cinder's backup service
reads and restores them like any block device, without iSCSI or LVM.
"""

import os
import shutil

from cinder.volume import driver
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

opts = [cfg.StrOpt('file_volume_dir', help='Where volume files live.')]
cfg.CONF.register_opts(opts, group='backend_defaults')


class FileVolumeDriver(driver.VolumeDriver):

    VERSION = '1.0.0'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(opts)
        self._dir = self.configuration.file_volume_dir

    def _path(self, volume):
        return os.path.join(self._dir, volume.id)

    def do_setup(self, context):
        os.makedirs(self._dir, exist_ok=True)

    def check_for_setup_error(self):
        pass

    def create_volume(self, volume):
        with open(self._path(volume), 'wb') as f:
            f.truncate(volume.size * 1024 ** 3)

    def delete_volume(self, volume):
        try:
            os.unlink(self._path(volume))
        except FileNotFoundError:
            pass

    def _snapshot_path(self, snapshot):
        return os.path.join(self._dir, 'snapshot-%s' % snapshot.id)

    def create_snapshot(self, snapshot):
        shutil.copyfile(self._path(snapshot.volume),
                        self._snapshot_path(snapshot))

    def delete_snapshot(self, snapshot):
        try:
            os.unlink(self._snapshot_path(snapshot))
        except FileNotFoundError:
            pass

    def create_volume_from_snapshot(self, volume, snapshot):
        shutil.copyfile(self._snapshot_path(snapshot), self._path(volume))
        if volume.size > snapshot.volume_size:
            self.extend_volume(volume, volume.size)

    def create_cloned_volume(self, volume, src_vref):
        shutil.copyfile(self._path(src_vref), self._path(volume))
        if volume.size > src_vref.size:
            self.extend_volume(volume, volume.size)

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._snapshot_path(snapshot)}}

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass

    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def initialize_connection(self, volume, connector):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._path(volume)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def extend_volume(self, volume, new_size):
        with open(self._path(volume), 'r+b') as f:
            f.truncate(new_size * 1024 ** 3)

    def _update_volume_stats(self):
        stat = os.statvfs(self._dir)
        self._stats = {
            'volume_backend_name': self.configuration.safe_get(
                'volume_backend_name') or 'file',
            'vendor_name': 'cinder-backup-ext', 'driver_version': self.VERSION,
            'storage_protocol': 'local',
            'total_capacity_gb': stat.f_blocks * stat.f_frsize // 1024 ** 3,
            'free_capacity_gb': stat.f_bavail * stat.f_frsize // 1024 ** 3,
            'reserved_percentage': 0, 'thin_provisioning_support': True,
            'max_over_subscription_ratio': 20.0,
        }
