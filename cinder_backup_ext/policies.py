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

"""Policy in code: who may see the backup flags.

Registered into Cinder's own enforcer, so operators override it in the
same policy file as Cinder's rules (``tox -e genpolicy`` renders the
sample in ``etc/policy.yaml``).
"""

from oslo_policy import policy

from cinder_backup_ext import compat

SHOW_FLAGS = 'cinder_backup_ext:backup:show_flags'

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
]


def list_rules():
    return rules
