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

"""The user guide shows what the client does (doc/ is not in its wheel)."""

import os

from oslotest import base

from cinder_backup_ext_client.tests import fakes
from cinder_backup_ext_client.tests import test_prune

DOC = os.path.join(os.path.dirname(__file__), '..', '..', 'doc', 'source',
                   'user', 'backup-chains.rst')


class TestPruneExample(base.BaseTestCase):
    """The guide's prune table, from the command run on its example."""

    def setUp(self):
        super().setUp()
        test_prune.use_example(self)

    def test_the_docs_table_is_what_the_command_does(self):
        _status, out, _err = test_prune.run(
            '--volume', fakes.VOLUME, '--dry-run', '-f', 'json',
            *test_prune.EXAMPLE_ARGS)
        with open(DOC) as f:
            doc = f.read()
        command = ('$ openstack volume backup prune --volume data %s '
                   '--dry-run' % ' '.join(test_prune.EXAMPLE_ARGS))
        if command not in doc:
            self.fail('the doc does not show %r' % command)
        table = test_prune.example_table(test_prune.actions(out))
        if table not in doc:
            self.fail('doc/source/user/backup-chains.rst must hold this '
                      'table:\n' + table)
