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

"""Cinder's schema on real SQLite, MariaDB and PostgreSQL servers.

The servers are found the way oslo.db's own tests find them: the
``openstack_citest`` user and database (``tools/test-setup.sh`` creates
them), or ``OS_TEST_DBAPI_ADMIN_CONNECTION``; each test class gets a fresh
database of its own. A test skips, saying why, only when a server is absent,
and fails instead where ``CBE_REQUIRE_SERVERS`` is set (CI sets it: its
servers must be there). The schema is built by Cinder's own migrations
(``cinder-manage db sync``). The rows the tests put in them come from
``tools/testbed.py``, which the benchmarks and the Galera job share.
"""

import os

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import testtools

from cinder_backup_ext import compat

ENGINES = {
    'sqlite': test_fixtures.OpportunisticDbFixture,
    'mysql': test_fixtures.MySQLOpportunisticFixture,
    'postgresql': test_fixtures.PostgresqlOpportunisticFixture,
}


class CinderSchemaTestCase(test_fixtures.OpportunisticDBTestMixin,
                           testtools.TestCase):
    """A test with ``self.engine`` on a new database with Cinder's schema."""

    cinder_schema = True

    def skipTest(self, reason):
        # oslo.db's fixture skips when it cannot reach the server.
        if os.environ.get('CBE_REQUIRE_SERVERS') and 'unavailable' in reason:
            self.fail('%s (CBE_REQUIRE_SERVERS is set: the server must be '
                      'there; run tools/test-setup.sh)' % reason)
        super().skipTest(reason)

    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()
        if self.cinder_schema:
            compat.db_sync(self.engine)


def for_each_engine(cls=None, engines=tuple(ENGINES)):
    """Make one concrete test class per engine from a mixin."""
    if cls is None:
        return lambda cls: for_each_engine(cls, engines)
    module = __import__(cls.__module__, fromlist=['_'])
    for name in engines:
        fixture = ENGINES[name]
        concrete = type('%s_%s' % (cls.__name__, name),
                        (cls, CinderSchemaTestCase), {'FIXTURE': fixture})
        concrete.__module__ = cls.__module__
        setattr(module, concrete.__name__, concrete)
    return cls
