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

"""The one module that imports Cinder's internals.

Cinder does not promise a stable Python API: 29.0.0 moved
``cinder.db.sqlalchemy.{api,models}`` to ``cinder.db.{api,models}``, for
instance. Every other module of this package reaches Cinder through the
names below, so a release that moves things again is mended here and
nowhere else. Importing this module imports Cinder, so only code that runs
inside a Cinder process (API extension, notifier lookups, CLI) uses it.
"""

from cinder.api import extensions
from cinder.api.openstack import wsgi
from cinder.api.v3 import backups as v3_backups
from cinder import context
from cinder.policies import base as policy_base
from cinder import policy

try:  # Cinder >= 29.0.0 (2026.2)
    from cinder.db import api as db_api
    from cinder.db import models
except ImportError:  # Cinder <= 28.x
    from cinder.db.sqlalchemy import api as db_api
    from cinder.db.sqlalchemy import models

ExtensionDescriptor = extensions.ExtensionDescriptor
ResourceExtension = extensions.ResourceExtension
Controller = wsgi.Controller
extends = wsgi.extends

#: The controller behind the v3 core routes for ``/backups``.
BackupsController = v3_backups.BackupsController

#: Cinder's check string for "may read this project's resources", the
#: default of ``backup:get``.
READER_CHECK = policy_base.SYSTEM_READER_OR_PROJECT_READER

#: The ``backups`` table of Cinder's schema.
BACKUPS = models.Backup.__table__


def reader(ctxt):
    """A read-only transaction on Cinder's main database, as Cinder opens it."""
    return db_api.main_context_manager.reader.using(ctxt)


def get_engine():
    return db_api.get_engine()


def admin_context():
    return context.get_admin_context()


def authorize(ctxt, rule_defaults, action, target):
    """Check ``action`` with Cinder's enforcer; never raise on a denial.

    Cinder's enforcer is created lazily and is thrown away by
    ``cinder.policy.reset()``, so registration at load time alone is not
    enough: a rule missing from the enforcer raises ``PolicyNotRegistered``
    even with ``fatal=False``. ``rule_defaults`` are (re)registered
    whenever the enforcer in use lacks them.
    """
    policy.init()
    # Not policy.get_enforcer(): that one is for the sample generators and
    # parses sys.argv.
    enforcer = policy._ENFORCER
    if action not in enforcer.registered_rules:
        enforcer.register_defaults(rule_defaults)
    return ctxt.authorize(action, target=target, fatal=False)
