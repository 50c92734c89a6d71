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

"""A notification driver that adds parent_id and sizes to backup events.

Billing prices full and incremental backups differently, so every
``backup.*`` notification should say which one it is. Enable it on the
nodes that emit backup notifications (cinder-backup, cinder-api, and where
``cinder-volume-usage-audit`` runs)::

    [oslo_messaging_notifications]
    driver = cinder_backup_ext
    transport_url = rabbit://...

    [cinder_backup_ext]
    # the drivers that actually send (default: messagingv2)
    notification_drivers = messagingv2
    notification_lookup_timeout = 0.5
    notification_lookup_backoff = 30

Each ``backup.*`` payload gains ``parent_id`` and ``is_incremental``, and
``backup.create.*`` payloads gain ``forced_full_reason``: why the chain cap
made a requested incremental full (the backup's
``cinder_backup_ext:forced_full`` metadata), or null. Cinder itself puts
``parent_id`` in its backup payloads; what a payload lacks (the parent
from older emitters, the reason of a full backup's create events) is read
from Cinder's database by ``backup_id``, one primary-key read bounded by
the lookup timeout, once per backup. Other events pass through untouched.

In cinder-backup, where the data is written, the final
``backup.createprogress`` event of a chunked driver lists the objects the
backup wrote: the hook sums their lengths, records them in the table
``cinder_backup_ext_backup_sizes`` (``db/sizes.py``; an upsert, so a
repeated event changes nothing) and puts the number in the backup's
``backup.create.end`` as ``stored_bytes`` (null when no such event was
seen: unknown, never 0).

The hook must never lose or hold up a notification: whatever goes wrong
(no database, a slow one, a payload of another shape), the inner drivers
receive the original message, unchanged, and a warning is logged. Reads
and the size's write share one worker thread and one timeout: after a
failed one, neither is tried for ``notification_lookup_backoff`` seconds,
so a database outage costs one timeout, not one per message.
"""

import collections
from concurrent import futures
import copy
import threading
import time

from oslo_log import log as logging
from oslo_messaging.notify import notifier
import sqlalchemy as sa
from stevedore import driver

from cinder_backup_ext.db import sizes
from cinder_backup_ext.db import tables
from cinder_backup_ext import opts

LOG = logging.getLogger(__name__)

NAMESPACE = 'oslo.messaging.notify.drivers'
NAME = 'cinder_backup_ext'


def _cinder_engine():
    from cinder_backup_ext import compat
    return compat.get_engine()


#: What the notifier reads of a backup.
Facts = collections.namedtuple('Facts', 'parent_id forced_full_reason')


def facts_from_cinder(backup_id):
    """One primary-key read in Cinder's database; LookupError if absent."""
    backups, metadata = tables.BACKUPS, tables.BACKUP_METADATA
    reason = sa.and_(metadata.c.backup_id == backups.c.id,
                     metadata.c.key == tables.FORCED_FULL,
                     metadata.c.deleted == sa.false())
    with _cinder_engine().connect() as conn:
        row = conn.execute(
            sa.select(backups.c.parent_id, metadata.c.value)
            .select_from(backups.outerjoin(metadata, reason))
            .where(backups.c.id == backup_id)).first()
    if row is None:
        raise LookupError('no backup %s in the database' % backup_id)
    return Facts(*row)


def _why(exc, timeout):
    """Why a lookup failed, in words: a timeout's own message is empty."""
    if isinstance(exc, futures.TimeoutError):
        return 'timed out after %g s' % timeout
    name = type(exc).__name__
    lines = str(exc).strip().splitlines()
    return '%s: %s' % (name, lines[0]) if lines else name


class DatabaseGuard(object):
    """Runs the hook's reads and writes: bounded in time, backed off.

    Each call runs in a worker thread, so that a database that never
    answers costs the caller ``timeout`` seconds, not the driver's own
    connect timeout. After a failure, reads and writes alike are skipped
    for ``backoff`` seconds: one outage, one timeout.
    """

    def __init__(self, timeout, backoff):
        self._timeout = timeout
        self._backoff = backoff
        self._pool = futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix='cinder-backup-ext-lookup')
        self._lock = threading.Lock()
        self._resume_at = 0.0

    def __call__(self, doing, function, *args):
        """``function(*args)``; LookupError when it cannot be had in time.

        ``doing`` says in the log what was tried ("read backup X").
        """
        with self._lock:
            if time.monotonic() < self._resume_at:
                raise LookupError('database calls paused after a failure')
        try:
            return self._pool.submit(function, *args).result(
                timeout=self._timeout)
        except sizes.NotSynced as exc:
            # Not an outage: the database answers, reads still work.
            LOG.warning('cinder-backup-ext: cannot %s (%s).', doing, exc)
            raise LookupError(str(exc))
        except Exception as exc:
            with self._lock:
                self._resume_at = time.monotonic() + self._backoff
            why = _why(exc, self._timeout)
            # The words of troubleshooting.rst, reads and writes alike.
            LOG.warning('cinder-backup-ext: cannot %(doing)s (%(why)s); '
                        'backup notifications go without what would be '
                        'read for %(backoff)gs.',
                        {'doing': doing, 'why': why,
                         'backoff': self._backoff})
            raise LookupError(why)


