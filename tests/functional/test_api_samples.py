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

"""The API reference's samples against the real API's responses.

Every ``api-ref/source/samples/*.json`` is the response to one request
made here, through Cinder's real API with the plugin, after making the
backups the sample shows through the HTTP API. A sample and the response
must have:

- the same keys at every level, none extra, none missing;
- the same JSON types (an integer is not a float, null is only null);
- the same booleans (the scenario fixes them: a full backup with an
  incremental child has ``has_dependent_backups: true``);
- in strings, ids where the sample has ids (UUIDs), times where it has
  times (Cinder's ``2026-11-25T10:00:00.000000``), URLs where it has URLs.

So a sample cannot drift from the code: a key added to or removed from a
response, or a sample edited by hand into another shape, fails here. The
same idea as Cinder's own api_sample_tests, with patterns instead of
templates.

To see the responses the samples come from (to write a new one, or after
an intended change), set ``CBE_API_SAMPLES_DUMP`` to a directory: each
response is written there under its sample's name. Copy what you mean to
publish, replacing hosts and ids by tidy ones.
"""

import json
import os
import re

from oslo_config import cfg
import testtools

from cinder_backup_ext import compat
from cinder_backup_ext.db import sizes
from cinder_backup_ext import opts
from cinder_backup_ext import policies
from tests.functional import base

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, '..', '..', 'api-ref', 'source', 'samples')
DUMP = os.environ.get('CBE_API_SAMPLES_DUMP')

#: The microversion of every sample (api-ref/source says so).
MICROVERSION = '3.64'

#: A UUID, with dashes (Cinder's ids) or without (Keystone's project and
#: user ids).
UUID = re.compile(r'^[0-9a-f]{8}(-?)[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1'
                  r'[0-9a-f]{12}$')
#: Cinder's timestamps: UTC, microseconds, no zone suffix.
TIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')
URL = re.compile(r'^https?://[^/]+/')
#: Values that are maps of data, not of fixed keys: their keys are not
#: compared, only their values' types (a chain's count per status).
MAPS = frozenset(['statuses'])

_TYPES = ((bool, 'boolean'), (int, 'integer'), (float, 'number'),
          (str, 'string'), (list, 'array'), (dict, 'object'),
          (type(None), 'null'))


def _type(value):
    for python, name in _TYPES:  # bool before int: True is an int too
        if isinstance(value, python):
            return name
    return type(value).__name__


def _string_kind(value):
    for kind, pattern in (('UUID', UUID), ('time', TIME), ('URL', URL)):
        if pattern.match(value):
            return kind
    return None


def differences(sample, real, path='$'):
    """Every way ``real`` differs from ``sample``, as readable lines."""
    if _type(sample) != _type(real):
        return ['%s: sample has %s %r, response has %s %r'
                % (path, _type(sample), sample, _type(real), real)]
    found = []
    if isinstance(sample, dict):
        last = path.rsplit('.', 1)[-1]
        if last in MAPS:
            kinds = {_type(v) for v in sample.values()}
            for key, value in real.items():
                if kinds and _type(value) not in kinds:
                    found.append('%s.%s: %s, sample values are %s'
                                 % (path, key, _type(value),
                                    '/'.join(sorted(kinds))))
            return found
        for key in sorted(set(sample) - set(real)):
            found.append('%s: key %r is in the sample, not in the response'
                         % (path, key))
        for key in sorted(set(real) - set(sample)):
            found.append('%s: key %r is in the response, not in the sample'
                         % (path, key))
        for key in sorted(set(sample) & set(real)):
            found += differences(sample[key], real[key],
                                 '%s.%s' % (path, key))
    elif isinstance(sample, list):
        if len(sample) != len(real):
            found.append('%s: %d items in the sample, %d in the response'
                         % (path, len(sample), len(real)))
        for n, (one, other) in enumerate(zip(sample, real)):
            found += differences(one, other, '%s[%d]' % (path, n))
    elif isinstance(sample, bool):
        if sample != real:
            found.append('%s: sample says %s, response says %s'
                         % (path, json.dumps(sample), json.dumps(real)))
    elif isinstance(sample, str):
        kind = _string_kind(sample)
        if kind != _string_kind(real):
            found.append('%s: sample has %s %r, response has %r'
                         % (path, kind or 'a plain string', sample, real))
    return found


