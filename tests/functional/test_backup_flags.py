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

"""The backup flags through Cinder's real API, services and schema."""

import sqlite3

from sqlalchemy import event

from cinder_backup_ext import compat
from cinder_backup_ext import policies
from tests.functional import base

FLAGS = ('is_incremental', 'has_dependent_backups')


def _is_count(statement):
    return 'GROUP BY backups.parent_id' in statement


class TestBackupFlags(base.CinderTestCase):

    def setUp(self):
        super().setUp()
        self.volume, (self.full, self.child, self.grandchild) = (
            self.create_chain())

    def flags(self, backup):
        return backup['is_incremental'], backup['has_dependent_backups']

    def test_chain_in_show(self):
        self.assertEqual((False, True), self.flags(self.get_backup(
            self.full['id'])))
        self.assertEqual((True, True), self.flags(self.get_backup(
            self.child['id'])))
        self.assertEqual((True, False), self.flags(self.get_backup(
            self.grandchild['id'])))

    def test_detail_agrees_with_show(self):
        page = self.list_backups()
        self.assertEqual(3, len(page))
        for backup in page:
            self.assertEqual(self.flags(self.get_backup(backup['id'])),
                             self.flags(backup))

    def test_detail_across_pages(self):
        seen = {}
        marker = ''
        while True:
            page = self.list_backups('?limit=1' + marker)
            if not page:
                break
            seen.update((b['id'], self.flags(b)) for b in page)
            marker = '&marker=%s' % page[-1]['id']
        self.assertEqual({self.full['id']: (False, True),
                          self.child['id']: (True, True),
                          self.grandchild['id']: (True, False)}, seen)

    def test_flags_agree_with_cinders_delete_check(self):
        # has_dependent_backups is true exactly when Cinder refuses the
        # delete; the leaf goes first, then each parent in turn.
        for backup in (self.full, self.child):
            self.assertTrue(self.get_backup(backup['id'])[
                'has_dependent_backups'])
            error = self.assertRaises(
                base.client.OpenStackApiException400,
                self.api.api_delete, '/backups/%s' % backup['id'])
            self.assertIn('Incremental backups exist',
                          error.response.text)
        for leaf, parent in ((self.grandchild, self.child),
                             (self.child, self.full)):
            self.api.api_delete('/backups/%s' % leaf['id'])
            self.wait_deleted(leaf['id'])
            self.assertFalse(self.get_backup(parent['id'])[
                'has_dependent_backups'])

    def test_rows_win_over_a_drifted_counter(self):
        stock = self.stock_api()
        # The counter says the leaf has children and the parent none.
        self.set_backup_columns(self.grandchild['id'],
                                num_dependent_backups=3)
        self.set_backup_columns(self.child['id'], num_dependent_backups=0)
        self.assertTrue(self.get_backup(self.grandchild['id'],
                                        api=stock)['has_dependent_backups'])
        self.assertFalse(self.get_backup(self.child['id'],
                                         api=stock)['has_dependent_backups'])
        self.assertFalse(self.get_backup(self.grandchild['id'])[
            'has_dependent_backups'])
        self.assertTrue(self.get_backup(self.child['id'])[
            'has_dependent_backups'])

    def test_a_failed_child_blocks_its_parent(self):
        # Cinder's counter grows only when a child becomes available, but
        # its delete check counts a failed child too.
        stock = self.stock_api()
        other = self.create_volume()
        parent = self.create_backup(other['id'])
        failed = self.create_backup(other['id'], incremental=True)
        self.set_backup_columns(failed['id'], status='error')
        self.set_backup_columns(parent['id'], num_dependent_backups=0)
        self.assertFalse(self.get_backup(parent['id'], api=stock)[
            'has_dependent_backups'])
        self.assertTrue(self.get_backup(parent['id'])[
            'has_dependent_backups'])
        self.assertRaises(base.client.OpenStackApiException400,
                          self.api.api_delete, '/backups/%s' % parent['id'])

    def test_one_count_statement_per_page(self):
        counter = self.useFixture(base.StatementCounter(_is_count))
        self.get_backup(self.child['id'])
        self.assertEqual(1, len(counter.statements))
        self.list_backups()
        self.assertEqual(2, len(counter.statements))
        self.list_backups('?limit=2')
        self.assertEqual(3, len(counter.statements))

    def test_no_count_statement_elsewhere(self):
        counter = self.useFixture(base.StatementCounter(_is_count))
        self.api.api_get('/backups')
        self.list_backups('?volume_id=%s' % self.full['id'])  # empty page
        self.api.api_get('/volumes/detail')
        self.create_backup(self.volume['id'], incremental=True, wait=False)
        self.assertEqual([], counter.statements)

    def test_count_failure_keeps_cinders_answer(self):
        stock = self.stock_api()
        self.set_backup_columns(self.child['id'], num_dependent_backups=0)
        expected = self.get_backup(self.child['id'], api=stock)
        del expected['links']

        def fail(conn, cursor, statement, *args):
            if _is_count(statement):
                raise sqlite3.OperationalError('database is locked')

        engine = compat.get_engine()
        event.listen(engine, 'before_cursor_execute', fail)
        self.addCleanup(event.remove, engine, 'before_cursor_execute', fail)
        logged = self.useFixture(base.fixtures.FakeLogger(
            name='cinder_backup_ext'))
        got = self.get_backup(self.child['id'])
        del got['links']
        self.assertEqual(expected, got)
        self.assertFalse(got['has_dependent_backups'])
        self.assertEqual(3, len(self.list_backups()))
        self.assertIn(self.child['id'], logged.output)
        self.assertIn('database is locked', logged.output)

    def test_bad_requests_get_cinders_answer(self):
        stock = self.stock_api()
        for path in ('/backups/not-a-uuid',
                     '/backups/%s' % self.volume['id'],
                     '/backups/detail?limit=-1',
                     '/backups/detail?limit=abc',
                     '/backups/detail?marker=nope',
                     '/backups/detail?sort=%ZZ',
                     '/os-backup-ext-flags'):
            ours = self.api.api_request(path, check_response_status=None)
            theirs = stock.api_request(path, check_response_status=None)
            self.assertEqual(theirs.status_code, ours.status_code, path)
            self.assertLess(ours.status_code, 500, path)
        huge = self.list_backups('?limit=100000000')
        self.assertEqual(3, len(huge))

    def test_same_keys_as_stock_cinder(self):
        stock = self.stock_api()
        for version in ('3.0', '3.64'):
            self.osapi_version = version
            stock.api_version = version
            self.assertEqual(
                sorted(self.get_backup(self.full['id'], api=stock)),
                sorted(self.get_backup(self.full['id'])))


class TestDenyingPolicy(base.CinderTestCase):

    policy_rules = {policies.SHOW_FLAGS: '!'}

    def test_flags_absent(self):
        volume = self.create_volume()
        full = self.create_backup(volume['id'])
        self.create_backup(volume['id'], incremental=True)
        counter = self.useFixture(base.StatementCounter(_is_count))
        shown = self.get_backup(full['id'])
        listed = self.list_backups()
        for body in [shown] + listed:
            for flag in FLAGS:
                self.assertNotIn(flag, body)
            self.assertEqual('available', body['status'])
        self.assertEqual(2, len(listed))
        self.assertEqual([], counter.statements)


class TestStockCinder(base.CinderTestCase):
    """Without the plugin in osapi_volume_extension, Cinder is untouched."""

    extensions = [base.STANDARD_EXTENSIONS]

    def test_counter_drift_shows(self):
        volume = self.create_volume()
        full = self.create_backup(volume['id'])
        self.set_backup_columns(full['id'], num_dependent_backups=1)
        self.assertTrue(self.get_backup(full['id'])['has_dependent_backups'])
