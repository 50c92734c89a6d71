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

"""The notification driver, with oslo.messaging's in-memory test driver."""

import copy
import logging
import threading
import time

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_messaging.notify import _impl_test
from oslotest import base
import sqlalchemy as sa

from cinder_backup_ext.db import sizes
from cinder_backup_ext import notify

PARENT = 'b0000000-0000-0000-0000-000000000001'
CHILD = 'b0000000-0000-0000-0000-000000000002'


def message(event_type='backup.create.end', **payload):
    return {'message_id': 'm1', 'publisher_id': 'backup.host',
            'event_type': event_type, 'priority': 'INFO',
            'payload': payload, 'timestamp': '2026-11-25 00:00:00'}


class _Lookups(object):
    """Stands in for Cinder's database in these unit tests."""

    def __init__(self, parents=None, delay=0, error=None, reasons=None):
        self.parents = parents or {}
        self.reasons = reasons or {}
        self.delay = delay
        self.error = error
        self.calls = []
        self.done = threading.Event()  # set when a lookup has returned

    def __call__(self, backup_id):
        self.calls.append(backup_id)
        time.sleep(self.delay)
        self.done.set()
        if self.error:
            raise self.error
        return notify.Facts(self.parents[backup_id],
                            self.reasons.get(backup_id))


def progress(backup_id, lengths, percent=100, parent_id=None):
    """A chunked driver's backup.createprogress, as Cinder builds it."""
    objects = [{'backup_%s-%05d' % (backup_id, n + 1): {
        'offset': n * 1024, 'length': length, 'compression': 'zlib',
        'md5': 'x'}} for n, length in enumerate(lengths)]
    return message('backup.createprogress', backup_id=backup_id,
                   parent_id=parent_id, backup_percent=percent,
                   list=objects, id=len(objects) + 1, prefix='p',
                   volume_meta=None)


class _Recorder(object):
    """Stands in for the write of a backup's size."""

    def __init__(self, error=None, delay=0):
        self.error = error
        self.delay = delay
        self.calls = []
        self.done = threading.Event()

    def __call__(self, backup_id, size):
        self.calls.append((backup_id, size))
        time.sleep(self.delay)
        self.done.set()
        if self.error:
            raise self.error


class DriverTestCase(base.BaseTestCase):
    """The driver, forwarding to oslo.messaging's in-memory test driver."""

    def setUp(self):
        super().setUp()
        self.recorder = _Recorder()
        self.conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts()))
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.WARNING, format='%(levelname)s %(message)s'))
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self.lookups = _Lookups({CHILD: PARENT, PARENT: None})
        self.driver = self.make_driver(self.lookups)

    def make_driver(self, lookups, timeout=0.2, backoff=30, recorder=None):
        conf = self.conf.conf
        notify.opts.register_opts(conf)
        self.conf.config(group='cinder_backup_ext',
                         notification_drivers=['test'],
                         notification_lookup_timeout=timeout,
                         notification_lookup_backoff=backoff)
        return notify.BackupNotifyDriver(
            conf, ['notifications'], None, read_backup=lookups,
            record_size=recorder or self.recorder)

    def sent(self, msg):
        before = copy.deepcopy(msg)
        _impl_test.reset()
        self.driver.notify({}, msg, 'INFO', -1)
        self.assertEqual(before, msg, 'the caller\'s message was edited')
        [(_ctxt, forwarded, _priority, _retry)] = _impl_test.NOTIFICATIONS
        return forwarded


