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

"""Response schemas of os-backup-chains, strict as tempest's own."""

import copy

from tempest.lib.api_schema.response.compute.v2_1 import parameter_types

_uuid = {'type': 'string', 'format': 'uuid'}
_count = {'type': 'integer', 'minimum': 0}
# Bytes, or null: not known, or hidden by the show_stored_bytes rule.
_bytes = {'type': ['integer', 'null'], 'minimum': 0}

_summary_properties = {
    'id': _uuid,
    'volume_id': _uuid,
    'project_id': {'type': 'string'},
    'is_orphan': {'type': 'boolean'},
    'parent_hidden': {'type': 'boolean'},
    'hidden_backup_count': _count,
    'backup_count': {'type': 'integer', 'minimum': 1},
    'depth': _count,
    'size': _count,
    'created_at': parameter_types.date_time,
    'newest_backup_id': _uuid,
    'newest_created_at': parameter_types.date_time,
    'statuses': {
        'type': 'object',
        'additionalProperties': {'type': 'integer', 'minimum': 1},
    },
    'stored_bytes': _bytes,
    'unmeasured_backup_count': {'type': ['integer', 'null'], 'minimum': 0},
}

summary = {
    'type': 'object',
    'properties': _summary_properties,
    'additionalProperties': False,
    'required': sorted(_summary_properties),
}

member = {
    'type': 'object',
    'properties': {
        'id': _uuid,
        'name': {'type': ['string', 'null']},
        'parent_id': {'type': ['string', 'null'], 'format': 'uuid'},
        'depth': _count,
        'status': {'type': 'string'},
        'size': {'type': ['integer', 'null']},
        'created_at': parameter_types.date_time,
        'is_incremental': {'type': 'boolean'},
        'has_dependent_backups': {'type': 'boolean'},
        'deletable': {'type': 'boolean'},
        'not_deletable_reason': {'type': ['string', 'null']},
        'hidden_dependent_count': _count,
        'restorable': {'type': 'boolean'},
        'not_restorable_reason': {'type': ['string', 'null']},
        'stored_bytes': _bytes,
        'stored_bytes_source': {
            'enum': ['progress', 'measure', 'ceph-diff', None]},
        'restore_bytes': _bytes,
    },
    'additionalProperties': False,
    'required': ['id', 'name', 'parent_id', 'depth', 'status', 'size',
                 'created_at', 'is_incremental', 'has_dependent_backups',
                 'deletable', 'not_deletable_reason',
                 'hidden_dependent_count', 'restorable',
                 'not_restorable_reason', 'stored_bytes',
                 'stored_bytes_source', 'restore_bytes'],
}

_chain = copy.deepcopy(summary)
_chain['properties'].update({
    'backups': {'type': 'array', 'items': member, 'minItems': 1},
    'delete_order': {'type': 'array', 'items': _uuid, 'minItems': 1},
})
_chain['required'] += ['backups', 'delete_order']

show_backup_chain = {
    'status_code': [200],
    'response_body': {
        'type': 'object',
        'properties': {'backup_chain': _chain},
        'additionalProperties': False,
        'required': ['backup_chain'],
    },
}

list_backup_chains = {
    'status_code': [200],
    'response_body': {
        'type': 'object',
        'properties': {
            'backup_chains': {'type': 'array', 'items': summary},
            'backup_chains_links': parameter_types.links,
        },
        'additionalProperties': False,
        'required': ['backup_chains'],
    },
}
