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

"""cinder-backup-ext-merge-resources, the installed command.

Ceilometer's own code reads the merged file in tests/billing/ (tox -e
billing); these tests need no Ceilometer.
"""

import contextlib
import copy
import io
import os
from unittest import mock

import fixtures
from oslotest import base
import yaml

from cinder_backup_ext.cmd import merge_resources

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OURS = os.path.join(TOP, 'etc', 'ceilometer',
                    'gnocchi_resources.cinder-backup-ext.yaml')

BASE = {
    'archive_policy_default': 'ceilometer-low',
    'archive_policies': [
        {'name': 'ceilometer-low', 'aggregation_methods': ['mean']},
        {'name': 'cinder-backup-billing', 'aggregation_methods': ['old']},
    ],
    'resources': [
        {'resource_type': 'volume',
         'metrics': {'volume.size': None, 'backup.size': None},
         'attributes': {'display_name': 'resource_metadata.display_name'}},
        {'resource_type': 'image', 'metrics': ['image.size', 'backup.size']},
        {'resource_type': 'cinder_backup', 'metrics': {'stale': None}},
    ],
}


class TestMerge(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        with open(OURS) as f:
            self.ours = yaml.safe_load(f)

    def test_ours_last_and_backup_size_only_there(self):
        before = copy.deepcopy(BASE)
        merged = merge_resources.merge(BASE, self.ours)
        self.assertEqual(before, BASE)
        types = [r['resource_type'] for r in merged['resources']]
        self.assertEqual(['volume', 'image', 'cinder_backup'], types)
        self.assertEqual(self.ours['resources'][-1], merged['resources'][-1])
        self.assertEqual({'volume.size': None},
                         merged['resources'][0]['metrics'])
        # A list of metrics becomes a mapping, without backup.size.
        self.assertEqual({'image.size': None},
                         merged['resources'][1]['metrics'])
        self.assertEqual('ceilometer-low', merged['archive_policy_default'])

    def test_archive_policy_replaced_by_name(self):
        merged = merge_resources.merge(BASE, self.ours)
        names = [p['name'] for p in merged['archive_policies']]
        self.assertEqual(['ceilometer-low', 'cinder-backup-billing'], names)
        self.assertEqual(self.ours['archive_policies'][-1],
                         merged['archive_policies'][-1])


class TestOursDefault(base.BaseTestCase):

    def test_source_tree(self):
        # tox installs the package editable: no data files, so the file
        # is found in etc/ of the tree.
        with mock.patch.object(merge_resources, '_installed_ours',
                               return_value=None):
            self.assertEqual(OURS, merge_resources.ours_default())

    def test_installed_file_first(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        installed = os.path.join(tmp, merge_resources.OURS_NAME)
        with open(installed, 'w') as f:
            f.write('resources: []\n')
        path = mock.Mock()
        path.__str__ = mock.Mock(
            return_value='../../../share/cinder-backup-ext/ceilometer/'
                         + merge_resources.OURS_NAME)
        path.locate.return_value = installed
        other = mock.Mock()
        other.__str__ = mock.Mock(return_value='cinder_backup_ext/opts.py')
        dist = mock.Mock(files=[other, path])
        with mock.patch('importlib.metadata.distribution',
                        return_value=dist):
            self.assertEqual(installed, merge_resources.ours_default())

    def test_none_found(self):
        with mock.patch.object(merge_resources, '_installed_ours',
                               return_value=None), \
                mock.patch('os.path.isfile', return_value=False):
            self.assertIsNone(merge_resources.ours_default())

    def test_not_installed(self):
        with mock.patch('importlib.metadata.distribution',
                        side_effect=merge_resources.importlib.metadata.
                        PackageNotFoundError('cinder-backup-ext')):
            self.assertIsNone(merge_resources._installed_ours())


class TestMain(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.base = os.path.join(self.tmp, 'base.yaml')
        with open(self.base, 'w') as f:
            yaml.safe_dump(BASE, f)
        self.out = os.path.join(self.tmp, 'out.yaml')

    def _main(self, *argv):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            try:
                code = merge_resources.main(list(argv))
            except SystemExit as e:
                code = e.code
        return code, stdout.getvalue(), stderr.getvalue()

    def test_writes_the_merge(self):
        code, out, _err = self._main('--base', self.base, self.out)
        self.assertEqual(0, code)
        self.assertEqual('wrote %s\n' % self.out, out)
        with open(self.out) as f:
            merged = yaml.safe_load(f)
        with open(OURS) as f:
            ours = yaml.safe_load(f)
        self.assertEqual(merge_resources.merge(BASE, ours), merged)

    def test_ours_given(self):
        ours = os.path.join(self.tmp, 'ours.yaml')
        with open(ours, 'w') as f:
            yaml.safe_dump({'resources': [
                {'resource_type': 'x', 'metrics': {'backup.size': None}}]},
                f)
        code, _out, _err = self._main('--base', self.base, '--ours', ours,
                                      self.out)
        self.assertEqual(0, code)
        with open(self.out) as f:
            merged = yaml.safe_load(f)
        self.assertEqual('x', merged['resources'][-1]['resource_type'])

    def test_no_ceilometer_no_base(self):
        with mock.patch.object(merge_resources, 'ceilometer_default',
                               side_effect=ImportError('ceilometer')):
            code, _out, err = self._main(self.out)
        self.assertEqual(2, code)
        self.assertIn('give its gnocchi_resources.yaml with --base', err)
        self.assertFalse(os.path.exists(self.out))

    def test_ours_not_found(self):
        with mock.patch.object(merge_resources, 'ours_default',
                               return_value=None):
            code, _out, err = self._main('--base', self.base, self.out)
        self.assertEqual(2, code)
        self.assertIn('give it with --ours', err)
        self.assertFalse(os.path.exists(self.out))
