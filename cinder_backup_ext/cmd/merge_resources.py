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

"""Merges cinder-backup-ext's Gnocchi resources into a Ceilometer file.

    cinder-backup-ext-merge-resources [--base FILE] [--ours FILE] OUT

Ceilometer's Gnocchi publisher reads one resources file. This writes OUT:
BASE (default: the gnocchi_resources.yaml of the Ceilometer importable by
this Python) with the archive policies and resources of OURS added, the
resources at the end (the publisher maps a metric to the last resource
that lists it) and ``backup.size`` removed from every other resource.
OURS defaults to the gnocchi_resources.cinder-backup-ext.yaml that the
package installs under <prefix>/share/cinder-backup-ext/ceilometer/ (or
etc/ceilometer/ of a source checkout). Comments of BASE are not kept.
"""

import argparse
import importlib.metadata
import os
import sys

import yaml

DIST = 'cinder-backup-ext'
OURS_NAME = 'gnocchi_resources.cinder-backup-ext.yaml'
# Where setup.cfg's [files] data_files puts it, relative to the prefix.
OURS_SHARE = ('share', 'cinder-backup-ext', 'ceilometer', OURS_NAME)


def _installed_ours():
    """The file as the installed distribution records it, or None."""
    try:
        files = importlib.metadata.distribution(DIST).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    suffix = '/'.join(OURS_SHARE)
    for f in files:
        if str(f).replace(os.sep, '/').endswith(suffix):
            return os.path.normpath(str(f.locate()))
    return None


def ours_default():
    """The plugin's resources file on this node, or None if none is found.

    In order: the file the installed wheel recorded (any install scheme),
    <sys.prefix>/share/cinder-backup-ext/ceilometer/ (an editable install
    has no data files, but one may have been copied there), then
    etc/ceilometer/ of the source tree this module was loaded from.
    """
    source_tree = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    candidates = [
        _installed_ours(),
        os.path.join(sys.prefix, *OURS_SHARE),
        os.path.join(source_tree, 'etc', 'ceilometer', OURS_NAME),
    ]
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    return None


def ceilometer_default():
    import ceilometer.publisher
    return os.path.join(os.path.dirname(ceilometer.publisher.__file__),
                        'data', 'gnocchi_resources.yaml')


def merge(base, ours):
    """BASE's definitions (a dict) with OURS's added; BASE is not changed."""
    merged = dict(base)
    ours_metrics = {m for r in ours['resources'] for m in r['metrics']}
    ours_types = {r['resource_type'] for r in ours['resources']}
    resources = []
    for res in base.get('resources', []):
        if res['resource_type'] in ours_types:
            continue
        res = dict(res)
        metrics = res['metrics']
        if isinstance(metrics, list):
            metrics = dict.fromkeys(metrics)
        res['metrics'] = {k: v for k, v in metrics.items()
                          if k not in ours_metrics}
        resources.append(res)
    merged['resources'] = resources + list(ours['resources'])
    ours_policies = {p['name'] for p in ours.get('archive_policies', [])}
    merged['archive_policies'] = [
        p for p in base.get('archive_policies', [])
        if p['name'] not in ours_policies] + list(
            ours.get('archive_policies', []))
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='cinder-backup-ext-merge-resources',
        description=__doc__.splitlines()[0])
    parser.add_argument('--base', help="default: Ceilometer's own file")
    parser.add_argument('--ours', help='default: the installed %s'
                        % OURS_NAME)
    parser.add_argument('out')
    args = parser.parse_args(argv)
    base_path = args.base
    if not base_path:
        try:
            base_path = ceilometer_default()
        except ImportError:
            parser.error('Ceilometer is not importable by this Python: '
                         'give its gnocchi_resources.yaml with --base')
    ours_path = args.ours or ours_default()
    if not ours_path:
        parser.error('%s is not installed under %s: give it with --ours'
                     % (OURS_NAME, os.path.join(sys.prefix,
                                                *OURS_SHARE[:-1])))
    with open(base_path) as f:
        base = yaml.safe_load(f)
    with open(ours_path) as f:
        ours = yaml.safe_load(f)
    with open(args.out, 'w') as f:
        yaml.safe_dump(merge(base, ours), f, default_flow_style=False,
                       sort_keys=False)
    print('wrote %s' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
