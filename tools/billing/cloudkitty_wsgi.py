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

"""CloudKitty's API for gunicorn: the configuration file from CLOUDKITTY_CONF.

CloudKitty parses sys.argv as its own; this hands it the file instead.
"""

import os

from cloudkitty.api import app
from cloudkitty import service

service.prepare_service(argv=['cloudkitty-api', '--config-file',
                              os.environ['CLOUDKITTY_CONF']],
                        config_files=[])
application = app.load_app()
