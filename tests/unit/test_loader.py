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

"""The osapi_volume_extension loader: what an operator sees in the log."""

import logging
from unittest import mock

import fixtures
from oslotest import base
from stevedore import extension

from cinder_backup_ext.api import loader


REAL_MANAGER = extension.ExtensionManager


class _Registers(object):
    def __init__(self, ext_mgr):
        ext_mgr.register(self)


class _Explodes(object):
    def __init__(self, ext_mgr):
        raise RuntimeError('cinder moved something')


class TestLoad(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.INFO, format='%(levelname)s %(message)s'))
        self.ext_mgr = mock.Mock()

    def load(self, *plugins, broken=()):
        """Run load() on these (name, class) plugins.

        ``broken`` names entry points that fail to import: the factory
        reports them the way stevedore does, through the callback.
        """
        def manager(namespace, invoke_on_load, on_load_failure_callback):
            self.assertEqual(loader.NAMESPACE, namespace)
            fake = REAL_MANAGER.make_test_instance(
                [extension.Extension(name, None, plugin, None)
                 for name, plugin in plugins])
            for name in broken:
                entrypoint = mock.Mock(value='cinder_backup_ext.api.%s:X'
                                       % name)
                entrypoint.name = name
                on_load_failure_callback(
                    fake, entrypoint,
                    ImportError('No module named %s' % name))
            return fake

        self.useFixture(fixtures.MockPatchObject(
            extension, 'ExtensionManager', side_effect=manager))
        loader.load(self.ext_mgr)

    def test_registers_every_extension(self):
        self.load(('one', _Registers), ('two', _Registers))
        self.assertEqual(2, self.ext_mgr.register.call_count)

    def test_a_failing_extension_is_an_error_and_spares_the_others(self):
        self.load(('bad', _Explodes), ('good', _Registers))
        self.assertEqual(1, self.ext_mgr.register.call_count)
        self.assertIn('ERROR', self.log.output)
        self.assertIn('bad', self.log.output)
        self.assertIn('cinder moved something', self.log.output)

    def test_an_unimportable_extension_is_an_error(self):
        self.load(('good', _Registers), broken=('gone',))
        self.assertEqual(1, self.ext_mgr.register.call_count)
        self.assertIn('ERROR cinder-backup-ext: cannot import API extension '
                      'gone (cinder_backup_ext.api.gone:X): No module named '
                      'gone', self.log.output)

    def test_the_real_entry_point_is_registered(self):
        names = extension.ExtensionManager(loader.NAMESPACE).names()
        self.assertIn('backup_flags', names)
