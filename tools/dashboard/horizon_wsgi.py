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


"""Horizon as a WSGI application, with its collected static files.

gunicorn serves ``application``: Horizon's own ``openstack_dashboard.wsgi``
wrapped in WhiteNoise, which answers ``STATIC_URL`` from ``STATIC_ROOT``
(filled by ``manage.py collectstatic`` and ``compress`` before the server
starts), as a web server in front of Horizon would. Django itself serves
no static file (DEBUG is off).
"""

from django.conf import settings
from openstack_dashboard import wsgi
from whitenoise import WhiteNoise

application = WhiteNoise(wsgi.application, root=settings.STATIC_ROOT,
                         prefix=settings.STATIC_URL)
