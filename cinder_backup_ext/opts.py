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

"""The options this package reads from cinder.conf.

Listed for ``oslo-config-generator --namespace cinder_backup_ext``
(``tox -e genconfig`` renders ``etc/cinder-backup-ext.conf.sample``).
"""

from oslo_config import cfg

GROUP = 'cinder_backup_ext'

notifier_opts = [
    cfg.ListOpt('notification_drivers',
                default=['messagingv2'],
                help='The oslo.messaging notification drivers that the '
                     'cinder_backup_ext driver forwards every notification '
                     'to, once backup notifications carry parent_id. Used '
                     'when [oslo_messaging_notifications] driver = '
                     'cinder_backup_ext.'),
    cfg.FloatOpt('notification_lookup_timeout',
                 default=0.5,
                 min=0.01,
                 help='Seconds to wait for the database when a backup '
                      'notification needs a read (a payload without '
                      'parent_id, forced_full_reason) or, in '
                      'cinder-backup, the write of the bytes a backup '
                      'stored. A failed or slow one never holds the '
                      'notification back: it is forwarded without what a '
                      'read would have added.'),
    cfg.FloatOpt('notification_lookup_backoff',
                 default=30.0,
                 min=0,
                 help='Seconds during which no lookup or write is tried '
                      'after one has failed, so that a database outage '
                      'delays no notification by more than one timeout.'),
]

flags_opts = [
    cfg.IntOpt('count_pool_size',
               default=2,
               min=0,
               help='The most connections to Cinder\'s database that each '
                    'API process opens for counting dependent backups, in '
                    'autocommit and without a ping before each use, so that '
                    'a count is one round trip. They stay open; a count '
                    'that finds them all busy waits for one, up to '
                    '[database] pool_timeout. 0 counts on Cinder\'s own '
                    'connections instead (three round trips per count).'),
]


chain_cap_opts = [
    cfg.IntOpt('max_chain_depth',
               default=0,
               min=0,
               help='The most incremental backups after a full one in a '
                    'chain. An incremental backup that would go deeper is '
                    'handled as chain_cap_action says. 0: no cap. A volume '
                    'type overrides it with the extra spec '
                    'cinder_backup_ext:max_chain_depth.'),
    cfg.IntOpt('max_chain_age',
               default=0,
               min=0,
               help='The most days after a chain\'s full backup that an '
                    'incremental backup may still join the chain. An '
                    'older chain is handled as chain_cap_action says. 0: '
                    'no cap. A volume type overrides it with the extra '
                    'spec cinder_backup_ext:max_chain_age.'),
    cfg.StrOpt('chain_cap_action',
               default='full',
               choices=[('full', 'the incremental backup request is made '
                                 'a full backup, and says why in its '
                                 'metadata and in the log'),
                        ('reject', 'the request is refused with 409; '
                                   'nothing is created')],
               help='What an incremental backup request beyond '
                    'max_chain_depth or max_chain_age gets. A volume type '
                    'overrides it with the extra spec '
                    'cinder_backup_ext:chain_cap_action.'),
]


def register_opts(conf):
    conf.register_opts(notifier_opts + flags_opts + chain_cap_opts,
                       group=GROUP)


def list_opts():
    return [(GROUP, notifier_opts + flags_opts + chain_cap_opts)]