class TestDriver(DriverTestCase):

    def test_cinder_payload_with_parent_id_needs_no_lookup(self):
        got = self.sent(message('backup.delete.end', backup_id=CHILD,
                                parent_id=PARENT))
        self.assertEqual(PARENT, got['payload']['parent_id'])
        self.assertTrue(got['payload']['is_incremental'])
        got = self.sent(message('backup.restore.end', backup_id=PARENT,
                                parent_id=None))
        self.assertFalse(got['payload']['is_incremental'])
        self.assertNotIn('forced_full_reason', got['payload'])
        self.assertEqual([], self.lookups.calls)

    def test_create_events_say_why_a_backup_was_made_full(self):
        self.lookups.reasons = {PARENT: 'made full: depth 3 reaches the cap'}
        for event in ('backup.create.start', 'backup.create.end'):
            got = self.sent(message(event, backup_id=PARENT, parent_id=None))
            self.assertEqual(
                (None, False, 'made full: depth 3 reaches the cap'),
                (got['payload']['parent_id'], got['payload']['is_incremental'],
                 got['payload']['forced_full_reason']))
            got = self.sent(message(event, backup_id=CHILD, parent_id=PARENT))
            self.assertIsNone(got['payload']['forced_full_reason'])
        # Once per full backup (an incremental was never made full);
        # progress events need nothing Cinder lacks.
        self.sent(message('backup.createprogress', backup_id=CHILD,
                          parent_id=PARENT))
        self.assertEqual([PARENT], self.lookups.calls)

    def test_create_events_keep_cinders_parent_when_a_lookup_fails(self):
        self.lookups.error = RuntimeError('database is gone')
        got = self.sent(message(backup_id=PARENT, parent_id=None))
        self.assertEqual((None, False),
                         (got['payload']['parent_id'],
                          got['payload']['is_incremental']))
        self.assertNotIn('forced_full_reason', got['payload'])
        self.assertEqual([PARENT], self.lookups.calls)

    def test_payload_without_parent_id_is_looked_up_once(self):
        for event in ('backup.create.start', 'backup.createprogress',
                      'backup.exists'):
            got = self.sent(message(event, backup_id=CHILD))
            self.assertEqual(PARENT, got['payload']['parent_id'])
            self.assertTrue(got['payload']['is_incremental'])
        self.assertEqual([CHILD], self.lookups.calls)

    def test_other_events_pass_untouched(self):
        msg = message('volume.create.end', volume_id='v', backup_id=CHILD)
        self.assertEqual(msg, self.sent(msg))
        self.assertEqual([], self.lookups.calls)

    def test_malformed_messages_pass_unchanged(self):
        for msg in (message(),                      # no backup_id
                    dict(message(), payload='text'),
                    dict(message(), payload=None),
                    {'event_type': 'backup.create.end'},   # no payload
                    ['not', 'a', 'dict']):
            self.assertEqual(msg, self.sent(msg))

    def test_failed_lookup_forwards_the_original_and_backs_off(self):
        self.lookups.error = RuntimeError('database is gone')
        for _ in range(100):
            msg = message(backup_id=CHILD)
            self.assertEqual(msg, self.sent(msg))
        self.assertEqual(1, len(self.lookups.calls))
        self.assertIn('WARNING', self.log.output)
        self.assertIn('(RuntimeError: database is gone)', self.log.output)

    def test_an_error_without_a_message_is_named(self):
        self.lookups.error = KeyError()
        self.sent(message(backup_id=CHILD))
        self.assertIn('backup %s (KeyError)' % CHILD, self.log.output)

    def test_slow_lookup_is_cut_short(self):
        lookups = _Lookups({CHILD: PARENT}, delay=5)
        self.driver = self.make_driver(lookups, timeout=0.1)
        msg = message(backup_id=CHILD)
        self.assertEqual(msg, self.sent(msg))
        # Sent, unchanged, while the lookup was still running.
        self.assertFalse(lookups.done.is_set())
        self.assertIn('backup %s (timed out after 0.1 s)' % CHILD,
                      self.log.output)

    def test_lookups_resume_after_the_backoff(self):
        lookups = _Lookups(error=RuntimeError('down'))
        self.driver = self.make_driver(lookups, backoff=0.2)
        self.sent(message(backup_id=CHILD))
        lookups.error = None
        lookups.parents = {CHILD: PARENT}
        time.sleep(0.3)
        got = self.sent(message(backup_id=CHILD))
        self.assertEqual(PARENT, got['payload']['parent_id'])

    def test_does_not_forward_to_itself(self):
        self.conf.config(group='cinder_backup_ext',
                         notification_drivers=['cinder_backup_ext', 'test'])
        self.driver = notify.BackupNotifyDriver(
            self.conf.conf, ['n'], None, read_backup=self.lookups)
        # sent() asserts that exactly one copy reached the test driver.
        got = self.sent(message(backup_id=CHILD))
        self.assertEqual(PARENT, got['payload']['parent_id'])

    def test_forwards_to_every_inner_driver(self):
        self.conf.config(group='cinder_backup_ext',
                         notification_drivers=['test', 'test'])
        driver = notify.BackupNotifyDriver(
            self.conf.conf, ['n'], None, read_backup=self.lookups)
        driver.notify({}, message(backup_id=CHILD), 'INFO', -1)
        self.assertEqual(2, len(_impl_test.NOTIFICATIONS))


