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
import threading
import time
import uuid

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import oslo_messaging
from oslotest import base as oslotest_base
import sqlalchemy as sa

from cinder_backup_ext import notify
from tests.functional import base


class _Collector(object):
    """A notification endpoint that keeps everything it is sent."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.messages.append((event_type, payload, metadata))


def listen(testcase, topic, conf=cfg.CONF):
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

    def test_every_backup_event_carries_its_parent(self):
        topic = 'cbe-%s' % uuid.uuid4().hex
        collector = listen(self, topic)
        self.notify_over_rabbit(topic)

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


class TestDatabaseDown(oslotest_base.BaseTestCase):
    """Older emitters send payloads without parent_id; the DB is down."""

    BURST = 10000

    def test_burst_arrives_whole_and_unenriched(self):
        conf = self.useFixture(config_fixture.Config(cfg.ConfigOpts())).conf
        conf([], default_config_files=[])
        log = self.useFixture(fixtures.FakeLogger(name=notify.__name__))
        nowhere = sa.create_engine('mysql+pymysql://cinder:x@127.0.0.1:1/c')
        self.useFixture(fixtures.MockPatchObject(
            notify, '_cinder_engine', return_value=nowhere))
        topic = 'cbe-%s' % uuid.uuid4().hex
        transport = oslo_messaging.get_notification_transport(
            conf, url=base.RABBIT)
        self.addCleanup(transport.cleanup)
        notifier = oslo_messaging.Notifier(
            transport, publisher_id='backup.old-host',
            driver='cinder_backup_ext', topics=[topic])
        collector = listen(self, topic, conf)

        sent = [str(uuid.uuid4()) for _ in range(self.BURST)]
        started = time.monotonic()
        for backup_id in sent:
            notifier.info({}, 'backup.create.end',
                          {'backup_id': backup_id, 'status': 'available'})
        elapsed = time.monotonic() - started
        self.assertTrue(wait_for(
            lambda: len(collector.messages) >= self.BURST, timeout=300),
            len(collector.messages))
        print('%d notifications sent in %.1fs with the database down'
              % (self.BURST, elapsed))

        payloads = [p for _e, p, _m in collector.messages]
        self.assertEqual(sorted(sent), sorted(p['backup_id']
                                              for p in payloads))
        self.assertFalse(any('parent_id' in p for p in payloads))
        self.assertIn('cannot read parent_id', log.output)
