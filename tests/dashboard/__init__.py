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


"""Unit tests of the Horizon plugin (tox -e dashboard).

Run in the dashboard environment only, where Horizon is installed: the
default tox environments have no Horizon, and their test paths
(tests/unit, tests/functional) never reach this folder. Django is set up
with Horizon's own test settings, which read no local_settings.py.
"""

import os

import django

os.environ.setdefault('DJANGO_SETTINGS_MODULE',
                      'openstack_dashboard.test.settings')
django.setup()
