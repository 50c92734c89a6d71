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

"""Gnocchi's API for gunicorn: the configuration file from GNOCCHI_CONF.

gnocchi-api itself needs uwsgi; this builds the same application
(gnocchi.rest.app.load_app) with gnocchi's own prepare_service.
"""

import os

from gnocchi import opts
from gnocchi.rest import app
from gnocchi import service

opts.set_defaults()
application = app.load_app(service.prepare_service(
    args=[], default_config_files=[os.environ['GNOCCHI_CONF']]))
