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


"""The Backups panel: Horizon's, with this package's views."""

import os

from cinder_backup_ext_dashboard import horizon_compat

#: Where Horizon keeps the panel's own templates (the create and restore
#: forms, the overview that ours includes).
HORIZON_TEMPLATES = os.path.join(
    os.path.dirname(horizon_compat.backups_panel.__file__), 'templates')


class Backups(horizon_compat.backups_panel.Backups):
    """Horizon's Backups panel (same slug, checks, place) on our URLs."""

    urls = 'cinder_backup_ext_dashboard.backups.urls'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Registering a panel points the template prefix 'project/backups/'
        # at the panel module's templates/ folder, if it has one. This
        # package keeps its own templates under the application's
        # templates/cinder_backup_ext/ instead, so the prefix goes on
        # naming Horizon's folder, which its create and restore forms need.
        horizon_compat.keep_template_dir(self, HORIZON_TEMPLATES)
