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
import ast
import configparser
import importlib
import io
import json
import os

import fixtures
from openstackclient import shell
from osc_lib.command import command
from oslotest import base

from cinder_backup_ext.osc import plugin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PACKAGE = os.path.join(ROOT, 'cinder_backup_ext')
CLIENT_LIBRARIES = {'osc_lib', 'cliff', 'openstack', 'openstackclient'}


def _entry_points(group):
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'setup.cfg'))
    lines = config['entry_points'][group].strip().splitlines()
    return dict(line.replace(' ', '').split('=', 1) for line in lines)


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

    def test_setup_cfg_registers_the_plugin_and_its_commands(self):
        self.assertEqual({'volume_backup_chains':
                          'cinder_backup_ext.osc.plugin'},
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

    def test_client_libraries_are_imported_only_here(self):
        # Cinder's API nodes import the rest of the package without them.
        found = []
        for folder, _dirs, files in os.walk(PACKAGE):
            if (folder + os.sep).startswith(
                    os.path.join(PACKAGE, 'osc') + os.sep):
                continue
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(folder, name)
                with open(path) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        names = [node.module or '']
                    else:
                        continue
                    found += [(path, n) for n in names
                              if n.split('.')[0] in CLIENT_LIBRARIES]
        self.assertEqual([], found)