def load_sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return json.load(f)


class TestComparison(testtools.TestCase):
    """The comparison itself fails on what it must fail on (no Cinder)."""

    def setUp(self):
        super().setUp()
        self.sample = load_sample('backup-show-response.json')

    def changed(self, change):
        real = json.loads(json.dumps(self.sample))
        change(real['backup'])
        return differences(self.sample, real)

    def test_identical(self):
        self.assertEqual([], differences(self.sample, self.sample))

    def test_an_extra_key(self):
        self.assertEqual(
            ["$.backup: key 'colour' is in the response, not in the "
             "sample"],
            self.changed(lambda b: b.update(colour='blue')))

    def test_a_missing_key(self):
        self.assertEqual(
            ["$.backup: key 'is_incremental' is in the sample, not in the "
             "response"],
            self.changed(lambda b: b.pop('is_incremental')))

    def test_a_nested_key(self):
        self.assertEqual(
            ["$.backup.links[0]: key 'type' is in the response, not in "
             "the sample"],
            self.changed(lambda b: b['links'][0].update(type='x')))

    def test_types(self):
        self.assertEqual(
            ["$.backup.has_dependent_backups: sample has boolean True, "
             "response has string 'true'"],
            self.changed(lambda b: b.update(has_dependent_backups='true')))
        self.assertEqual(
            ["$.backup.size: sample has integer 1, response has number "
             "1.0"],
            self.changed(lambda b: b.update(size=1.0)))

    def test_booleans_as_documented(self):
        self.assertEqual(
            ['$.backup.is_incremental: sample says false, response says '
             'true'],
            self.changed(lambda b: b.update(is_incremental=True)))

    def test_ids_and_times_by_pattern(self):
        self.assertEqual([], self.changed(lambda b: b.update(
            id='00000000-1111-2222-3333-444444444444',
            created_at='1999-01-01T00:00:00.000000')))
        self.assertEqual(1, len(self.changed(
            lambda b: b.update(id='not-a-uuid'))))
        self.assertEqual(1, len(self.changed(
            lambda b: b.update(created_at='2026-11-25 10:00:00'))))

    def test_every_sample_is_tested(self):
        tested = set()
        for case in (TestApiSamples, TestApiSamplesFlagsHidden,
                     TestApiSamplesRefusals):
            tested.update(case.SAMPLES)
        self.assertEqual(
            sorted(name for name in os.listdir(SAMPLES)
                   if name.endswith('.json')),
            sorted(tested))


class SampleTestMixin(object):

    #: Sample file name -> the request: a path under /v3/{project_id} to
    #: GET, or (path, body) to POST.
    SAMPLES = {}

    def sample_api(self):
        return base.client.TestOpenStackClient(
            self.api.auth_user, self.api.auth_key, self.auth_url,
            MICROVERSION)

    def make_backup(self, volume_id, name, description, incremental=False):
        body = {'backup': {'volume_id': volume_id, 'name': name,
                           'description': description,
                           'incremental': incremental}}
        backup = self.api.api_post('/backups', body)['backup']
        return self._wait(lambda: self.get_backup(backup['id']), 'available')

    def check_samples(self):
        api = self.sample_api()
        problems = []
        for name, request in sorted(self.SAMPLES.items()):
            if isinstance(request, tuple):
                path, body = request
                real = api.api_request(
                    path, method='POST', body=json.dumps(body),
                    check_response_status=None).json()
            else:
                path, real = request, api.api_get(request)
            if DUMP:
                os.makedirs(DUMP, exist_ok=True)
                with open(os.path.join(DUMP, name), 'w') as f:
                    json.dump(real, f, indent=4, sort_keys=True)
                    f.write('\n')
            problems += ['%s (%s): %s' % (name, path, line)
                         for line in differences(load_sample(name), real)]
        if problems:
            self.fail('The API reference samples differ from the API:\n'
                      + '\n'.join(problems))


