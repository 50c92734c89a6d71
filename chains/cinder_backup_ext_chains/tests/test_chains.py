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

import datetime

from oslotest import base

import cinder_backup_ext_chains as chains

T0 = datetime.datetime(2026, 11, 1)


class Rows(object):
    """Backup rows made in order: each newer than the one before."""

    def __init__(self):
        self.rows = []

    def add(self, name, parent=None, status='available'):
        self.rows.append({'id': name, 'parent_id': parent, 'status': status,
                          'created_at': T0 + datetime.timedelta(
                              minutes=len(self.rows))})
        return name


def _two_chains():
    """full1 <- a <- b, a <- c (a branch); then full2 <- d."""
    rows = Rows()
    rows.add('full1')
    rows.add('a', 'full1')
    rows.add('b', 'a')
    rows.add('c', 'a')
    rows.add('full2')
    rows.add('d', 'full2')
    return rows.rows


class TestBuild(base.BaseTestCase):

    def test_trees_in_order_with_depth_and_flags(self):
        older, newer = chains.build(_two_chains())[::-1]
        self.assertEqual(['full1', 'a', 'b', 'c'],
                         [m['id'] for m in older.members])
        self.assertEqual([0, 1, 2, 2], [m['depth'] for m in older.members])
        self.assertEqual(2, older.depth)
        self.assertEqual('c', older.newest['id'])
        flags = {m['id']: (m['is_incremental'], m['has_dependent_backups'],
                           m['deletable']) for m in older.members}
        self.assertEqual({'full1': (False, True, False),
                          'a': (True, True, False),
                          'b': (True, False, True),
                          'c': (True, False, True)}, flags)
        self.assertEqual(['full2', 'd'], [m['id'] for m in newer.members])
        self.assertFalse(older.is_orphan)

    def test_a_child_in_any_state_blocks_its_parent(self):
        rows = Rows()
        rows.add('full')
        rows.add('child', 'full', status='creating')
        full, child = chains.build(rows.rows)[0].members
        self.assertFalse(full['deletable'])
        self.assertTrue(full['has_dependent_backups'])
        self.assertFalse(child['deletable'])  # Cinder refuses 'creating'

    def test_an_error_leaf_is_deletable(self):
        rows = Rows()
        rows.add('full')
        rows.add('child', 'full', status='error')
        self.assertTrue(chains.build(rows.rows)[0].members[1]['deletable'])

    def test_orphan_is_a_root(self):
        rows = Rows()
        rows.add('orphan', parent='gone')
        rows.add('kid', 'orphan')
        (chain,) = chains.build(rows.rows)
        self.assertTrue(chain.is_orphan)
        self.assertEqual('orphan', chain.root['id'])
        self.assertTrue(chain.members[0]['is_incremental'])
        self.assertEqual(['kid', 'orphan'], chain.delete_order('orphan'))

    def test_a_cycle_is_shown_not_lost(self):
        rows = Rows()
        rows.add('x', 'y')
        rows.add('y', 'x')
        (chain,) = chains.build(rows.rows)
        self.assertEqual(['x', 'y'], [m['id'] for m in chain.members])
        self.assertEqual(['y', 'x'], chain.delete_order('x'))

    def test_find(self):
        built = chains.build(_two_chains())
        self.assertEqual('full2', chains.find(built, 'd').root['id'])
        self.assertIsNone(chains.find(built, 'nope'))

    def test_deep_chain_needs_no_recursion(self):
        rows = Rows()
        parent = rows.add('0')
        for n in range(1, 5000):
            parent = rows.add(str(n), parent)
        (chain,) = chains.build(rows.rows)
        self.assertEqual(4999, chain.depth)
        self.assertEqual([str(n) for n in range(4999, -1, -1)],
                         chain.delete_order('0'))


class TestDeleteOrder(base.BaseTestCase):

    def test_leaf_first_and_only_the_subtree(self):
        chain = chains.build(_two_chains())[1]
        order = chain.delete_order('full1')
        self.assertEqual({'full1', 'a', 'b', 'c'}, set(order))
        for member in chain.members:  # every child before its parent
            if member['parent_id'] in order:
                self.assertLess(order.index(member['id']),
                                order.index(member['parent_id']))
        self.assertEqual(['c', 'b', 'a'], chain.delete_order('a'))
        self.assertEqual(['b'], chain.delete_order('b'))