class _Remembered(object):
    """The last CACHE_SIZE values by backup id (an LRU, thread-safe)."""

    CACHE_SIZE = 4096

    def __init__(self):
        self._known = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, backup_id, default=None):
        with self._lock:
            if backup_id not in self._known:
                return default
            self._known.move_to_end(backup_id)
            return self._known[backup_id]

    def put(self, backup_id, value):
        with self._lock:
            self._known[backup_id] = value
            self._known.move_to_end(backup_id)
            while len(self._known) > self.CACHE_SIZE:
                self._known.popitem(last=False)


class BackupLookup(object):
    """Reads a backup's facts through the guard, and remembers them.

    ``read`` does the actual read (Cinder's database by default).
    """

    def __init__(self, read, guard):
        self._read = read
        self._guard = guard
        self._known = _Remembered()

    def __call__(self, backup_id):
        """The Facts; raises LookupError when they cannot be had in time."""
        facts = self._known.get(backup_id)
        if facts is None:
            facts = self._guard('read backup %s' % backup_id, self._read,
                                backup_id)
            self._known.put(backup_id, facts)
        return facts


def record_size(backup_id, size):
    """Record in Cinder's database what a backup wrote."""
    sizes.record(_cinder_engine(), backup_id, size, sizes.PROGRESS)


class BackupNotifyDriver(notifier.Driver):
    """Enriches backup notifications, then hands them to the real drivers.

    oslo.messaging builds it with (conf, topics, transport);
    ``read_backup`` replaces the read of Cinder's database and
    ``record_size`` the write of a backup's size (tests, embedders).
    """

    def __init__(self, conf, topics, transport,
                 read_backup=facts_from_cinder, record_size=record_size):
        super().__init__(conf, topics, transport)
        opts.register_opts(conf)
        group = conf[opts.GROUP]
        names = [name for name in group.notification_drivers if name != NAME]
        # oslo.messaging's RoutingDriver builds its drivers without
        # arguments; these need the same conf, topics and transport.
        self._drivers = [
            driver.DriverManager(
                NAMESPACE, name, invoke_on_load=True, invoke_args=(conf,),
                invoke_kwds={'topics': topics, 'transport': transport}).driver
            for name in names]
        self._guard = DatabaseGuard(group.notification_lookup_timeout,
                                    group.notification_lookup_backoff)
        self._facts_of = BackupLookup(read_backup, self._guard)
        self._record_size = record_size
        # What the last progress event of each backup said, for its
        # create.end: both are sent by the same cinder-backup process.
        self._sizes = _Remembered()

    def notify(self, ctxt, message, priority, retry):
        self._measure(message)
        message = self._enriched(message)
        for inner in self._drivers:
            inner.notify(ctxt, message, priority, retry)

    def _measure(self, message):
        """Remember and record what a final progress event reports."""
        try:
            if message.get('event_type') != 'backup.createprogress':
                return
            payload = message['payload']
            size = sizes.from_progress(payload)
            if size is None:
                return
            backup_id = payload['backup_id']
            # Remembered even when the database refuses it: create.end
            # still carries the number, the table stays unknown.
            self._sizes.put(backup_id, size)
            self._guard('record the size of backup %s' % backup_id,
                        self._record_size, backup_id, size)
        except (LookupError, KeyError, TypeError, AttributeError):
            # Logged by the guard, or a payload of another shape.
            pass
        except Exception:
            LOG.warning('cinder-backup-ext: size of notification %s not '
                        'recorded', message.get('message_id'), exc_info=True)

    def _facts(self, payload):
        """The backup's Facts, or None when they cannot be had."""
        try:
            return self._facts_of(payload['backup_id'])
        except (KeyError, LookupError):
            return None

    def _enriched(self, message):
        """A copy with the keys above, or ``message`` itself."""
        try:
            payload = message['payload']
            event_type = str(message.get('event_type', ''))
            if (not event_type.startswith('backup.')
                    or not isinstance(payload, dict)):
                return message
            creating = event_type.startswith('backup.create.')
            facts = None
            if 'parent_id' in payload:
                parent_id = payload['parent_id']
                # Only a full backup can have been made full by the cap;
                # Cinder's payloads have no word of it.
                if creating and parent_id is None:
                    facts = self._facts(payload)
            else:
                facts = self._facts(payload)
                if facts is None:
                    return message
                parent_id = facts.parent_id
            added = {}
            if creating and (facts is not None or parent_id is not None):
                added['forced_full_reason'] = (facts.forced_full_reason
                                               if facts else None)
            if event_type == 'backup.create.end':
                # Unknown (None) unless this process saw the final
                # progress event: never 0 for a missed one.
                added['stored_bytes'] = self._sizes.get(
                    payload.get('backup_id'), sizes.Size(None, None)
                ).stored_bytes
            enriched = copy.copy(message)
            enriched['payload'] = dict(payload, parent_id=parent_id,
                                       is_incremental=parent_id is not None,
                                       **added)
            return enriched
        except Exception:
            LOG.warning('cinder-backup-ext: notification %s forwarded '
                        'unchanged', message.get('message_id')
                        if isinstance(message, dict) else message,
                        exc_info=True)
            return message
