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

"""A tempest service client for os-backup-chains.

The resource is an extension of Cinder's volume API, served from the same
endpoint as Cinder's backups; every body is validated against the schemas
in schemas.py (additionalProperties: false), so a key added to the
API without its schema fails the tests.
"""

from urllib import parse

from oslo_serialization import jsonutils as json
from tempest.lib.common import rest_client

from cinder_backup_ext.tempest.services import schemas


class BackupChainsClient(rest_client.RestClient):

    def list_backup_chains(self, **params):
        """A page of chains; volume_id, limit, marker, all_tenants."""
        url = 'os-backup-chains'
        if params:
            url += '?%s' % parse.urlencode(params)
        return self._get(url, schemas.list_backup_chains)

    def list_backup_chains_by_url(self, href):
        """Follow a next link of a previous page."""
        query = parse.urlsplit(href).query
        return self._get('os-backup-chains?%s' % query,
                         schemas.list_backup_chains)

    def show_backup_chain(self, backup_id):
        return self._get('os-backup-chains/%s' % backup_id,
                         schemas.show_backup_chain)

    def _get(self, url, schema):
        resp, body = self.get(url)
        body = json.loads(body)
        self.validate_response(schema, resp, body)
        return rest_client.ResponseBody(resp, body)
