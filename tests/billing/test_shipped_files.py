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

FULL = str(uuid.uuid4())
INCR = str(uuid.uuid4())
VOLUME = str(uuid.uuid4())
PROJECT = uuid.uuid4().hex
USER = uuid.uuid4().hex


def notification(event_type, backup_id, parent_id, enriched=True, size=2):
    """A backup notification as Ceilometer's agent receives it."""
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

    def samples(self, message):
        return list(self.endpoint.build_sample(message))

    def test_ours_replaces_the_stock_definition(self):
        self.assertEqual(1, len(self.backup_defs))
        self.assertIn('backup_type', self.backup_defs[0].cfg['metadata'])

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
            self.assertEqual([], self.samples(notification(event, FULL, None)))

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
        self.assertEqual(['backup.size@#backup'], list(validated))
        self.validated = {'backup.size': validated['backup.size@#backup']}

    def test_backup_metric(self):
        met = self.validated['backup.size']
        self.assertIn('backup_type', met['groupby'])
        self.assertIn('project_id', met['groupby'])
        self.assertIn('id', met['groupby'])
        self.assertEqual('cinder_backup', met['extra_args']['resource_type'])
        self.assertEqual('max', met['extra_args']['aggregation_method'])
        self.assertEqual('GiB', met['unit'])

    def test_granularity_is_in_the_archive_policy(self):
        import pytimeparse
        with open(RESOURCES) as f:
            res = yaml.safe_load(f)
        [policy] = res['archive_policies']
        granularities = [pytimeparse.parse(d['granularity'])
                         for d in policy['definition']]
        met = self.validated['backup.size']
        self.assertIn(met['extra_args']['force_granularity'], granularities)
        self.assertIn(met['extra_args']['aggregation_method'],
                      policy['aggregation_methods'])
        self.assertEqual(policy['name'], res['resources'][0]['metrics'][
            'backup.size']['archive_policy_name'])

    def test_hashmap_example(self):
        with open(HASHMAP) as f:
            hashmap = yaml.safe_load(f)
        # CloudKitty names the rated service after the metric's alt_name.
        self.assertEqual(self.validated['backup.size']['alt_name'],
                         hashmap['service'])
        self.assertIn(hashmap['field'],
                      self.validated['backup.size']['groupby'])
        self.assertEqual({'full', 'incremental'}, set(hashmap['mappings']))
        prices = set(hashmap['mappings'].values())
        self.assertEqual(2, len(prices))  # two prices, else nothing to prove

    def test_a_broken_entry_is_refused(self):
        from cloudkitty import collector
        broken = copy.deepcopy(self.conf)
        del broken['metrics']['backup.size']['extra_args']['resource_type']
        import voluptuous
        self.assertRaises(voluptuous.Invalid, collector.validate_conf, broken)
