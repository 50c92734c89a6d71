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

"""Consumes the local cloud's notifications into a JSON-lines file.

    python notify_listener.py --url rabbit://... --topic cbe_x --out ev.jsonl

An oslo.messaging notification listener, as billing would run one, on the
run's own topic and Cinder's exchange. Each notification becomes one line:
priority, publisher_id, event_type, payload, metadata. "listening" is
printed once the queues are declared, so run.sh starts tempest only after
that; SIGTERM stops it cleanly.
"""

import argparse
import json
import signal
import sys
import threading

from oslo_config import cfg
import oslo_messaging

PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical',
              'sample')


class Recorder(object):
    def __init__(self, out):
        self._out = out
        self._lock = threading.Lock()
        for priority in PRIORITIES:
            setattr(self, priority, self._handler(priority))

    def _handler(self, priority):
        def record(ctxt, publisher_id, event_type, payload, metadata):
            line = json.dumps({'priority': priority,
                               'publisher_id': publisher_id,
                               'event_type': event_type,
                               'payload': payload,
                               'metadata': metadata}, default=str)
            with self._lock:
                self._out.write(line + '\n')
                self._out.flush()
            return oslo_messaging.NotificationResult.HANDLED
        return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--topic', required=True)
    parser.add_argument('--exchange', default='cinder')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)

    conf = cfg.ConfigOpts()
    conf([], project='cbe-listener')
    transport = oslo_messaging.get_notification_transport(conf, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, exchange=args.exchange)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with open(args.out, 'a', encoding='utf-8') as out:
        listener = oslo_messaging.get_notification_listener(
            transport, [target], [Recorder(out)], executor='threading')
        listener.start()
        print('listening on topic %s, exchange %s' % (args.topic,
                                                      args.exchange),
              flush=True)
        stop.wait()
        listener.stop()
        listener.wait()
    transport.cleanup()
    print('stopped', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
