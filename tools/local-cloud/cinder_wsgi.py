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

"""Cinder's own WSGI application (cinder.wsgi.api) for gunicorn.

Cinder builds its configuration from ``sys.argv[1:]`` when the module is
imported, as uWSGI's ``pyargv`` or mod_wsgi's empty argv provide it; under
gunicorn argv holds gunicorn's own options, so they are replaced by the
files named in CBE_CINDER_ARGS (run.sh sets ``--config-file`` and
``--log-file``). gunicorn imports this module in each worker after the
fork (no ``--preload``), so every worker builds its own app and loads the
API extensions itself.
"""

import os
import shlex
import sys

sys.argv = sys.argv[:1] + shlex.split(os.environ.get('CBE_CINDER_ARGS', ''))

from cinder.wsgi.api import application  # noqa: E402,F401