class TestFromProgress(base.BaseTestCase):

    def test_sums_the_lengths_of_the_final_event(self):
        payload = progress(PARENT, [1000, 24, 0])['payload']
        self.assertEqual(sizes.Size(1024, 3), sizes.from_progress(payload))

    def test_nothing_written_is_zero_not_unknown(self):
        payload = progress(CHILD, [])['payload']
        self.assertEqual(sizes.Size(0, 0), sizes.from_progress(payload))

    def test_only_the_final_event_counts(self):
        for percent in (0, 12.5, 99):
            self.assertIsNone(sizes.from_progress(
                progress(PARENT, [10], percent=percent)['payload']))

    def test_other_shapes_are_unknown(self):
        def final(objects):
            return {'backup_percent': 100, 'list': objects}
        for payload in ({'backup_percent': 100},
                        final('text'),
                        final([{'o': {'offset': 0}}]),
                        final([{'o': {'length': -1}}]),
                        final([{'o': {'length': True}}]),
                        final([{'o': {'length': '5'}}]),
                        final([{'a': {'length': 1}, 'b': {'length': 2}}]),
                        final([{}]),
                        final(['o'])):
            self.assertIsNone(sizes.from_progress(payload), payload)


class TestSizesTable(base.BaseTestCase):
    """The upsert's SQLite form (functional tests run all three engines)."""

    def setUp(self):
        super().setUp()
        self.engine = sa.create_engine('sqlite://')
        self.addCleanup(self.engine.dispose)

    def test_the_same_event_twice_is_one_row(self):
        sizes.TABLE.create(self.engine)
        sizes.record(self.engine, PARENT, sizes.Size(5, 1))
        sizes.record(self.engine, PARENT, sizes.Size(5, 1))
        sizes.record(self.engine, CHILD, sizes.Size(0, 0))
        with self.engine.connect() as conn:
            self.assertEqual(2, conn.execute(
                sa.select(sa.func.count()).select_from(sizes.TABLE)
            ).scalar())
            self.assertEqual((sizes.Size(5, 1), 'progress'),
                             sizes.read(conn, PARENT))
            self.assertEqual((sizes.Size(0, 0), 'progress'),
                             sizes.read(conn, CHILD))
            self.assertIsNone(sizes.read(conn, 'never-seen'))

    def test_a_missing_table_says_db_sync(self):
        exc = self.assertRaises(sizes.NotSynced, sizes.record, self.engine,
                                PARENT, sizes.Size(5, 1))
        self.assertIn('db sync', str(exc))


