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

"""tempest.conf options of the cinder-backup-ext tempest plugin."""

from oslo_config import cfg

group = cfg.OptGroup(name='cinder_backup_ext',
                     title='cinder-backup-ext API extension')

opts = [
    cfg.BoolOpt('extension_enabled',
                default=True,
                help='Whether cinder_backup_ext.api.loader.load is in the '
                     'cloud\'s osapi_volume_extension. When false every '
                     'test of this plugin is skipped.'),
    cfg.BoolOpt('flags_visible_to_member',
                default=True,
                help='Whether the cloud\'s policy lets a project member see '
                     'is_incremental and has_dependent_backups (rule '
                     'cinder_backup_ext:backup:show_flags; true under the '
                     'default policy).'),
    cfg.BoolOpt('chains_enabled',
                default=True,
                help='Whether the cloud serves os-backup-chains (entry '
                     'point backup_chains of cinder-backup-ext). When false '
                     'the backup chain tests are skipped.'),
    cfg.BoolOpt('stored_sizes_enabled',
                default=False,
                help='Whether every new backup of this cloud gets a stored '
                     'size: its cinder-backup runs the plugin\'s '
                     'notification driver ([oslo_messaging_notifications] '
                     'driver = cinder_backup_ext) with a chunked backup '
                     'driver (posix, NFS, Swift, S3, GCS, GlusterFS), and '
                     'its policy shows the sizes to a project member (rule '
                     'cinder_backup_ext:backup:show_stored_bytes). Elsewhere '
                     'os-backup-chains reports null sizes, so the stored '
                     'size tests are skipped unless this is true.'),
]
