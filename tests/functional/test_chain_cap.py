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

"""The chain cap through Cinder's real API: the parent it predicts is the
parent Cinder records, and an incremental past the cap is made full or
refused before Cinder reserves anything.
"""

import datetime
import threading

from cinder.tests.functional.api import client
from oslo_config import cfg
import sqlalchemy as sa

from cinder_backup_ext import compat
from cinder_backup_ext.db import chain_rows
from cinder_backup_ext.db import tables
from cinder_backup_ext import opts
from cinder_backup_ext import policies
from tests.functional import base


def _ours(statement):
    """Which of the cap's statements this is, or None for Cinder's."""
    if 'cbe_spec_key' in statement:
        return 'extra specs'
    if 'parent_line' in statement:
        return 'parent line'
    return None


class _CapBase(base.CinderTestCase):

    def setUp(self):
        opts.register_opts(cfg.CONF)
        super().setUp()

    def cap(self, **values):
        for name, value in values.items():
            self.override_config(name, value, group=opts.GROUP)

    def parent_of(self, backup_id):
        with compat.get_engine().connect() as conn:
            return conn.execute(
                tables.BACKUPS.select().where(
                    tables.BACKUPS.c.id == backup_id)).first().parent_id

    def predicted(self, volume_id, snapshot_id=None):
        from cinder import context
        line = chain_rows.read_parent_line(
            context.get_admin_context(), volume_id, self.api.project_id,
            snapshot_id)
        return line[0]['id'] if line else None

    def post_backup(self, volume_id, api=None, **fields):
        fields.setdefault('incremental', True)
        body = {'backup': dict(volume_id=volume_id, **fields)}
        return (api or self.api).api_request(
            '/backups', method='POST', body=client.jsonutils.dumps(body),
            check_response_status=None)

    def api_at(self, version):
        return client.TestOpenStackClient(
            self.api.auth_user, self.api.auth_key, self.auth_url, version)


class TestPredictedParent(_CapBase):
    """Cap off: the prediction is what Cinder then records."""

    def assert_predicted(self, volume_id, **fields):
        expected = self.predicted(volume_id, fields.get('snapshot_id'))
        response = self.post_backup(volume_id, **fields)
        self.assertEqual(202, response.status_code, response.text)
        backup_id = response.json()['backup']['id']
        self.assertEqual(expected, self.parent_of(backup_id))
        return backup_id, expected

    def test_the_newest_available_by_data_timestamp(self):
        volume, (full, inc, newest) = self.create_chain()
        _backup, parent = self.assert_predicted(volume['id'])
        self.assertEqual(newest['id'], parent)
        self.wait_settled()

    def test_an_unavailable_newest_is_passed_over(self):
        volume, (full, inc, newest) = self.create_chain()
        self.set_backup_columns(newest['id'], status='error')
        # An older backup whose data is newest wins, as in Cinder.
        self.set_backup_columns(full['id'], data_timestamp=(
            datetime.datetime.utcnow() + datetime.timedelta(hours=1)))
        _backup, parent = self.assert_predicted(volume['id'])
        self.assertEqual(full['id'], parent)
        self.wait_settled()

    def test_forced_backup_of_an_in_use_volume(self):
        volume, (full, inc) = self.create_chain(length=2)
        volumes = sa.table('volumes', sa.column('id'), sa.column('status'))
        with compat.get_engine().begin() as conn:
            conn.execute(volumes.update().where(
                volumes.c.id == volume['id']).values(status='in-use'))
        _backup, parent = self.assert_predicted(volume['id'], force=True)
        self.assertEqual(inc['id'], parent)
        self.wait_settled()

    def test_from_a_snapshot_the_newest_older_than_it(self):
        volume, (full, inc) = self.create_chain(length=2)
        snapshot = self.api.api_post('/snapshots', {'snapshot': {
            'volume_id': volume['id']}})['snapshot']
        self._wait(lambda: self.api.api_get(
            '/snapshots/%s' % snapshot['id'])['snapshot'], 'available')
        # inc's data is newer than the snapshot: Cinder passes over it.
        self.set_backup_columns(inc['id'], data_timestamp=(
            datetime.datetime.utcnow() + datetime.timedelta(hours=1)))
        _backup, parent = self.assert_predicted(
            volume['id'], snapshot_id=snapshot['id'])
        self.assertEqual(full['id'], parent)

    def test_one_statement_while_no_cap_applies(self):
        volume, _chain = self.create_chain(length=1)
        ours = self.useFixture(base.StatementCounter(_ours))
        self.assertEqual(202, self.post_backup(volume['id']).status_code)
        self.assertEqual(['extra specs'], [_ours(s) for s in ours.statements])
        self.wait_settled()

    def test_no_parent_no_prediction(self):
        volume = self.create_volume()
        self.assertIsNone(self.predicted(volume['id']))
        response = self.post_backup(volume['id'])
        self.assertEqual(400, response.status_code, response.text)
        self.assertIn('No backups available', response.text)

    def wait_settled(self):
        # Leave no backup creating behind the test.
        for backup in self.list_backups():
            if backup['status'] == 'creating':
                self._wait(lambda b=backup: self.get_backup(b['id']),
                           'available')