class TestPrune(base.BaseTestCase):

    def test_keep_chains_keeps_the_newest_whole(self):
        plan = chains.plan_prune(chains.build(_two_chains()), keep_chains=1)
        self.assertEqual(['full2', 'd'], sorted(plan.keep, reverse=True))
        self.assertEqual(['c', 'b', 'a', 'full1'], plan.delete)

    def test_keep_last_keeps_what_a_restore_needs(self):
        # The three newest available: d, full2 and c; c needs a and full1.
        plan = chains.plan_prune(chains.build(_two_chains()), keep_last=3)
        self.assertEqual(['a', 'c', 'd', 'full1', 'full2'], plan.keep)
        self.assertEqual(['b'], plan.delete)

    def test_keep_last_counts_only_restore_points(self):
        rows = Rows()
        rows.add('full')
        rows.add('inc', 'full')
        rows.add('broken', 'inc', status='error')
        plan = chains.plan_prune(chains.build(rows.rows), keep_last=1)
        self.assertEqual(['full', 'inc'], plan.keep)
        self.assertEqual(['broken'], plan.delete)

    def test_busy_backups_and_their_ancestors_stay(self):
        rows = Rows()
        rows.add('old')
        rows.add('old-inc', 'old', status='restoring')
        rows.add('new')
        plan = chains.plan_prune(chains.build(rows.rows), keep_chains=1)
        self.assertEqual(['new', 'old', 'old-inc'], plan.keep)
        self.assertEqual([], plan.delete)

    def test_what_another_project_depends_on_stays(self):
        # b has a child in another project (hidden): neither b nor its
        # ancestors can go; c, on another branch, can.
        rows = Rows()
        rows.add('full')
        rows.add('b', 'full')
        rows.add('c', 'full')
        rows.rows[1]['hidden_dependent_count'] = 1
        chain, = chains.build(rows.rows)
        b = chain.members[1]
        self.assertEqual((True, False, chains.HIDDEN_DEPENDENTS_REASON),
                         (b['has_dependent_backups'], b['deletable'],
                          b['not_deletable_reason']))
        self.assertEqual(1, chain.hidden_count)
        plan = chains.plan_prune([chain], keep_chains=0)
        self.assertEqual(['b', 'full'], plan.keep)
        self.assertEqual(['c'], plan.delete)

    def test_reasons_in_the_order_cinder_checks(self):
        reason = chains.not_deletable_reason
        self.assertEqual(chains.STATUS_REASON % 'creating',
                         reason({'status': 'creating',
                                 'hidden_dependent_count': 1}, ['kid']))
        self.assertEqual(chains.DEPENDENTS_REASON,
                         reason({'status': 'error',
                                 'hidden_dependent_count': 1}, ['kid']))
        self.assertEqual(chains.HIDDEN_DEPENDENTS_REASON,
                         reason({'status': 'available',
                                 'hidden_dependent_count': 2}))
        self.assertIsNone(reason({'status': 'available'}))

    def test_a_hidden_parent_is_not_an_orphan(self):
        rows = Rows()
        rows.add('inc', 'hidden-parent')
        rows.rows[0]['parent_hidden'] = True
        chain, = chains.build(rows.rows)
        self.assertEqual((False, True, 1), (chain.is_orphan,
                                            chain.parent_hidden,
                                            chain.hidden_count))
        self.assertTrue(chain.members[0]['is_incremental'])

    def test_keep_nothing(self):
        plan = chains.plan_prune(chains.build(_two_chains()), keep_chains=0)
        self.assertEqual([], plan.keep)
        self.assertEqual(['d', 'full2', 'c', 'b', 'a', 'full1'], plan.delete)

    def test_bad_arguments(self):
        built = chains.build(_two_chains())
        self.assertRaises(ValueError, chains.plan_prune, built)
        self.assertRaises(ValueError, chains.plan_prune, built, keep_last=-1)
        self.assertRaises(ValueError, chains.plan_prune, built,
                          keep_within=-datetime.timedelta(days=1))


class TestRestoreProblem(base.BaseTestCase):

    def rows(self, **parent):
        full = dict({'id': 'full', 'parent_id': None, 'status': 'available',
                     'service': 'cinder.backup.drivers.swift',
                     'project_id': 'p2'}, **parent)
        leaf = {'id': 'leaf', 'parent_id': 'full', 'status': 'available',
                'service': 'cinder.backup.drivers.swift.SwiftBackupDriver',
                'project_id': 'p1'}
        return leaf, {'full': full, 'leaf': leaf}

    def test_what_cinder_reads_all_the_same(self):
        # A restoring ancestor, and a driver named by its module or class.
        leaf, rows = self.rows(status='restoring')
        self.assertIsNone(chains.restore_problem(leaf, rows))

    def test_another_service(self):
        leaf, rows = self.rows(service='cinder.backup.drivers.posix')
        self.assertIn('was made by backup service cinder.backup.drivers.'
                      'posix', chains.restore_problem(leaf, rows))

    def test_a_hidden_ancestor_says_only_that_it_is_broken(self):
        leaf, rows = self.rows(status='error')
        problem = chains.restore_problem(
            leaf, rows, lambda row: row['project_id'] == 'p1')
        self.assertEqual('an ancestor of another project cannot be read',
                         problem)
        leaf, rows = self.rows()
        self.assertIsNone(chains.restore_problem(
            leaf, rows, lambda row: row['project_id'] == 'p1'))

    def test_a_naive_start_of_the_run(self):
        rows = Rows()
        rows.add('old')
        plan = chains.plan_prune(chains.build(rows.rows), keep_last=0,
                                 now=T0)
        self.assertEqual(['old'], plan.keep)
