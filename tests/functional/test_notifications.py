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

"""Backup notifications through the hook, over a real RabbitMQ.

Cinder's own backup manager emits them while full and incremental backups
are created, restored and deleted through Cinder's API; an oslo.messaging
notification listener consumes them, as Ceilometer does.
"""

import collections
import socket
import threading
import time
import uuid

from cinder.tests.functional.api import client
import fixtures
import kombu
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import oslo_messaging
from oslo_messaging.notify import _impl_test
from oslotest import base as oslotest_base
import sqlalchemy as sa
from testtools import content

from cinder_backup_ext import notify
from cinder_backup_ext import opts
from tests.functional import base

# The queues a notifier or a listener declares: "<topic>.<priority>".
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample')


class _Collector(object):
    """A notification endpoint that keeps everything it is sent."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.messages.append((event_type, payload, metadata))


def delete_queues(topic):
    """Delete the queues of ``topic``; oslo.messaging leaves them behind."""
    with kombu.Connection(base.RABBIT.replace('rabbit://', 'amqp://', 1)
                          ) as conn:
        channel = conn.channel()
        for priority in PRIORITIES:
            # RabbitMQ deletes a queue that does not exist without error.
            channel.queue_delete('%s.%s' % (topic, priority))


def listen(testcase, topic, conf=cfg.CONF):
    # Registered first, so it runs last: after the listener stopped and
    # after the test's senders were cleaned up.
    testcase.addCleanup(delete_queues, topic)
    transport = oslo_messaging.get_notification_transport(conf,
                                                          url=base.RABBIT)
    collector = _Collector()
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [collector],
        executor='threading')
    listener.start()
    testcase.addCleanup(transport.cleanup)
    testcase.addCleanup(listener.wait)
    testcase.addCleanup(listener.stop)
    return collector


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


class TestBackupNotifications(base.CinderTestCase):

    def rabbit_collector(self):
        """Cinder's notifications through the plugin, as RabbitMQ has them."""
        topic = 'cbe-%s' % uuid.uuid4().hex
        collector = listen(self, topic)
        self.notify_over_rabbit(topic)
        return collector

    def test_every_backup_event_carries_its_parent(self):
        collector = self.rabbit_collector()
        volume = self.create_volume()
        full = self.create_backup(volume['id'])
        child = self.create_backup(volume['id'], incremental=True)
        target = self.create_volume()
        self.api.api_post('/backups/%s/restore' % child['id'],
                          {'restore': {'volume_id': target['id']}})
        self._wait(lambda: self.api.get_volume(target['id']), 'available')
        self.api.api_delete('/backups/%s' % child['id'])

        expected = collections.Counter(
            [(full['id'], 'backup.create.start'),
             (full['id'], 'backup.create.end'),
             (child['id'], 'backup.create.start'),
             (child['id'], 'backup.create.end'),
             (child['id'], 'backup.restore.start'),
             (child['id'], 'backup.restore.end'),
             (child['id'], 'backup.delete.start'),
             (child['id'], 'backup.delete.end')])

        def backup_events():
            return collections.Counter(
                (payload.get('backup_id'), event_type)
                for event_type, payload, _meta in list(collector.messages)
                if event_type.startswith('backup.')
                and event_type != 'backup.createprogress')

        self.assertTrue(wait_for(lambda: backup_events() >= expected),
                        backup_events())
        time.sleep(1)  # a duplicate would arrive by now
        self.assertEqual(expected, backup_events())

        parents = {full['id']: None, child['id']: full['id']}
        ids = [meta['message_id'] for _e, _p, meta in collector.messages]
        self.assertEqual(len(ids), len(set(ids)))
        for event_type, payload, _meta in collector.messages:
            if not event_type.startswith('backup.'):
                self.assertNotIn('is_incremental', payload)
                continue
            backup_id = payload['backup_id']
            self.assertEqual(parents[backup_id], payload['parent_id'])
            self.assertEqual(parents[backup_id] is not None,
                             payload['is_incremental'], event_type)

    def test_a_backup_made_full_says_why(self):
        opts.register_opts(cfg.CONF)
        self.override_config('max_chain_depth', 1, group=opts.GROUP)
        collector = self.rabbit_collector()
        volume = self.create_volume()
        full = self.create_backup(volume['id'])
        child = self.create_backup(volume['id'], incremental=True)
        # Incremental number 2 is over the cap: made full. The reason is
        # recorded where backups have metadata, from microversion 3.43.
        self.api = client.TestOpenStackClient(
            self.api.auth_user, self.api.auth_key, self.auth_url, '3.43')
        made = self.create_backup(volume['id'], incremental=True)

        def reasons():
            return {(payload['backup_id'], event_type):
                    payload.get('forced_full_reason', 'absent')
                    for event_type, payload, _meta in list(collector.messages)
                    if event_type.startswith('backup.create.')}

        keys = {(backup['id'], 'backup.create.%s' % end)
                for backup in (full, child, made) for end in ('start', 'end')}
        self.assertTrue(wait_for(lambda: set(reasons()) >= keys), reasons())
        got = reasons()
        self.assertEqual({None}, {got[key] for key in keys
                                  if key[0] != made['id']})
        for end in ('start', 'end'):
            self.assertIn('made full: it would be incremental number 2 after '
                          'the full backup %s, and [cinder_backup_ext] '
                          'max_chain_depth is 1' % full['id'],
                          got[(made['id'], 'backup.create.%s' % end)])


