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

"""The functional tests that need real backup stores (tox -e backends).

    python -m tools.backends STESTR_REPO [TEST_FILTER ...]

Starts a one-node Ceph and its radosgw (tools/ceph.py), which serves
the Swift and the S3 API, and a one-brick GlusterFS volume
(tools/glusterfs.py); names them to the tests in CBE_TEST_RADOSGW and
CBE_TEST_GLUSTERFS, runs stestr on
tests/functional/test_measure_backends.py (or the filters given), and
stops and removes it all however that ends (tools/harness.py).
Environment: CEPH_MON_PORT (13500 and the next), RGW_PORT (17480).
"""

import json
import os
import sys

from tools import ceph
from tools import glusterfs
from tools import harness

TESTS = r'tests\.functional\.test_measure_backends'


def body(repo, filters):
    for what, why_not in (
            ('Ceph', ceph.available(bindings=False, gateway=True)),
            ('GlusterFS', glusterfs.available())):
        if why_not:
            harness.log('no %s here: %s' % (what, why_not))
            return 2
    with harness.Job('backends') as job:
        conf = ceph.start(job, int(os.environ.get('CEPH_MON_PORT', 13500)),
                          pools=())
        rgw = ceph.radosgw(job, conf, int(os.environ.get(
            'RGW_PORT', ceph.RGW_PORT)))
        harness.log('radosgw: %s (Swift and S3)' % rgw['url'])
        share = glusterfs.start(job, 'cbe-' + job.run_id)
        # The tests mount it (Cinder's driver does) under here.
        share['mounts'] = job.path('mounts')
        os.mkdir(share['mounts'])
        harness.log('GlusterFS: %s' % share['share'])
        env = dict(os.environ, CBE_TEST_RADOSGW=json.dumps(rgw),
                   CBE_TEST_GLUSTERFS=json.dumps(share))
        return job.run(['stestr', '--test-path', './tests/functional',
                        '--top-dir', './', '--repo-url', repo, 'run'] +
                       (filters or [TESTS]), env=env, check=False)


if __name__ == '__main__':
    sys.exit(harness.main_status(body, sys.argv[1], sys.argv[2:]))
