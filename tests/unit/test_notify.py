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


class TestDriver(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts()))
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.WARNING, format='%(levelname)s %(message)s'))
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self.lookups = _Lookups({CHILD: PARENT, PARENT: None})
        self.driver = self.make_driver(self.lookups)

    def make_driver(self, lookups, timeout=0.2, backoff=30):
        conf = self.conf.conf
        notify.opts.register_opts(conf)
        self.conf.config(group='cinder_backup_ext',
                         notification_drivers=['test'],
                         notification_lookup_timeout=timeout,
                         notification_lookup_backoff=backoff)
        return notify.BackupNotifyDriver(conf, ['notifications'], None,
                                         read_backup=lookups)

    def sent(self, msg):
        before = copy.deepcopy(msg)
        _impl_test.reset()
        self.driver.notify({}, msg, 'INFO', -1)
        self.assertEqual(before, msg, 'the caller\'s message was edited')
        [(_ctxt, forwarded, _priority, _retry)] = _impl_test.NOTIFICATIONS
        return forwarded

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