class TestDepthCap(_CapBase):

    def setUp(self):
        super().setUp()
        self.cap(max_chain_depth=2)
        self.volume, self.chain = self.create_chain()  # depth 0, 1, 2

    def test_made_full_and_says_why(self):
        response = self.post_backup(self.volume['id'],
                                    api=self.api_at('3.43'))
        self.assertEqual(202, response.status_code, response.text)
        backup = self._wait(lambda: self.get_backup(
            response.json()['backup']['id'], api=self.api_at('3.43')),
            'available')
        self.assertIsNone(self.parent_of(backup['id']))
        self.assertIn('incremental number 3 after the full backup %s, and '
                      '[cinder_backup_ext] max_chain_depth is 2'
                      % self.chain[0]['id'],
                      backup['metadata'][tables.FORCED_FULL])
        # Cinder's own user message, as its Ceph driver posts it.
        messages = self.api_at('3.3').api_get('/messages')['messages']
        self.assertEqual(
            [('WARNING', 'create backup:Incremental backup not possible, '
              'forcing full backup.')],
            [(m['message_level'], m['user_message'])
             for m in messages if m['resource_uuid'] == self.volume['id']])
        # Below the cap, incrementals go on from the new full backup.
        response = self.post_backup(self.volume['id'])
        self.assertEqual(backup['id'],
                         self.parent_of(response.json()['backup']['id']))
        self.wait_deleted_or_available()

    def test_rejected_before_any_quota(self):
        self.cap(chain_cap_action='reject')
        before = self.usage()
        response = self.post_backup(self.volume['id'])
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('incremental number 3', response.text)
        self.assertIn('Take a full backup', response.text)
        self.assertEqual(3, len(self.list_backups()))
        self.assertEqual(before, self.usage())
        # A full backup is still welcome.
        response = self.post_backup(self.volume['id'], incremental=False)
        self.assertEqual(202, response.status_code, response.text)
        self.wait_deleted_or_available()

    def test_a_volume_type_overrides_the_options(self):
        vtype = self.api.api_post('/types', {'volume_type': {
            'name': 'capped-1', 'extra_specs': {
                'cinder_backup_ext:max_chain_depth': '1',
                'cinder_backup_ext:chain_cap_action': 'reject'}}})
        self.cap(max_chain_depth=0)
        volume = self.api.post_volume({'volume': {
            'size': 1, 'volume_type': vtype['volume_type']['id']}})
        volume = self._wait(lambda: self.api.get_volume(volume['id']),
                            'available')
        self.create_backup(volume['id'])
        self.create_backup(volume['id'], incremental=True)
        response = self.post_backup(volume['id'])
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('volume type extra spec '
                      'cinder_backup_ext:max_chain_depth is 1',
                      response.text)

    def test_an_old_chain(self):
        self.cap(max_chain_depth=0, max_chain_age=7)
        self.set_backup_columns(self.chain[0]['id'], created_at=(
            datetime.datetime.utcnow() - datetime.timedelta(days=9)))
        response = self.post_backup(self.volume['id'])
        self.assertEqual(202, response.status_code, response.text)
        self.assertIsNone(self.parent_of(response.json()['backup']['id']))
        self.wait_deleted_or_available()

    def test_eight_at_once_never_go_past_the_cap(self):
        # One below the cap: each request predicts the same parent. Cinder
        # itself lets one backup of a volume run at a time (the volume is
        # "backing-up"), and refuses the others with its own 400.
        self.cap(max_chain_depth=3)
        answers = []

        def post():
            response = self.post_backup(self.volume['id'])
            answers.append((response.status_code, response.text))
        for _round in range(2):
            threads = [threading.Thread(target=post) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.wait_deleted_or_available()
        accepted = [a for a in answers if a[0] == 202]
        self.assertNotEqual([], accepted, answers)
        for code, text in answers:
            if code != 202:
                self.assertEqual(400, code, text)
                self.assertIn('must be available or in-use', text)
        by_id = {b['id']: b for b in self.list_backups()}
        for backup_id in by_id:
            depth, parent = 0, self.parent_of(backup_id)
            while parent is not None:
                depth, parent = depth + 1, self.parent_of(parent)
            self.assertLessEqual(depth, 3, backup_id)

    def test_two_statements_under_a_cap(self):
        ours = self.useFixture(base.StatementCounter(_ours))
        self.assertEqual(202, self.post_backup(self.volume['id']).status_code)
        self.assertEqual(['extra specs', 'parent line'],
                         [_ours(s) for s in ours.statements])
        self.wait_deleted_or_available()

    def usage(self):
        quota = self.api.api_get('/os-quota-sets/%s?usage=True'
                                 % self.api.project_id)['quota_set']
        return quota['backups'], quota['backup_gigabytes']

    def wait_deleted_or_available(self):
        for backup in self.list_backups():
            if backup['status'] == 'creating':
                self._wait(lambda b=backup: self.get_backup(b['id']),
                           'available')


class TestExempt(_CapBase):

    policy_rules = {policies.EXEMPT_FROM_CHAIN_CAP: '@'}

    def test_the_exempt_go_past_the_cap(self):
        self.cap(max_chain_depth=1, chain_cap_action='reject')
        volume, (full, inc) = self.create_chain(length=2)
        response = self.post_backup(volume['id'])
        self.assertEqual(202, response.status_code, response.text)
        self.assertEqual(inc['id'],
                         self.parent_of(response.json()['backup']['id']))
        self._wait(lambda: self.get_backup(response.json()['backup']['id']),
                   'available')
