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

"""The billing files in etc/, checked by the services' own code.

These need Ceilometer, Gnocchi and CloudKitty installed: they run in
``tox -e billing`` only (the default envs have Cinder alone).
"""

import copy
import decimal
import json
import os
import tempfile
import unittest
from unittest import mock
import uuid

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ETC = os.path.join(TOP, 'etc')
METERS_D = os.path.join(ETC, 'ceilometer', 'meters.d')
RESOURCES = os.path.join(ETC, 'ceilometer',
                         'gnocchi_resources.cinder-backup-ext.yaml')
RESOURCE_TYPE = os.path.join(ETC, 'gnocchi',
                             'cinder_backup.resource_type.json')
METRICS = os.path.join(ETC, 'cloudkitty', 'metrics.yml')
HASHMAP = os.path.join(ETC, 'cloudkitty', 'hashmap-backup.yaml')
HASHMAP_STORED = os.path.join(ETC, 'cloudkitty', 'hashmap-backup-stored.yaml')

FULL = str(uuid.uuid4())
INCR = str(uuid.uuid4())
VOLUME = str(uuid.uuid4())
PROJECT = uuid.uuid4().hex
USER = uuid.uuid4().hex
MIB = 1 << 20


MISSING = object()


def notification(event_type, backup_id, parent_id, enriched=True, size=2,
                 stored=MISSING):
    """A backup notification as Ceilometer's agent receives it.

    stored: the stored_bytes the driver adds to backup.create.end (an int,
    or None when unknown); MISSING leaves the key out.
    """
    payload = {'tenant_id': PROJECT, 'user_id': USER,
               'availability_zone': 'nova', 'backup_id': backup_id,
               'host': 'backup-host', 'display_name': 'b-' + backup_id[:8],
               'created_at': '2026-11-25T10:00:00', 'status': 'available',
               'volume_id': VOLUME, 'size': size, 'service_metadata': None,
               'service': 'cinder.backup.drivers.posix', 'fail_reason': None,
               'parent_id': parent_id, 'num_dependent_backups': 0,
               'snapshot_id': None}
    if enriched:  # what the cinder_backup_ext driver adds
        payload['is_incremental'] = parent_id is not None
    if stored is not MISSING:
        payload['stored_bytes'] = stored
    return {'event_type': event_type, 'publisher_id': 'backup.backup-host',
            'priority': 'INFO', 'payload': payload,
            'ctxt': {'user_id': USER, 'project_id': PROJECT},
            'metadata': {'timestamp': '2026-11-25 10:00:05.123456',
                         'message_id': str(uuid.uuid4())}}


def ceilometer_conf():
    from ceilometer import service
    conf = service.prepare_service(argv=[], config_files=[])
    from ceilometer.meter import notifications
    default_dir = notifications.OPTS[0].default[-1]
    conf.set_override('meter_definitions_dirs', [METERS_D, default_dir],
                      group='meter')
    # A cache backend that needs no memcache module: Ceilometer's default
    # makes dogpile load every backend and log an ERROR for memcache's.
    from oslo_cache import core as cache
    cache.configure(conf)
    conf.set_override('enabled', True, 'cache')
    conf.set_override('backend', 'dogpile.cache.memory', 'cache')
    return conf


