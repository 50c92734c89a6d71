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

"""Known data in a volume, for the jobs that check stored sizes.

The local clouds' volumes are files (tools/local-cloud/filedriver.py) or
RBD images (tools/ceph.py), so a job can write exactly what a backup will
read: random data for a full, then scattered runs changed for an
incremental, and say how many bytes of hash blocks the change touched.
The billing job and the chains job use it. Raises ValueError where the
data cannot be laid out as asked.
"""

import contextlib
import os
import subprocess
import sys

MIB = 1 << 20

# Cinder's own option definitions and defaults over the cloud's cinder.conf,
# read in a child Python: importing cinder would import eventlet into the
# job's process.
_READ_BACKUP_OPTS = '''
import sys
from oslo_config import cfg
from cinder.backup.drivers import posix
conf = cfg.ConfigOpts()
conf.register_opts(posix.posixbackup_service_opts)
conf(args=[], default_config_files=[sys.argv[1]], default_config_dirs=[])
print(conf.backup_sha_block_size_bytes, conf.backup_file_size)
'''


def backup_block_sizes(cloud_dir, timeout=120):
    """(backup_sha_block_size_bytes, backup_file_size) as Cinder reads them.

    The grain of an incremental, and the largest object a backup writes.
    """
    conf = os.path.join(cloud_dir, 'cinder.conf')
    proc = subprocess.run([sys.executable, '-c', _READ_BACKUP_OPTS, conf],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode:
        raise ValueError('reading the backup options of %s failed: %s'
                         % (conf, proc.stderr.strip()[-400:]))
    block, file_size = (int(word) for word in proc.stdout.split())
    return block, file_size


class _File(object):
    """A file with rbd.Image's read(offset, length) and write(data, offset)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def size(self):
        return os.fstat(self.fd).st_size

    def read(self, offset, length):
        return os.pread(self.fd, length, offset)

    def write(self, data, offset):
        return os.pwrite(self.fd, data, offset)


def _opened(volume):
    """A path as a _File; an open rbd.Image (an RBD volume) as it is."""
    if isinstance(volume, str):
        return _File(volume)
    return contextlib.nullcontext(volume)


def fill_random(volume, size=None):
    """The first ``size`` bytes (all of them) written at random; the size.

    A full backup reads every byte of the volume, so what it writes is the
    whole volume: random, so that nothing a driver might skip or compress
    away is in it. ``volume``: a file's path or an open ``rbd.Image``.
    """
    piece = 16 * MIB
    with _opened(volume) as target:
        whole = target.size()
        size = whole if size is None else size
        if not MIB <= size <= whole:
            raise ValueError('cannot fill %d bytes of a %d-byte volume'
                             % (size, whole))
        for offset in range(0, size, piece):
            target.write(os.urandom(min(piece, size - offset)), offset)
        if target.size() != whole:
            raise ValueError('writing %s changed its size' % volume)
    return size


def scatter(rng, size, block, total, runs):
    """``runs`` runs of total/runs bytes each: [(offset, length)].

    One in each equal slice of the volume, blocks apart, none starting on
    a block edge: each run touches a partial block at both ends, the
    worst case the bound of an incremental allows for.
    """
    length, slot = total // runs, size // runs
    places = (slot - length) // block - 2
    if total % runs or length % block or places <= 0:
        raise ValueError('cannot place %d runs of %d bytes in %d bytes with '
                         '%d-byte blocks' % (runs, length, size, block))
    return [(number * slot + rng.randrange(places) * block
             + rng.randrange(1, block), length) for number in range(runs)]


def rewrite(volume, runs, rng):
    """Each byte of each run changed (XOR with nonzero random bytes).

    A byte left as it was could leave a block unchanged, and the
    incremental smaller than the check expects. ``volume``: as fill_random.
    """
    with _opened(volume) as target:
        for offset, length in runs:
            old = target.read(offset, length)
            mask = rng.randbytes(length).replace(b'\0', b'\1')
            target.write((int.from_bytes(old, 'big') ^ int.from_bytes(
                mask, 'big')).to_bytes(length, 'big'), offset)


def touched_bytes(runs, block):
    """Bytes of the hash blocks the runs touch: what an incremental writes."""
    blocks = set()
    for offset, length in runs:
        blocks.update(range(offset // block,
                            (offset + length - 1) // block + 1))
    return len(blocks) * block
