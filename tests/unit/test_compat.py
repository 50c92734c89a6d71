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

"""What compat.py relies on is still where Cinder keeps it.

compat.py is the one module that reaches into Cinder; when a release moves
one of these names, this test fails and says which.
"""

import inspect

from cinder.api import common
from cinder import policy
from oslotest import base
import routes

from cinder_backup_ext import compat


class CinderInternalsTest(base.BaseTestCase):

    def test_the_lazy_names_import(self):
        for name in compat._LAZY:
            self.assertIsNotNone(getattr(compat, name), name)

    def test_the_private_names(self):
        self.assertEqual(['self', 'request', 'identifier', 'collection_name'],
                         list(inspect.signature(
                             common.ViewBuilder._get_next_link).parameters))
        # The enforcer policy.init() creates, and reset() throws away.
        self.assertIn('_ENFORCER', vars(policy))
        self.assertIsInstance(routes.Mapper().matchlist, list)

    def test_the_object_store_drivers(self):
        # backup_driver and backup_metadata: Swift connects in
        # initialize(), and every chunked driver reads a backup's object
        # list with _read_metadata(backup).
        from cinder.backup import chunkeddriver
        from cinder.backup.drivers import swift
        self.assertEqual(['self'], list(inspect.signature(
            swift.SwiftBackupDriver.initialize).parameters))
        self.assertEqual(['self', 'backup'], list(inspect.signature(
            chunkeddriver.ChunkedBackupDriver._read_metadata).parameters))

    def test_the_user_context_rule(self):
        from cinder import context
        self.assertTrue(compat.sees_every_project(
            context.RequestContext('u', 'p', is_admin=True)))
        self.assertFalse(compat.sees_every_project(
            context.RequestContext('u', 'p', is_admin=False)))