class CeilometerMeterTest(unittest.TestCase):
    """etc/ceilometer/meters.d through Ceilometer's notification handling."""

    @classmethod
    def setUpClass(cls):
        from ceilometer.meter import notifications
        cls.conf = ceilometer_conf()
        cls.endpoint = notifications.ProcessMeterNotifications(
            cls.conf, mock.Mock())
        cls.backup_defs = [d for d in cls.endpoint.definitions
                           if d.cfg['name'] == 'backup.size']

    def samples(self, message, name='backup.size'):
        """Ceilometer's samples of message, of meter name (None: all)."""
        return [s for s in self.endpoint.build_sample(message)
                if name is None or s.name == name]

    def test_ours_replaces_the_stock_definition(self):
        self.assertEqual(1, len(self.backup_defs))
        self.assertIn('backup_type', self.backup_defs[0].cfg['metadata'])

    def test_stored_bytes(self):
        # A full, an incremental, an incremental of an unchanged volume: 0
        # is a known size and stays a sample of volume 0.
        for backup_id, parent, stored, btype in (
                (FULL, None, 1 << 30, 'full'),
                (INCR, FULL, 3 * MIB + 65536, 'incremental'),
                (INCR, FULL, 0, 'incremental')):
            message = notification('backup.create.end', backup_id, parent,
                                   stored=stored)
            self.assertEqual(['backup.size', 'backup.stored'], sorted(
                s.name for s in self.samples(message, None)))
            [sample] = self.samples(message, 'backup.stored')
            self.assertEqual(stored, sample.volume)
            self.assertEqual('B', sample.unit)
            self.assertEqual('gauge', sample.type)
            self.assertEqual(backup_id, sample.resource_id)
            self.assertEqual(PROJECT, sample.project_id)
            self.assertEqual(USER, sample.user_id)
            self.assertEqual(btype, sample.resource_metadata['backup_type'])
            self.assertEqual(parent, sample.resource_metadata.get('parent_id'))
            # The same attributes as backup.size: one resource, updated
            # from either sample.
            [size] = self.samples(message)
            self.assertEqual(size.resource_metadata, sample.resource_metadata)

    def test_stored_bytes_only_from_create_end(self):
        # The driver puts stored_bytes in backup.create.end only; a key
        # in another event would not make a measure either.
        for event in ('backup.exists', 'backup.delete.end',
                      'backup.restore.end', 'backup.create.start'):
            self.assertEqual([], self.samples(
                notification(event, FULL, None, stored=5), 'backup.stored'))

    def test_unknown_stored_bytes_is_dropped_not_zero(self):
        """null or absent stored_bytes: no sample leaves the pipeline.

        Through Ceilometer's own sample pipeline, as the agent runs it,
        into its in-memory test:// publisher.
        """
        from ceilometer.meter import notifications
        from ceilometer.pipeline import sample as sample_pipeline
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'pipeline.yaml')
            with open(path, 'w') as f:
                yaml.safe_dump({
                    'sources': [{'name': 'backups', 'sinks': ['memory'],
                                 'meters': ['backup.size', 'backup.stored']}],
                    'sinks': [{'name': 'memory',
                               'publishers': ['test://']}]}, f)
            self.conf.set_override('pipeline_cfg_file', path)
            self.addCleanup(self.conf.clear_override, 'pipeline_cfg_file')
            manager = sample_pipeline.SamplePipelineManager(self.conf)
        [pipe] = manager.pipelines
        [publisher] = pipe.sink.publishers
        endpoint = notifications.ProcessMeterNotifications(
            self.conf, manager.publisher())
        ids = [str(uuid.uuid4()) for _ in range(4)]
        endpoint.info([
            notification('backup.create.end', ids[0], None, stored=None),
            notification('backup.create.end', ids[1], None, enriched=False),
            notification('backup.create.end', ids[2], FULL, stored=0),
            notification('backup.create.end', ids[3], FULL, stored=7)])
        got = sorted((ids.index(s.resource_id), s.name, s.volume)
                     for s in publisher.samples)
        self.assertEqual([(0, 'backup.size', 2), (1, 'backup.size', 2),
                          (2, 'backup.size', 2), (2, 'backup.stored', 0),
                          (3, 'backup.size', 2), (3, 'backup.stored', 7)],
                         got)

    def test_full_backup(self):
        for event in ('backup.create.end', 'backup.exists',
                      'backup.delete.end', 'backup.restore.end'):
            [sample] = self.samples(notification(event, FULL, None))
            self.assertEqual('backup.size', sample.name)
            self.assertEqual(FULL, sample.resource_id)
            self.assertEqual(PROJECT, sample.project_id)
            self.assertEqual(2, sample.volume)
            self.assertEqual('GiB', sample.unit)
            self.assertEqual('full', sample.resource_metadata['backup_type'])
            self.assertNotIn('parent_id', sample.resource_metadata)
            self.assertEqual(VOLUME, sample.resource_metadata['volume_id'])

    def test_incremental_backup(self):
        [sample] = self.samples(notification('backup.exists', INCR, FULL))
        self.assertEqual('incremental',
                         sample.resource_metadata['backup_type'])
        self.assertEqual(FULL, sample.resource_metadata['parent_id'])

    def test_without_the_driver_no_backup_type(self):
        for parent in (None, FULL):
            [sample] = self.samples(notification(
                'backup.create.end', INCR, parent, enriched=False))
            self.assertNotIn('backup_type', sample.resource_metadata)

    def test_start_and_progress_events_are_not_metered(self):
        for event in ('backup.create.start', 'backup.createprogress',
                      'backup.delete.start'):
            self.assertEqual([], self.samples(
                notification(event, FULL, None, stored=5), None))

    def test_gnocchi_publisher_resource_attributes(self):
        from ceilometer.publisher import gnocchi
        from cinder_backup_ext.cmd import merge_resources
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'gnocchi_resources.yaml')
            merge_resources.main([path])
            defs, policies = gnocchi.GnocchiPublisher._load_definitions(
                self.conf, None, path)
        metric_map = {m: rd for rd in defs for m in rd.metrics}
        rd = metric_map['backup.size']
        self.assertEqual('cinder_backup', rd.cfg['resource_type'])
        policy = rd.metrics['backup.size']['archive_policy_name']
        self.assertIn(policy, [p['name'] for p in policies])
        # backup.stored: a second metric of the same resource.
        self.assertIs(rd, metric_map['backup.stored'])
        self.assertEqual(policy,
                         rd.metrics['backup.stored']['archive_policy_name'])
        [stored] = self.samples(notification(
            'backup.create.end', INCR, FULL, stored=3 * MIB), 'backup.stored')
        [size] = self.samples(notification(
            'backup.create.end', INCR, FULL, stored=3 * MIB))
        self.assertEqual(rd.sample_attributes(size),
                         rd.sample_attributes(stored))
        # Ceilometer's stock metrics are all still mapped.
        self.assertIn('volume.size', metric_map)
        [full] = self.samples(notification('backup.create.end', FULL, None))
        self.assertEqual({'display_name': 'b-' + FULL[:8],
                          'volume_id': VOLUME, 'backup_type': 'full'},
                         rd.sample_attributes(full))
        [incr] = self.samples(notification('backup.create.end', INCR, FULL))
        self.assertEqual('incremental',
                         rd.sample_attributes(incr)['backup_type'])
        self.assertEqual(FULL, rd.sample_attributes(incr)['parent_id'])
        [bare] = self.samples(notification('backup.create.end', FULL, None,
                                           enriched=False))
        self.assertNotIn('backup_type', rd.sample_attributes(bare))


