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


# Horizon's backups panel (Project -> Volumes -> Backups), replaced by
# cinder-backup-ext's subclass: the Incremental and Has dependents columns,
# Delete disabled (with the reason) on a backup others depend on, leaf-first
# batch delete, and the chain on the detail page.
#
# Copy this file into openstack_dashboard/local/enabled/ under this same
# name: Horizon then uses it instead of its own enabled/_1330_project_
# backups_panel.py (a file in local/enabled overrides the one of the same
# name in enabled/). Remove it to get Horizon's panel back.
PANEL = 'backups'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'volumes'

ADD_PANEL = 'cinder_backup_ext_dashboard.backups.panel.Backups'
ADD_INSTALLED_APPS = ['cinder_backup_ext_dashboard']
