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

"""tools/glusterfs.py removes what the job made outside its folder, only.

GlusterFS writes into shared system folders (its logs, its sockets); the
job must leave them as it found them. tox -e backends runs the real thing.
"""

import os
import tempfile
import unittest
from unittest import mock

from tools import glusterfs


class CleanUpTest(unittest.TestCase):

    def test_only_new_paths_go(self):
        top = tempfile.mkdtemp()
        self.addCleanup(lambda: os.path.isdir(top) and os.rmdir(top))
        logs, socket_file = os.path.join(top, 'logs'), os.path.join(top, 's')
        os.makedirs(os.path.join(logs, 'bricks'))
        old = os.path.join(logs, 'cli.log')
        open(old, 'w').close()
        with mock.patch.object(glusterfs, 'OUTSIDE', (logs, socket_file)):
            before = glusterfs._paths()
            new = [os.path.join(logs, 'bricks', 'b.log'),
                   os.path.join(logs, 'snaps', 'vol', 'x'), socket_file]
            for path in new:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, 'w').close()
            with mock.patch.object(glusterfs.harness, 'log'):
                glusterfs._clean_up(os.path.join(top, 'work'), before)
            self.assertEqual(before, glusterfs._paths())
        self.assertTrue(os.path.exists(old))
        self.assertFalse(os.path.exists(os.path.join(logs, 'snaps')))
        for path in (old, os.path.join(logs, 'bricks'), logs):
            (os.rmdir if os.path.isdir(path) else os.remove)(path)