class GnocchiResourceTypeTest(unittest.TestCase):
    """etc/gnocchi through Gnocchi's resource type schema."""

    def setUp(self):
        from gnocchi.indexer import sqlalchemy_base
        from gnocchi.rest import api
        manager = sqlalchemy_base.RESOURCE_TYPE_SCHEMA_MANAGER
        with open(RESOURCE_TYPE) as f:
            body = manager(json.load(f))  # what POST /v1/resource_type does
        self.rt = manager.resource_type_from_dict(state='active', **body)
        import voluptuous
        schema = api.ResourceSchema(self.rt.schema)
        schema['id'] = str  # the API adds it (ResourceID)
        self.resource_schema = voluptuous.Schema(schema)

    def test_attributes(self):
        attrs = self.rt.jsonify()['attributes']
        self.assertEqual('cinder_backup', self.rt.name)
        self.assertEqual({'backup_type', 'parent_id', 'volume_id',
                          'display_name'}, set(attrs))
        for attr in attrs.values():  # else the negative run has no resource
            self.assertFalse(attr['required'])

    def test_resources_as_ceilometer_creates_them(self):
        common = {'id': INCR, 'user_id': USER, 'project_id': PROJECT,
                  'display_name': 'b', 'volume_id': VOLUME}
        for extra in ({'backup_type': 'full'},
                      {'backup_type': 'incremental', 'parent_id': FULL},
                      {}):
            self.resource_schema(dict(common, **extra))
        import voluptuous
        self.assertRaises(voluptuous.Invalid, self.resource_schema,
                          dict(common, parent_id='not-a-uuid'))


