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

"""A one-node Ceph for a job (tools/harness.py): one mon, mgr and OSD.

With :func:`radosgw`, also Ceph's object gateway, which serves the Swift
and the S3 API on one port (Debian's radosgw), with one user.

Debian's packages (bindep profile ``ceph``: ceph-mon, ceph-mgr, ceph-osd,
python3-rbd) give the daemons; the job's folder holds their data, logs,
sockets and the OSD's bluestore file (sparse, outside the OSD's folder),
so that stopping the job removes the cluster. It listens on 127.0.0.1
only, without cephx (nothing else can reach it), keeps one copy of each
object, and has the pools Cinder's RBD volume driver and Ceph backup
driver use. The ``rbd`` bindings import only in Debian's own Python and
the venvs made from it with its site packages (tox -e cloud).
"""

import os
import shutil
import subprocess
import uuid

POOLS = ('volumes', 'backups')
RGW_PORT = 17480
MON_PORT = 13300   # msgr2; msgr1 (os-brick's clients) on the next port
BLOCK_BYTES = 8 << 30  # sparse: only what is written takes space

CONF = """[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{v2},v1:127.0.0.1:{v1}]
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# radosgw asks the monitors for "secure" mode, which needs cephx.
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon data avail crit = 1
run dir = {dir}/run
log file = {dir}/$name.log
[mon]
mon data = {dir}/$name
admin socket = {dir}/run/$name.asok
[mgr]
mgr data = {dir}/$name
admin socket = {dir}/run/$name.asok
[osd]
osd data = {dir}/$name
osd objectstore = bluestore
bluestore block path = {dir}/$name.block
bluestore block create = true
bluestore block size = {block}
osd memory target = 939524096
admin socket = {dir}/run/$name.asok
"""


def available(bindings=True, gateway=False):
    """Why no cluster can start here, or None when one can.

    bindings: this Python must import the rbd bindings (to use RBD);
    gateway: radosgw must be installed (for :func:`radosgw`).
    """
    missing = [c for c in ('ceph-mon', 'ceph-mgr', 'ceph-osd', 'ceph')
               + (('radosgw',) if gateway else ()) if not shutil.which(c)]
    if missing:
        return ('%s not installed (bindep -b ceph: Debian ceph-mon ceph-mgr '
                'ceph-osd ceph-common radosgw python3-rbd)'
                % ', '.join(missing))
    if not bindings:
        return None
    try:
        import rbd  # noqa: F401
    except ImportError:
        return ("this Python (%s) cannot import Debian's rbd bindings: make "
                "its venv from /usr/bin/python3 with the system site "
                "packages" % os.path.realpath(shutil.which('python3')))
    return None


def client_keyring(job, cluster, user):
    """An empty keyring where os-brick looks for one; gone with the job.

    os-brick's RBD connector (cinder-backup reading an RBD volume) reads
    ``/etc/ceph/<cluster>.client.<user>.keyring`` for any user, and Cinder
    offers no other place (OSSN-0085); the Ceph backup driver wants a
    user. Without cephx the keyring is empty; a cluster name of the run's
    own keeps it apart from a real one's.
    """
    os.makedirs('/etc/ceph', exist_ok=True)
    return job.outside_file(
        '/etc/ceph/%s.client.%s.keyring' % (cluster, user),
        '# %s: no cephx (tools/ceph.py)\n' % job.work)


def start(job, port=MON_PORT, pools=POOLS):
    """The cluster in ``job``'s folder, up, with ``pools``; its ceph.conf."""
    folder = job.path('ceph')
    os.makedirs(os.path.join(folder, 'run'))
    for name in ('mon.a', 'mgr.x', 'osd.0'):
        os.makedirs(os.path.join(folder, name))
    conf = os.path.join(folder, 'ceph.conf')
    fsid = str(uuid.uuid4())
    with open(conf, 'w') as f:
        f.write(CONF.format(fsid=fsid, v2=port, v1=port + 1, dir=folder,
                            block=BLOCK_BYTES))
    c = ['-c', conf]
    monmap, keyring = (os.path.join(folder, n) for n in ('monmap', 'keyring'))
    quiet = dict(stdout=subprocess.DEVNULL)
    job.run(['monmaptool', '--create', '--fsid', fsid, '--addv', 'a',
             '[v2:127.0.0.1:%d,v1:127.0.0.1:%d]' % (port, port + 1),
             monmap], **quiet)
    job.run(['ceph-authtool', '--create-keyring', keyring, '--gen-key',
             '-n', 'mon.', '--cap', 'mon', 'allow *'], **quiet)
    job.run(['ceph-mon'] + c + ['--mkfs', '-i', 'a', '--monmap', monmap,
                                '--keyring', keyring])
    # -f: in the foreground, in the job's process group; the log lines say
    # when each is up.
    job.service('ceph-mon', ['ceph-mon'] + c + ['-f', '-i', 'a'],
                log_line=(os.path.join(folder, 'mon.a.log'),
                          r'mon\.a@0\(leader\)'), timeout=60)

    def ceph(*args, **kwargs):
        return subprocess.run(['ceph'] + c + ['--connect-timeout', '30'] +
                              list(args), check=True, text=True,
                              capture_output=True, **kwargs).stdout.strip()
    job.service('ceph-mgr', ['ceph-mgr'] + c + ['-f', '-i', 'x'])
    osd_uuid = str(uuid.uuid4())
    osd_id = ceph('osd', 'new', osd_uuid)
    job.run(['ceph-osd'] + c + ['-i', osd_id, '--mkfs', '--osd-uuid',
                                osd_uuid], stderr=subprocess.DEVNULL)
    job.service('ceph-osd', ['ceph-osd'] + c + ['-f', '-i', osd_id],
                log_line=(os.path.join(folder, 'osd.%s.log' % osd_id),
                          r'state: booting -> active'), timeout=120)
    for pool in pools:
        ceph('osd', 'pool', 'create', pool, '8')
        job.run(['rbd'] + c + ['pool', 'init', pool])
    return conf


def radosgw(job, conf, port=RGW_PORT):
    """radosgw on 127.0.0.1:port and a user of both APIs: its settings.

    Swift: version 1 auth at ``/auth/1.0`` as ``<user>:swift``; S3: the
    access and secret keys, path-style requests.
    """
    user, key = 'cbe', uuid.uuid4().hex
    access, secret = uuid.uuid4().hex[:20], uuid.uuid4().hex
    url = 'http://127.0.0.1:%d' % port
    data = job.path('ceph', 'client.rgw.a')
    os.makedirs(data)
    job.service('radosgw', [
        'radosgw', '-c', conf, '-f', '-n', 'client.rgw.a',
        '--rgw-frontends', 'beast endpoint=127.0.0.1:%d' % port,
        '--rgw-data', data, '--log-file', job.path('ceph', 'rgw.log')],
        http=url + '/', timeout=120)
    admin = ['radosgw-admin', '-c', conf]
    quiet = dict(stdout=subprocess.DEVNULL)
    job.run(admin + ['user', 'create', '--uid', user, '--display-name', user,
                     '--access-key', access, '--secret-key', secret],
            **quiet)
    job.run(admin + ['subuser', 'create', '--uid', user, '--subuser',
                     user + ':swift', '--access', 'full', '--key-type',
                     'swift', '--secret-key', key], **quiet)
    return {'url': url, 'swift_auth_url': url + '/auth/1.0',
            'swift_user': user + ':swift', 'swift_key': key,
            's3_access_key': access, 's3_secret_key': secret}
