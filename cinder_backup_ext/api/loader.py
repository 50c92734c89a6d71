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

"""The name to put in cinder.conf ``osapi_volume_extension``.

Add it next to Cinder's own extensions on every API node::

    [DEFAULT]
    osapi_volume_extension = cinder.api.contrib.standard_extensions
    osapi_volume_extension = cinder_backup_ext.api.loader.load

Cinder calls ``load`` with its extension manager. ``load`` finds this
package's extensions through stevedore, under the entry-point namespace
``cinder_backup_ext.api.extensions``, and registers each. Cinder itself
only logs a WARNING when an extension fails, which operators miss; a
failure here is logged as an ERROR naming the extension and the cause.
"""

from oslo_log import log as logging
from stevedore import extension

LOG = logging.getLogger(__name__)

NAMESPACE = 'cinder_backup_ext.api.extensions'


def _import_failed(manager, entrypoint, exc):
    LOG.error('cinder-backup-ext: cannot import API extension %(name)s '
              '(%(target)s): %(exc)s',
              {'name': entrypoint.name, 'target': entrypoint.value,
               'exc': exc})


def load(ext_mgr):
    """Register every extension of this package with Cinder's manager."""
    manager = extension.ExtensionManager(
        namespace=NAMESPACE, invoke_on_load=False,
        on_load_failure_callback=_import_failed)
    for ext in manager:
        try:
            # An ExtensionDescriptor registers itself with the manager.
            ext.plugin(ext_mgr)
        except Exception:
            LOG.exception('cinder-backup-ext: API extension %s failed to '
                          'register with Cinder', ext.name)
        else:
            LOG.info('cinder-backup-ext: loaded API extension %s', ext.name)
