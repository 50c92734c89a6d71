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

"""The generated samples in etc/ must match the code."""

import os
import subprocess
import tempfile

from oslotest import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


class TestSamples(base.BaseTestCase):

    def assertCurrent(self, command, sample, tox_env):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, 'sample')
            subprocess.run(command + ['--output-file', fresh], check=True,
                           capture_output=True, cwd=ROOT)
            with open(fresh) as f:
                expected = f.read()
        with open(os.path.join(ROOT, 'etc', sample)) as f:
            self.assertEqual(expected, f.read(),
                             'etc/%s is stale: run tox -e %s'
                             % (sample, tox_env))

    def test_policy_yaml(self):
        self.assertCurrent(['oslopolicy-sample-generator', '--namespace',
                            'cinder_backup_ext'], 'policy.yaml', 'genpolicy')

    def test_config_sample(self):
        self.assertCurrent(['oslo-config-generator', '--config-file',
                            'etc/cinder-backup-ext-config-generator.conf'],
                           'cinder-backup-ext.conf.sample', 'genconfig')
