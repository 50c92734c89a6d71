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

OSC reads exactly these from every plugin module (``openstackclient.shell``
``_load_plugins`` and ``openstackclient.common.clientmanager``):

- ``API_NAME``: the attribute on its client manager
  (``client_manager.volume_backup_chains``, built by ``make_client`` on
  first use)
  and, with the version, the entry point group of our commands,
  ``openstack.volume_backup_chains.v1``. ``openstack command list --group
  volume`` shows the groups whose name holds "volume": so does ours;
- ``API_VERSION_OPTION``: the key OSC reads the version from in the cloud
  config; OSC uses it unconditionally, so it must exist;
- ``DEFAULT_API_VERSION``: that version when nothing sets it; without it
  OSC would look for the group
  ``openstack.volume_backup_chains.vNone``;
- ``build_option_parser``: called for every plugin. There is one version
  of these commands, so it adds no option.
"""

from cinder_backup_ext_client import client

API_NAME = 'volume_backup_chains'
API_VERSION_OPTION = 'os_backup_chains_api_version'
DEFAULT_API_VERSION = '1'


def make_client(instance):
    """Our client over OSC's own openstacksdk block-storage proxy.

    The proxy carries OSC's session, region, interface and endpoint
    overrides, and joins relative paths onto Cinder's project-scoped
    endpoint (``.../v3/{project_id}``), as Cinder's own resources are.
    """
    return client.ChainsClient(instance.sdk_connection.block_storage)


def build_option_parser(parser):
    """No global option: OSC calls this for every plugin."""
    return parser