class TestStoredBytes(DriverTestCase):
    """The final progress event: recorded, then carried in create.end."""

    def stored_bytes(self, backup_id, parent_id=None):
        got = self.sent(message(backup_id=backup_id, parent_id=parent_id))
        return got['payload']['stored_bytes']

    def test_recorded_and_carried_in_create_end(self):
        msg = progress(PARENT, [4096, 4096, 100])
        got = self.sent(msg)
        # The progress event itself gains only the documented keys.
        self.assertEqual(dict(msg['payload'], is_incremental=False),
                         got['payload'])
        self.assertEqual([(PARENT, sizes.Size(8292, 3))],
                         self.recorder.calls)
        self.assertEqual(8292, self.stored_bytes(PARENT))
        # create.start knows nothing yet, and says nothing.
        got = self.sent(message('backup.create.start', backup_id=PARENT,
                                parent_id=None))
        self.assertNotIn('stored_bytes', got['payload'])

    def test_a_repeated_event_counts_once(self):
        for _ in range(3):
            self.sent(progress(CHILD, [100, 200], parent_id=PARENT))
        self.assertEqual(300, self.stored_bytes(CHILD, PARENT))
        # Each write is the same upsert: one row (TestSizesTable).
        self.assertEqual({(CHILD, sizes.Size(300, 2))},
                         set(self.recorder.calls))

    def test_an_unchanged_volume_wrote_zero(self):
        self.sent(progress(CHILD, [], parent_id=PARENT))
        self.assertEqual([(CHILD, sizes.Size(0, 0))], self.recorder.calls)
        self.assertEqual(0, self.stored_bytes(CHILD, PARENT))

    def test_a_missed_event_is_unknown_not_zero(self):
        self.sent(progress(PARENT, [10], percent=50))
        self.assertIsNone(self.stored_bytes(PARENT))
        self.assertEqual([], self.recorder.calls)

    def test_a_refused_write_loses_nothing(self):
        self.recorder.error = RuntimeError('database is gone')
        msg = progress(CHILD, [7], parent_id=PARENT)
        self.assertEqual(dict(msg['payload'], is_incremental=True),
                         self.sent(msg)['payload'])
        self.assertIn('cannot record the size of backup %s '
                      '(RuntimeError: database is gone)' % CHILD,
                      self.log.output)
        # The number is known all the same.
        self.assertEqual(7, self.stored_bytes(CHILD, PARENT))
        # One outage, one failure: neither reads nor writes are tried.
        self.sent(progress(PARENT, [1]))
        self.sent(message(backup_id=PARENT, parent_id=None))
        self.assertEqual(1, len(self.recorder.calls))
        self.assertEqual([], self.lookups.calls)

    def test_a_failed_read_pauses_the_writes_too(self):
        self.lookups.error = RuntimeError('database is gone')
        self.sent(message('backup.create.start', backup_id=PARENT,
                          parent_id=None))
        self.sent(progress(PARENT, [10]))
        self.assertEqual([], self.recorder.calls)
        self.assertEqual(10, self.stored_bytes(PARENT))
        self.assertEqual([PARENT], self.lookups.calls)

    def test_a_slow_write_is_cut_short(self):
        recorder = _Recorder(delay=5)
        self.driver = self.make_driver(self.lookups, timeout=0.1,
                                       recorder=recorder)
        self.sent(progress(PARENT, [10]))
        self.assertFalse(recorder.done.is_set())
        self.assertIn('backup %s (timed out after 0.1 s)' % PARENT,
                      self.log.output)
        self.assertEqual(10, self.stored_bytes(PARENT))

    def test_a_missing_table_is_no_outage(self):
        self.recorder.error = sizes.NotSynced('no table t: run '
                                              'cinder-backup-ext-manage db '
                                              'sync')
        self.sent(progress(PARENT, [10]))
        self.assertIn('db sync', self.log.output)
        self.sent(progress(CHILD, [10], parent_id=PARENT))
        # Tried again, and reads go on.
        self.assertEqual(2, len(self.recorder.calls))
        self.sent(message(backup_id=PARENT, parent_id=None))
        self.assertEqual([PARENT], self.lookups.calls)

    def test_other_payloads_record_nothing(self):
        for msg in (message('backup.createprogress', backup_percent=100,
                            list=[]),                     # no backup_id
                    dict(progress(PARENT, [1]), payload=None),
                    message('volume.createprogress', backup_id=PARENT,
                            backup_percent=100, list=[])):
            self.sent(msg)
        self.assertEqual([], self.recorder.calls)
