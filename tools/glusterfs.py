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

"""A one-brick GlusterFS volume for a job (tools/harness.py).

Debian's glusterfs-server and glusterfs-client (bindep profile
``glusterfs``) give glusterd, the brick daemon and the FUSE client that
Cinder's GlusterFS backup driver mounts with ``mount -t glusterfs`` (as
root, so without a root helper). glusterd refuses a brick on a loopback
address: the volume is served on this host's first other IPv4 address,
glusterd bound to it alone, on GlusterFS's fixed port 24007 (the CLI and
the mount helper find it there).

glusterd keeps its state in the job's folder; its sockets (``/run``), the
brick's and each mount's logs (``/var/log/glusterfs``, named after the
brick and mount paths) are written where GlusterFS puts them. The job
removes every path there that it made, and unmounts what is still mounted
under its folder, however it ends.
"""

import os
import shutil
import socket
import subprocess

import psutil

from tools import harness

PORT = 24007
#: Where GlusterFS writes outside the job's folder.
OUTSIDE = ('/var/log/glusterfs', '/run/gluster', '/run/glusterd.socket')

GLUSTERD_VOL = """volume management
    type mgmt/glusterd
    option working-directory {state}
    option transport-type socket
    option transport.socket.bind-address {address}
    option transport.socket.listen-port {port}
    option ping-timeout 0
    option event-threads 1
    option base-port 49152
    option max-port 49251
end-volume
"""


def address():
    """This host's first IPv4 address that is not a loopback one."""
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and \
                    not a.address.startswith('127.'):
                return a.address
    return None


def available():
    """Why no volume can be served and mounted here, or None."""
    missing = [c for c in ('glusterd', 'gluster', 'mount.glusterfs')
               if not shutil.which(c)]
    if missing:
        return ('%s not installed (bindep -b glusterfs: Debian '
                'glusterfs-server glusterfs-client)' % ', '.join(missing))
    if not os.path.exists('/dev/fuse'):
        return 'no /dev/fuse: the GlusterFS client is a FUSE mount'
    if os.geteuid() != 0:
        return 'mounting a share needs root'
    if address() is None:
        return 'no IPv4 address but loopback ones, which glusterd refuses'
    if harness.port_in_use(PORT, address()):
        return 'port %d is in use: another glusterd?' % PORT
    return None


def _paths():
    found = set()
    for top in OUTSIDE:
        if os.path.lexists(top):
            found.add(top)
        for root, dirs, files in os.walk(top):
            found.update(os.path.join(root, n) for n in dirs + files)
    return found


def _clean_up(work, before):
    with open('/proc/self/mounts') as f:
        mounts = [line.split()[1] for line in f]
    for mount in mounts:
        if mount.startswith(work + '/'):
            subprocess.run(['umount', '-l', mount], check=False)
            harness.log('unmounted %s' % mount)
    # Deepest first, so that a folder is empty when its turn comes.
    for path in sorted(_paths() - before, key=len, reverse=True):
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.remove(path)
        harness.log('removed %s' % path)


def start(job, name):
    """Volume ``name`` up, one brick in the job's folder: its settings.

    ``share``: what ``glusterfs_backup_share`` takes; ``brick``: the
    folder on the server that holds the volume's files.
    """
    host = address()
    job.callback(_clean_up, job.work, _paths())
    folder = job.path('glusterfs')
    brick, state = (os.path.join(folder, n) for n in ('brick', 'state'))
    os.makedirs(brick)
    os.makedirs(state)
    vol = os.path.join(folder, 'glusterd.vol')
    with open(vol, 'w') as f:
        f.write(GLUSTERD_VOL.format(state=state, address=host, port=PORT))
    job.service('glusterd', [
        'glusterd', '-N', '-f', vol, '-p', os.path.join(folder, 'pid'),
        '--log-file', os.path.join(folder, 'glusterd.log')],
        tcp=(host, PORT), timeout=60)
    cli = ['gluster', '--mode=script',
           '--log-file=' + os.path.join(folder, 'cli.log')]
    quiet = dict(stdout=subprocess.DEVNULL)
    job.run(cli + ['volume', 'create', name, '%s:%s' % (host, brick),
                   'force'], **quiet)
    job.run(cli + ['volume', 'start', name], **quiet)
    return {'share': '%s:/%s' % (host, name), 'brick': brick}