class CloudKittyMetricsTest(unittest.TestCase):
    """etc/cloudkitty through CloudKitty's metrics.yml validation."""

    def setUp(self):
        from cloudkitty import collector
        from oslo_config import cfg
        self.addCleanup(cfg.CONF.clear_override, 'collector', 'collect')
        cfg.CONF.set_override('collector', 'gnocchi', 'collect')
        with open(METRICS) as f:
            self.conf = yaml.safe_load(f)
        validated = collector.validate_conf(copy.deepcopy(self.conf))
        # CloudKitty keys a metric as "<name>@#<alt_name>".
        self.assertEqual({'backup.size@#backup',
                          'backup.stored@#backup_stored'}, set(validated))
        self.validated = {key.split('@#')[0]: met
                          for key, met in validated.items()}

    def test_backup_metric(self):
        met = self.validated['backup.size']
        self.assertIn('backup_type', met['groupby'])
        self.assertIn('project_id', met['groupby'])
        self.assertIn('id', met['groupby'])
        self.assertEqual('cinder_backup', met['extra_args']['resource_type'])
        self.assertEqual('max', met['extra_args']['aggregation_method'])
        self.assertEqual('GiB', met['unit'])

    def test_stored_metric(self):
        from cloudkitty import utils
        met = self.validated['backup.stored']
        size = self.validated['backup.size']
        for key in ('groupby', 'metadata', 'extra_args'):
            self.assertEqual(size[key], met[key])
        self.assertEqual('GiB', met['unit'])
        # Gnocchi holds bytes; CloudKitty's own conversion gives GiB, exact.
        self.assertEqual(decimal.Decimal('0.0029296875'), utils.convert_unit(
            3 * MIB, met['factor'], met['offset']))
        self.assertEqual(1, utils.convert_unit(1 << 30, met['factor'],
                                               met['offset']))
        self.assertEqual(0, utils.convert_unit(0, met['factor'],
                                               met['offset']))

    def test_granularity_is_in_the_archive_policy(self):
        import pytimeparse
        with open(RESOURCES) as f:
            res = yaml.safe_load(f)
        [policy] = res['archive_policies']
        granularities = [pytimeparse.parse(d['granularity'])
                         for d in policy['definition']]
        for name, met in self.validated.items():
            self.assertIn(met['extra_args']['force_granularity'],
                          granularities)
            self.assertIn(met['extra_args']['aggregation_method'],
                          policy['aggregation_methods'])
            self.assertEqual(policy['name'], res['resources'][0]['metrics'][
                name]['archive_policy_name'])

    def test_hashmap_examples(self):
        for path, metric in ((HASHMAP, 'backup.size'),
                             (HASHMAP_STORED, 'backup.stored')):
            with open(path) as f:
                hashmap = yaml.safe_load(f)
            # CloudKitty names the rated service after the metric's
            # alt_name.
            self.assertEqual(self.validated[metric]['alt_name'],
                             hashmap['service'])
            self.assertIn(hashmap['field'],
                          self.validated[metric]['groupby'])
            self.assertEqual({'full', 'incremental'},
                             set(hashmap['mappings']))
            prices = set(hashmap['mappings'].values())
            # Two prices, else the job cannot tell the groups apart.
            self.assertEqual(2, len(prices))
            for price in prices:
                decimal.Decimal(price)  # CloudKitty's cost is a decimal

    def test_a_broken_entry_is_refused(self):
        from cloudkitty import collector
        broken = copy.deepcopy(self.conf)
        del broken['metrics']['backup.size']['extra_args']['resource_type']
        import voluptuous
        self.assertRaises(voluptuous.Invalid, collector.validate_conf, broken)
        broken = copy.deepcopy(self.conf)
        broken['metrics']['backup.stored']['factor'] = '1/GiB'
        self.assertRaises(voluptuous.Invalid, collector.validate_conf, broken)