class TestApiSamples(SampleTestMixin, base.CinderTestCase):
    """Two chains of one volume: monday (full) <- tuesday, and wednesday."""

    SAMPLES = {
        'backup-show-response.json': '/backups/{monday}',
        'backup-show-incremental-response.json': '/backups/{tuesday}',
        'backups-list-detailed-response.json': '/backups/detail',
        'backup-chains-list-response.json': '/os-backup-chains',
        'backup-chains-list-paged-response.json':
            '/os-backup-chains?limit=1',
        'backup-chain-show-response.json': '/os-backup-chains/{monday}',
    }

    def test_samples(self):
        volume = self.create_volume()
        monday = self.make_backup(volume['id'], 'monday',
                                  'Full backup of the database volume')
        tuesday = self.make_backup(volume['id'], 'tuesday',
                                   'Changes since monday', incremental=True)
        self.make_backup(volume['id'], 'wednesday',
                         'Full backup of the database volume')
        ids = {'monday': monday['id'], 'tuesday': tuesday['id']}
        # What the notifier records in cinder-backup (test_stored_sizes
        # runs it); wednesday's is not known.
        for backup_id, stored in ((monday['id'], 734003200),
                                  (tuesday['id'], 3276800)):
            sizes.record(compat.get_engine(), backup_id,
                         sizes.Size(stored, 1))
        self.SAMPLES = {name: path.format(**ids)
                        for name, path in self.SAMPLES.items()}
        self.check_samples()


class TestApiSamplesFlagsHidden(SampleTestMixin, base.CinderTestCase):
    """The rule denies: both keys are gone from show and detail."""

    policy_rules = {policies.SHOW_FLAGS: '!'}
    SAMPLES = {
        'backup-show-flags-hidden-response.json': '/backups/{backup}',
    }

    def test_samples(self):
        volume = self.create_volume()
        backup = self.make_backup(volume['id'], 'monday',
                                  'Full backup of the database volume')
        self.SAMPLES = {name: path.format(backup=backup['id'])
                        for name, path in self.SAMPLES.items()}
        self.check_samples()


class TestApiSamplesRefusals(SampleTestMixin, base.CinderTestCase):
    """The plugin's 409s: a restore and a create it refuses.

    A restore through a broken chain, and a create over the chain cap
    (``chain_cap_action = reject``).
    """

    # The requests carry the ids the test makes.
    SAMPLES = dict.fromkeys(['backup-restore-refused-response.json',
                             'backup-create-refused-response.json'])

    def setUp(self):
        opts.register_opts(cfg.CONF)
        super().setUp()

    def test_samples(self):
        self.override_config('max_chain_depth', 1, group=opts.GROUP)
        self.override_config('chain_cap_action', 'reject', group=opts.GROUP)
        volume = self.create_volume()
        monday = self.make_backup(volume['id'], 'monday',
                                  'Full backup of the database volume')
        tuesday = self.make_backup(volume['id'], 'tuesday',
                                   'Changes since monday', incremental=True)
        self.set_backup_columns(monday['id'], status='error')
        self.SAMPLES = {
            'backup-restore-refused-response.json': (
                '/backups/%s/restore' % tuesday['id'],
                {'restore': {'volume_id': volume['id']}}),
            # The sample says 4 and 3: the same message, a likelier cap.
            'backup-create-refused-response.json': (
                '/backups', {'backup': {'volume_id': volume['id'],
                                        'incremental': True}}),
        }
        self.check_samples()
