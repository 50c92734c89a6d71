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

"""The one module of the dashboard plugin that reaches into Horizon.

Horizon promises no Python API to plugins that extend its own panels: the
project Backups panel, table, tabs and views this plugin builds on, and
the few private names below, can move in any release. The plugin is
written against the Horizon releases ``setup.cfg`` allows; a release that
moves something is mended here, and ``tests/dashboard/test_horizon_compat``
fails first.
"""

import os

from horizon import loaders
from openstack_dashboard.api import cinder  # noqa: F401 (re-exported)
from openstack_dashboard.dashboards.project.backups import (  # noqa: F401
    panel as backups_panel)
from openstack_dashboard.dashboards.project.backups import (  # noqa: F401
    tables as backups_tables)
from openstack_dashboard.dashboards.project.backups import (  # noqa: F401
    tabs as backups_tabs)
from openstack_dashboard.dashboards.project.backups import (  # noqa: F401
    views as backups_views)


def action_allowed(table, action, request, datum):
    """Horizon's own per-row verdict on ``action`` (allowed() and policy).

    A table action's ``handle`` receives ids only; Horizon decides per row
    in ``DataTable._filter_action``, and a delete must obey the same.
    """
    return table._filter_action(action, request, datum)


def keep_template_dir(panel, directory):
    """Point ``panel``'s template prefix at ``directory``.

    Registering a panel points the prefix '<dashboard>/<panel>/' at the
    panel module's templates/ folder, if it has one; Horizon keeps that map
    in ``loaders.panel_template_dirs`` and the dashboard in
    ``panel._registered_with``.
    """
    key = os.path.join(panel._registered_with.slug, panel.slug)
    loaders.panel_template_dirs[key] = directory
