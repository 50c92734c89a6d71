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


import argparse
import importlib
import importlib.metadata
import io
import json

import fixtures
from openstackclient import shell
from osc_lib.command import command
from oslotest import base

from cinder_backup_ext_client import plugin


def _entry_points(group):
    """What the installed distribution registers in ``group``."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(
        group=group) if ep.dist.name == 'cinder-backup-ext-client'}


class TestPlugin(base.BaseTestCase):

    def test_client_rides_on_oscs_sdk_proxy(self):
        proxy = object()
        instance = argparse.Namespace(
            sdk_connection=argparse.Namespace(block_storage=proxy))
        self.assertIs(proxy, plugin.make_client(instance).adapter)

    def test_no_global_option(self):
        # One version of the commands: nothing to choose.
        parser = argparse.ArgumentParser()
        self.assertIs(parser, plugin.build_option_parser(parser))
        self.assertEqual([], [action.dest for action in parser._actions
                              if action.dest != 'help'])

    def test_openstack_loads_the_commands(self):
        # OSC's own loader: our group comes from API_NAME and the default
        # version (``command list`` needs no cloud).
        out = self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', io.StringIO())).new_value
        self.assertEqual(0, shell.main(['command', 'list', '--group',
                                        'volume', '-f', 'json']))
        groups = json.loads(out.getvalue())
        self.assertEqual([{'Command Group':
                           'openstack.volume_backup_chains.v1',
                           'Commands': ['volume backup chain delete',
                                        'volume backup chain list',
                                        'volume backup chain show',
                                        'volume backup prune']}],
                         [g for g in groups if 'backup_chains' in
                          g['Command Group']])

    def test_the_distribution_registers_the_plugin_and_its_commands(self):
        self.assertEqual({'volume_backup_chains':
                          'cinder_backup_ext_client.plugin'},
                         _entry_points('openstack.cli.extension'))
        # OSC looks the commands up in openstack.<API_NAME>.v<version>.
        group = 'openstack.%s.v%s' % (plugin.API_NAME,
                                      plugin.DEFAULT_API_VERSION)
        commands = _entry_points(group)
        self.assertEqual(['volume_backup_chain_delete',
                          'volume_backup_chain_list',
                          'volume_backup_chain_show', 'volume_backup_prune'],
                         sorted(commands))
        for target in commands.values():
            module, name = target.split(':')
            cls = getattr(importlib.import_module(module), name)
            self.assertTrue(issubclass(cls, command.Command), target)
