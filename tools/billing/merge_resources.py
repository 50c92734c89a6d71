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

    python -m tools.billing.merge_resources [--base FILE] OUT

Ceilometer's Gnocchi publisher reads one resources file. This writes OUT:
BASE (default: the gnocchi_resources.yaml of the installed Ceilometer)
with the archive policies and resources of
etc/ceilometer/gnocchi_resources.cinder-backup-ext.yaml added, the
resources at the end (the publisher maps a metric to the last resource
that lists it) and ``backup.size`` removed from every other resource.
Comments of BASE are not kept.
"""

import argparse
import os
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OURS = os.path.join(TOP, 'etc', 'ceilometer',
                    'gnocchi_resources.cinder-backup-ext.yaml')


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--base', help="default: Ceilometer's own file")
    parser.add_argument('out')
    args = parser.parse_args(argv)
    with open(args.base or ceilometer_default()) as f:
        base = yaml.safe_load(f)
    with open(OURS) as f:
        ours = yaml.safe_load(f)
    with open(args.out, 'w') as f:
        yaml.safe_dump(merge(base, ours), f, default_flow_style=False,
                       sort_keys=False)
    print('wrote %s' % args.out)


if __name__ == '__main__':
    sys.exit(main())
