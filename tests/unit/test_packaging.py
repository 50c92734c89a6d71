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

"""What the package declares and what its wheel installs.

The wheel is built once, from a copy of the files it is made of (so
nothing is written into the tree), by pbr's backend as pip runs it:
about 10 s. An editable install (tox's) has no data files, which is why
the wheel itself is inspected.
"""

import ast
import configparser
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from oslotest import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SHARE = 'share/cinder-backup-ext'
VERSION = '1.2.3'
# etc/ files that are for developers (tox -e genconfig, genpolicy).
NOT_SHIPPED = {'cinder-backup-ext-config-generator.conf',
               'cinder-backup-ext-policy-generator.conf'}
CONSOLE_SCRIPTS = {
    'cinder-backup-ext-manage': 'cinder_backup_ext.cmd.manage:main',
    'cinder-backup-ext-status': 'cinder_backup_ext.cmd.status:main',
    'cinder-backup-ext-merge-resources':
        'cinder_backup_ext.cmd.merge_resources:main',
}
# The distributions built from this repository: folder -> package. Each has
# its own setup.cfg and requirements.txt.
DISTRIBUTIONS = {'.': 'cinder_backup_ext',
                 'chains': 'cinder_backup_ext_chains',
                 'client': 'cinder_backup_ext_client',
                 'dashboard': 'cinder_backup_ext_dashboard'}
# Parts of a package whose imports are not its requirements: tempest loads
# the tempest plugin (setup.cfg says why tempest is not listed); the tests'
# libraries are in the tox environments that run them.
NOT_INSTALLED_WITH = {'tempest', 'tests'}
# Imports that are not requirements, and why.
NOT_REQUIRED = {
    'cinder': 'the platform; see requirements.txt',
    'os_brick': "Cinder's own dependency, through compat.py",
    # Only without --base, on a node where Ceilometer is installed.
    'ceilometer': 'cinder-backup-ext-merge-resources, optional',
    # Ceph's bindings come from the distribution (python3-rados,
    # python3-rbd), as for Cinder's own RBD drivers: backups measure
    # imports them only for a Ceph backup.
    'rados': 'Ceph backups only, from the distribution',
    'rbd': 'Ceph backups only, from the distribution',
}
# The distribution of a module, where the test environment may not have it
# installed (the dashboard's are only in its own tox environments).
KNOWN_DISTS = {'django': 'Django', 'horizon': 'horizon',
               'openstack_dashboard': 'horizon',
               'cinderclient': 'python-cinderclient',
               'cinder_backup_ext_chains': 'cinder-backup-ext-chains'}


def _setup_cfg(folder='.'):
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(TOP, folder, 'setup.cfg'))
    return cfg


def _lines(value):
    return [line.strip() for line in value.splitlines()
            if line.strip() and not line.strip().startswith('#')]


def _req_name(line):
    name = re.split(r'[<>=!~;\s\[#]', line.strip(), maxsplit=1)[0]
    return _canonical(name)


