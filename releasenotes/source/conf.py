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

"""Sphinx configuration of the release notes (tox -e releasenotes)."""

# -- General configuration ------------------------------------------------

extensions = [
    'openstackdocstheme',
    # release-notes: releasenotes/notes/, as reno reads them from git
    'reno.sphinxext',
]

source_suffix = '.rst'
master_doc = 'index'
project = 'cinder-backup-ext Release Notes'
copyright = 'cinder-backup-ext developers'
exclude_patterns = ['_build']
pygments_style = 'native'

# -- openstackdocstheme ---------------------------------------------------

# The project is not hosted on opendev.org: no "edit on" or bug links.
openstackdocs_repo_name = ''
openstackdocs_auto_name = False
openstackdocs_pdf_link = False

# -- Options for HTML output ----------------------------------------------

html_theme = 'openstackdocs'
html_title = 'cinder-backup-ext Release Notes'
