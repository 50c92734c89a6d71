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


"""The module OpenStackClient loads through ``openstack.cli.extension``.

OSC reads the names below from every plugin: ``API_NAME`` becomes the
attribute on its client manager (``client_manager.backup_chains``, built by
``make_client`` on first use) and, with the version, the command group
``openstack.backup_chains.v1`` whose entry points are our commands.
"""

from osc_lib import utils

from cinder_backup_ext.osc import client

API_NAME = 'backup_chains'
API_VERSION_OPTION = 'os_backup_chains_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)


def make_client(instance):
    """Our client over OSC's own openstacksdk block-storage proxy.

    The proxy carries OSC's session, region, interface and endpoint
    overrides, and joins relative paths onto Cinder's project-scoped
    endpoint (``.../v3/{project_id}``), as Cinder's own resources are.
    """
    return client.ChainsClient(instance.sdk_connection.block_storage)


def build_option_parser(parser):
    """The version option every OSC plugin declares (only 1 exists)."""
    parser.add_argument(
        '--os-backup-chains-api-version',
        metavar='<backup-chains-api-version>',
        default=utils.env('OS_BACKUP_CHAINS_API_VERSION'),
        help='Backup chains API version, default=%s '
             '(Env: OS_BACKUP_CHAINS_API_VERSION)' % DEFAULT_API_VERSION)
    return parser