class SilentServer(fixtures.Fixture):
    """A TCP server on 127.0.0.1 that accepts connections and never answers.

    A database host whose server hangs: the client connects, then waits
    for a greeting that does not come. Stopping it closes every socket, so
    a client still waiting gets an error and its thread ends.
    """

    def _setUp(self):
        self.accepted = []
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(16)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        stop = threading.Event()
        thread = threading.Thread(target=self._accept, args=(listener, stop),
                                  daemon=True)
        thread.start()
        self.addCleanup(listener.close)
        self.addCleanup(self._close_accepted)
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)

    def _accept(self, listener, stop):
        while not stop.is_set():
            try:
                self.accepted.append(listener.accept()[0])
            except socket.timeout:
                pass

    def _close_accepted(self):
        for conn in self.accepted:
            conn.close()


class TestDatabaseDown(oslotest_base.BaseTestCase):
    """Older emitters send payloads without parent_id; the DB is down.

    The hook must cost a burst at most one lookup timeout: counted, not
    timed (this machine is shared), the whole burst makes one lookup, with
    oslo.messaging's in-memory driver behind the hook; then the same burst
    goes through RabbitMQ and must arrive whole and unchanged. The times
    are reported, not asserted.
    """

    BURST = 10000

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(
            config_fixture.Config(cfg.ConfigOpts())).conf
        self.conf([], default_config_files=[])
        self.log = self.useFixture(fixtures.FakeLogger(name=notify.__name__))
        notify.opts.register_opts(self.conf)
        # One outage, one lookup: a burst that outlasts the default 30 s
        # backoff on a loaded machine would try again.
        self.conf.set_override('notification_lookup_backoff', 3600,
                               group='cinder_backup_ext')
        self.timeout = self.conf.cinder_backup_ext.notification_lookup_timeout
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)

    def database(self, url):
        """Make ``url`` Cinder's database for the hook."""
        engine = sa.create_engine(url)
        self.addCleanup(engine.dispose)
        # Each lookup asks for the engine once: the calls count lookups.
        self.lookups = self.useFixture(fixtures.MockPatchObject(
            notify, '_cinder_engine', return_value=engine)).mock

    def notifier(self, inner, topic, transport_url):
        self.conf.set_override('notification_drivers', [inner],
                               group='cinder_backup_ext')
        transport = oslo_messaging.get_notification_transport(
            self.conf, url=transport_url)
        self.addCleanup(transport.cleanup)
        return oslo_messaging.Notifier(
            transport, publisher_id='backup.old-host',
            driver='cinder_backup_ext', topics=[topic])

    def send_burst(self, notifier):
        """(backup ids, seconds for the first message, for all)."""
        sent = [str(uuid.uuid4()) for _ in range(self.BURST)]
        started = time.monotonic()
        first = None
        for backup_id in sent:
            notifier.info({}, 'backup.create.end',
                          {'backup_id': backup_id, 'status': 'available'})
            if first is None:
                first = time.monotonic() - started
        return sent, first, time.monotonic() - started

    def assertUnenriched(self, sent, payloads):
        self.assertEqual(sorted(sent), sorted(p['backup_id']
                                              for p in payloads))
        self.assertFalse(any('parent_id' in p for p in payloads))

    def assertBurstUnharmed(self, what):
        """Time the hook, then deliver through RabbitMQ; the first delay."""
        sent, first, elapsed = self.send_burst(
            self.notifier('test', 'hook-only', 'fake:/'))
        report = ('%d notifications through the hook in %.2f s with the '
                  'database %s (the first %.2f s); lookup timeout %g s'
                  % (self.BURST, elapsed, what, first, self.timeout))
        self.assertUnenriched(sent, [m[1]['payload']
                                     for m in _impl_test.NOTIFICATIONS])
        # One outage, one lookup, so at most one timeout for the burst.
        self.assertEqual(1, self.lookups.call_count, report)
        self.assertIn('cinder-backup-ext: cannot read backup ',
                      self.log.output)

        topic = 'cbe-%s' % uuid.uuid4().hex
        collector = listen(self, topic, self.conf)
        sent, _first, elapsed = self.send_burst(
            self.notifier('messagingv2', topic, base.RABBIT))
        self.assertTrue(wait_for(
            lambda: len(collector.messages) >= self.BURST, timeout=300),
            len(collector.messages))
        self.assertUnenriched(sent, [p for _e, p, _m in collector.messages])
        report += '; %d sent through RabbitMQ in %.2f s' % (self.BURST,
                                                            elapsed)
        print(report)
        self.addDetail('burst', content.text_content(report))
        return first

    def test_refused_connections(self):
        self.database('mysql+pymysql://cinder:x@127.0.0.1:1/c')
        self.assertBurstUnharmed('refusing connections')
        self.assertNotIn('timed out', self.log.output)

    def test_silent_server(self):
        # PyMySQL waits 10 s for the server's greeting: the lookup timeout
        # must cut that short, once for the whole burst.
        server = self.useFixture(SilentServer())
        self.database('mysql+pymysql://cinder:x@127.0.0.1:%d/c'
                      % server.port)
        first = self.assertBurstUnharmed('silent')
        self.assertEqual(2, len(server.accepted))  # one lookup per hook
        self.assertEqual(2, self.lookups.call_count)
        # The one lookup waited the timeout, and it was the first message's.
        self.assertGreaterEqual(first, self.timeout)
        self.assertIn('(timed out after %g s)' % self.timeout,
                      self.log.output)
