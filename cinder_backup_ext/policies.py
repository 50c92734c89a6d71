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

"""Policy in code: who may see the backup flags and the backup chains.

Registered into Cinder's own enforcer, so operators override it in the
same policy file as Cinder's rules (``tox -e genpolicy`` renders the
sample in ``etc/policy.yaml``).
"""

from oslo_policy import policy

from cinder_backup_ext import compat

SHOW_FLAGS = 'cinder_backup_ext:backup:show_flags'
GET_CHAIN = 'cinder_backup_ext:backup_chain:get'
GET_ALL_CHAINS = 'cinder_backup_ext:backup_chain:get_all'
GET_ALL_TENANTS_CHAINS = 'cinder_backup_ext:backup_chain:get_all_tenants'
EXEMPT_FROM_CHAIN_CAP = 'cinder_backup_ext:backup:exempt_from_chain_cap'
SHOW_STORED_BYTES = 'cinder_backup_ext:backup:show_stored_bytes'

rules = [
    policy.DocumentedRuleDefault(
        name=SHOW_FLAGS,
        # Whoever may read the backup may read its flags: tempest's backup
        # tests and Ceilometer's volume poller read them as project members
        # and as service users with the admin role.
        check_str=compat.READER_CHECK,
        description=(
            'Show is_incremental and has_dependent_backups, computed from '
            'the backup rows, in backup show and detail responses. When '
            'this rule denies, both keys are removed from the response, '
            'including the values Cinder itself would return.'),
        operations=[
            {'method': 'GET', 'path': '/backups/{backup_id}'},
            {'method': 'GET', 'path': '/backups/detail'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=GET_CHAIN,
        # A chain is made of the project's backups: whoever may read them
        # (Cinder's backup:get) may read how they depend on each other.
        check_str=compat.READER_CHECK,
        description=(
            'Show the backup chain that holds a backup: its members in '
            'tree order and the order in which they can be deleted. '
            'Checked against the project of the backup.'),
        operations=[
            {'method': 'GET', 'path': '/os-backup-chains/{backup_id}'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=SHOW_STORED_BYTES,
        # As the flags: whoever may read the backup may read what it
        # stores; an operator who bills by it may hide it from members.
        check_str=compat.READER_CHECK,
        description=(
            'Show the bytes each backup stores in the backup chains '
            '(stored_bytes and stored_bytes_source of each member, the '
            'bytes a restore of it reads, the chain\'s total). When this '
            'rule denies, those keys are null. Checked against the project '
            'of the chain.'),
        operations=[
            {'method': 'GET', 'path': '/os-backup-chains/{backup_id}'},
            {'method': 'GET', 'path': '/os-backup-chains'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=GET_ALL_CHAINS,
        check_str=compat.READER_CHECK,
        description="List the backup chains of the caller's project.",
        operations=[
            {'method': 'GET', 'path': '/os-backup-chains'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=GET_ALL_TENANTS_CHAINS,
        # As Cinder's backup list: all_tenants is for admins; for anyone
        # else it is ignored and the list holds their own project.
        check_str=compat.ADMIN_CHECK,
        description=(
            'List the backup chains of every project (all_tenants=1). '
            'When this rule denies, all_tenants is ignored, as in Cinder\'s '
            'backup list.'),
        operations=[
            {'method': 'GET', 'path': '/os-backup-chains?all_tenants=1'},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=EXEMPT_FROM_CHAIN_CAP,
        # Nobody by default: the cap protects every project's restores.
        check_str='!',
        description=(
            'Create incremental backups beyond [cinder_backup_ext] '
            'max_chain_depth and max_chain_age (or their volume type extra '
            'specs): the cap does not apply to callers this rule allows, '
            'for example "role:admin".'),
        operations=[
            {'method': 'POST', 'path': '/backups'},
        ],
    ),
]


def list_rules():
    return rules
