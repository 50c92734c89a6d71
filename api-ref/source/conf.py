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

"""Sphinx configuration of the API reference (tox -e api-ref)."""

extensions = [
    'os_api_ref',
    'openstackdocstheme',
]

source_suffix = '.rst'
master_doc = 'index'
project = 'cinder-backup-ext API reference'
copyright = 'cinder-backup-ext developers'
exclude_patterns = ['samples']
pygments_style = 'native'

# The project is not hosted on opendev.org: no "edit on" or bug links.
openstackdocs_repo_name = ''
openstackdocs_auto_name = False
openstackdocs_pdf_link = False

html_theme = 'openstackdocs'
html_theme_options = {
    'sidebar_mode': 'toc',
}
html_title = 'cinder-backup-ext API reference'