def _canonical(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def _etc_files():
    """Every shipped etc/ file, relative to etc/ ('ceilometer/x.yaml')."""
    found = set()
    etc = os.path.join(TOP, 'etc')
    for root, _dirs, files in os.walk(etc):
        for name in files:
            if name not in NOT_SHIPPED:
                found.add(os.path.relpath(os.path.join(root, name), etc)
                          .replace(os.sep, '/'))
    return found


def _imports(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split('.')[0]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            yield node.module.split('.')[0]


class TestDeclarations(base.BaseTestCase):

    def test_python_requires_matches_the_classifiers(self):
        for folder in DISTRIBUTIONS:
            meta = _setup_cfg(folder)['metadata']
            floor = re.fullmatch(r'>=\s*3\.(\d+)',
                                 meta['python_requires'].strip())
            self.assertIsNotNone(floor, 'python_requires: a lower bound only')
            minors = sorted(
                int(m) for m in re.findall(r'Programming Language :: Python '
                                           r':: 3\.(\d+)', meta['classifier']))
            self.assertTrue(minors)
            # The lowest version listed is the lowest accepted, none is
            # missing in between, and the Python running the tests is one.
            self.assertEqual(int(floor.group(1)), minors[0], folder)
            self.assertEqual(list(range(minors[0], minors[-1] + 1)), minors)
            self.assertIn(sys.version_info.minor, minors)

    def test_console_scripts(self):
        scripts = dict(
            (k.strip(), v.strip()) for k, v in (
                line.split('=', 1) for line in _lines(
                    _setup_cfg()['entry_points']['console_scripts'])))
        self.assertEqual(CONSOLE_SCRIPTS, scripts)
        for target in scripts.values():
            module, func = target.split(':')
            self.assertTrue(callable(
                getattr(importlib.import_module(module), func)))

    def test_every_import_is_a_requirement(self):
        dists = importlib.metadata.packages_distributions()
        stdlib = sys.stdlib_module_names
        missing = []
        for folder, package_name in DISTRIBUTIONS.items():
            with open(os.path.join(TOP, folder, 'requirements.txt')) as f:
                allowed = {_req_name(line) for line in _lines(f.read())}
            package = os.path.join(TOP, folder, package_name)
            for root, _dirs, files in os.walk(package):
                part = os.path.relpath(root, package).split(os.sep)[0]
                if part in NOT_INSTALLED_WITH:
                    continue
                for name in files:
                    if not name.endswith('.py'):
                        continue
                    path = os.path.join(root, name)
                    for module in set(_imports(path)):
                        if (module in stdlib or module in NOT_REQUIRED
                                or module == package_name):
                            continue
                        candidates = (dists.get(module)
                                      or [KNOWN_DISTS.get(module, '?')])
                        if not {_canonical(d) for d in candidates} & allowed:
                            missing.append('%s imports %s (%s)' % (
                                os.path.relpath(path, TOP), module,
                                ', '.join(candidates)))
        self.assertEqual([], missing)

    def test_every_etc_file_is_a_data_file(self):
        listed = {}
        target = None
        for line in _lines(_setup_cfg()['files']['data_files']):
            if line.endswith('='):
                target = line[:-1].strip()
                continue
            self.assertIsNotNone(target, line)
            listed[line] = target
        expected = {'etc/' + f: (SHARE + '/' + os.path.dirname(f)).rstrip('/')
                    for f in _etc_files()}
        self.assertEqual(expected, listed)


class TestWheel(base.BaseTestCase):
    """The wheel that pip builds from the tree, as an operator gets it."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='cbe-wheel-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def _build(self):
        src = os.path.join(self.tmp, 'src')
        os.mkdir(src)
        for name in ('setup.py', 'setup.cfg', 'pyproject.toml', 'README.md',
                     'LICENSE', 'requirements.txt'):
            shutil.copy(os.path.join(TOP, name), src)
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for name in ('etc', 'cinder_backup_ext'):
            shutil.copytree(os.path.join(TOP, name), os.path.join(src, name),
                            ignore=ignore)
        out = os.path.join(self.tmp, 'out')
        # No .git in the copy: pbr takes the version from PBR_VERSION. pip
        # installs the build requirements of pyproject.toml, as tox does.
        env = dict(os.environ, PBR_VERSION=VERSION)
        proc = subprocess.run(
            [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q',
             '--disable-pip-version-check', '-w', out, src],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.assertEqual(0, proc.returncode,
                         'pip wheel failed:\n' + proc.stdout[-4000:])
        [name] = os.listdir(out)
        return zipfile.ZipFile(os.path.join(out, name))

    # One test, so that the wheel is built once whatever the concurrency.
    def test_wheel(self):
        with self._build() as zf:
            names = set(zf.namelist())
            info = 'cinder_backup_ext-%s.dist-info/' % VERSION
            metadata = zf.read(info + 'METADATA').decode()
            entry_points = zf.read(info + 'entry_points.txt').decode()

        # The etc/ files, under <prefix>/share/cinder-backup-ext/.
        data = 'cinder_backup_ext-%s.data/data/' % VERSION
        shipped = {n[len(data):] for n in names if n.startswith(data)}
        self.assertEqual({SHARE + '/' + f for f in _etc_files()}, shipped)
        self.assertIn(SHARE + '/policy.yaml', shipped)
        self.assertIn(SHARE + '/cinder-backup-ext.conf.sample', shipped)

        cfg = configparser.ConfigParser()
        cfg.read_string(entry_points)
        self.assertEqual(CONSOLE_SCRIPTS, dict(cfg['console_scripts']))
        self.assertIn('cinder_backup_ext/cmd/merge_resources.py', names)

        # dist-info/licenses/ since setuptools 77 (metadata 2.4).
        self.assertTrue({info + 'LICENSE', info + 'licenses/LICENSE'}
                        & names)
        meta = _setup_cfg()['metadata']
        self.assertIn('\nRequires-Python: %s\n'
                      % meta['python_requires'].strip(), metadata)
        self.assertIn('\nRequires-Dist: oslo.utils', metadata)
        self.assertIn('\nVersion: %s\n' % VERSION, metadata)
