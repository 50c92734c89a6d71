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


"""chain_info: flags, chains, the leaf-first plan, a selection deleted."""

import unittest
from unittest import mock

from cinder_backup_ext_chains import deleter
from cinder_backup_ext_dashboard import chain_info


def member(backup_id, parent_id=None, status='available', depth=0,
           created_at=None):
    return {'id': backup_id, 'name': 'name-' + backup_id,
            'parent_id': parent_id, 'status': status, 'depth': depth,
            'created_at': created_at or '2026-01-01T00:00:%02d' % (
                ord(backup_id[-1]) % 60)}


def chain(*members):
    return chain_info.ChainBody({'backups': list(members)})


# full -> inc1 -> inc2, and full -> other (a sibling of inc1)
FULL = member('full1', created_at='2026-01-01T00:00:01')
INC1 = member('inc1', 'full1', depth=1, created_at='2026-01-01T00:00:02')
INC2 = member('inc2', 'inc1', depth=2, created_at='2026-01-01T00:00:03')
OTHER = member('other', 'full1', depth=1, created_at='2026-01-01T00:00:04')


def info(m, chain_=None, has_dependents=None, status=None):
    return chain_info.Info(m['id'], status=status or m['status'],
                           created_at=m['created_at'],
                           has_dependents=has_dependents, chain=chain_)


class FakeResource(object):
    """A cinderclient resource: attributes and the raw body in _info."""

    def __init__(self, body):
        self._info = body
        for key, value in body.items():
            setattr(self, key, value)


class FakeWrapper(object):
    """Horizon's VolumeBackup: the resource in _apiresource."""

    def __init__(self, resource):
        self._apiresource = resource
        self.id = resource._info['id']
        self.status = resource._info['status']
        self.created_at = resource._info.get('created_at')


class FlagTest(unittest.TestCase):

    def test_from_wrapper_body(self):
        backup = FakeWrapper(FakeResource({
            'id': 'b', 'status': 'available', 'is_incremental': True,
            'has_dependent_backups': False}))
        self.assertIs(chain_info.flag(backup, 'is_incremental'), True)
        self.assertIs(chain_info.flag(backup, 'has_dependent_backups'),
                      False)

    def test_absent_is_none_not_false(self):
        backup = FakeWrapper(FakeResource({'id': 'b', 'status': 'x'}))
        self.assertIsNone(chain_info.flag(backup, 'is_incremental'))
        info_ = chain_info.from_backup(backup)
        self.assertIsNone(info_.is_incremental)
        self.assertIsNone(info_.has_dependents)
        self.assertFalse(info_.blocked)

    def test_not_a_bool_is_none(self):
        self.assertIsNone(chain_info.flag({'is_incremental': 'false'},
                                          'is_incremental'))

    def test_plain_mapping(self):
        self.assertIs(chain_info.flag({'has_dependent_backups': True},
                                      'has_dependent_backups'), True)


class ChainTest(unittest.TestCase):

    def setUp(self):
        self.chain = chain(FULL, INC1, INC2, OTHER)

    def test_parent_children(self):
        self.assertEqual(self.chain.parent('inc1'), FULL)
        self.assertIsNone(self.chain.parent('full1'))
        self.assertEqual(self.chain.children('full1'), [INC1, OTHER])
        self.assertEqual(self.chain.children('inc2'), [])

    def test_descendants_leaf_first(self):
        ids = [m['id'] for m in self.chain.descendants('full1')]
        self.assertEqual(sorted(ids), ['inc1', 'inc2', 'other'])
        self.assertLess(ids.index('inc2'), ids.index('inc1'))
        self.assertEqual(self.chain.descendants('inc2'), [])

    def test_pending_while_a_dependent_is_deleting(self):
        deleting = chain(FULL, INC1, dict(INC2, status='deleting'))
        self.assertTrue(deleting.pending('full1'))
        self.assertTrue(deleting.pending('inc1'))
        self.assertFalse(deleting.pending('inc2'))
        self.assertFalse(self.chain.pending('full1'))

    def test_pending_while_the_flag_and_the_chain_disagree(self):
        # The list said inc1 had a dependent; inc2 was gone when the
        # chain was read: the row must be read again, not left blocked.
        inc1 = info(INC1, chain(FULL, INC1), has_dependents=True)
        self.assertTrue(inc1.blocked)
        self.assertTrue(inc1.pending)
        agreed = info(INC1, chain(FULL, INC1), has_dependents=False)
        self.assertFalse(agreed.pending)
        self.assertFalse(info(INC1, self.chain, has_dependents=True).pending)

    def test_info_counts(self):
        full = info(FULL, self.chain, has_dependents=True)
        self.assertTrue(full.blocked)
        self.assertEqual(full.dependents_count, 3)
        leaf = info(INC2, self.chain, has_dependents=False)
        self.assertFalse(leaf.blocked)
        self.assertEqual(leaf.dependents_count, 0)

    def test_flag_decides_over_the_chain(self):
        # The flag is computed from the same rows as Cinder's check.
        full = info(FULL, chain(FULL), has_dependents=True)
        self.assertTrue(full.blocked)

    def test_hidden_flag_chain_decides(self):
        self.assertTrue(info(FULL, self.chain).blocked)
        self.assertFalse(info(INC2, self.chain).blocked)

    def test_no_chain_count_unknown(self):
        full = info(FULL, None, has_dependents=True)
        self.assertTrue(full.blocked)
        self.assertIsNone(full.dependents_count)
        self.assertEqual(info(INC2, None, has_dependents=False).dependents,
                         [])


class AttachChainsTest(unittest.TestCase):

    def test_a_gone_incremental_does_not_stop_the_others(self):
        # inc2 was deleted after the list was read: its chain is a 404.
        gone = chain_info.Info('inc2', is_incremental=True,
                               has_dependents=False)
        inc1 = chain_info.Info('inc1', is_incremental=True,
                               has_dependents=True)
        chain_info.attach_chains(
            [gone, inc1],
            lambda i: None if i == 'inc2' else chain(FULL, INC1))
        self.assertIsNone(gone.chain)
        self.assertIsNotNone(inc1.chain)

    def test_an_incremental_gets_its_chain_for_restore(self):
        inc = chain_info.Info('inc2', is_incremental=True,
                              has_dependents=False)
        full = chain_info.Info('full1', is_incremental=False,
                               has_dependents=False)
        asked = []
        chain_info.attach_chains(
            [inc, full], lambda i: asked.append(i) or chain(FULL, INC1,
                                                            INC2))
        # The full backup is in the chain read for inc2: no GET of its own.
        self.assertEqual(['inc2'], asked)
        self.assertIs(inc.chain, full.chain)

    def test_a_full_without_dependents_reads_its_chain_for_its_size(self):
        alone = member('alone')
        infos = [chain_info.Info('alone', is_incremental=False,
                                 has_dependents=False),
                 chain_info.Info('full1', is_incremental=False,
                                 has_dependents=False)]
        asked = []

        def get(backup_id):
            asked.append(backup_id)
            return chain(dict(alone, stored_bytes=5) if backup_id == 'alone'
                         else FULL)
        chain_info.attach_chains(infos, get)
        self.assertEqual(['alone', 'full1'], asked)
        self.assertEqual([5, None], [i.stored_bytes for i in infos])

    def test_after_a_failure_only_incrementals_are_read(self):
        # A cloud without the resource: the first 404 ends the reads made
        # for sizes only; Restore's reason is still looked for.
        infos = [chain_info.Info('f%d' % n, is_incremental=False,
                                 has_dependents=False) for n in range(3)]
        infos.append(chain_info.Info('inc2', is_incremental=True,
                                     has_dependents=False))
        asked = []
        chain_info.attach_chains(infos, lambda i: asked.append(i))
        self.assertEqual(['f0', 'inc2'], asked)

    def test_one_get_per_chain_only_where_needed(self):
        whole = chain(FULL, INC1, INC2)
        infos = [info(FULL, has_dependents=True),
                 info(INC1, has_dependents=True),
                 info(INC2, has_dependents=False)]
        calls = []

        def get(backup_id):
            calls.append(backup_id)
            return whole
        chain_info.attach_chains(infos, get)
        self.assertEqual(calls, ['full1'])
        self.assertEqual([whole] * 3, [i.chain for i in infos])

    def test_stops_when_unreadable(self):
        infos = [info(FULL, has_dependents=True),
                 info(member('x2'), has_dependents=True)]
        calls = []
        chain_info.attach_chains(infos, lambda i: calls.append(i))
        self.assertEqual(calls, ['full1'])
        self.assertIsNone(infos[0].chain)


class SizesTest(unittest.TestCase):

    def test_from_the_chain(self):
        c = chain_info.ChainBody({
            'stored_bytes': None,
            'backups': [dict(FULL, stored_bytes=10, restore_bytes=10),
                        dict(INC1, stored_bytes=None, restore_bytes=None),
                        dict(INC2, stored_bytes=0, restore_bytes=True)]})
        self.assertIsNone(c.stored_bytes)
        self.assertEqual(
            [(10, 10), (None, None), (0, None)],
            [(info(m, c).stored_bytes, info(m, c).restore_bytes)
             for m in (FULL, INC1, INC2)])
        self.assertEqual(7, chain_info.ChainBody(
            {'stored_bytes': 7, 'backups': []}).stored_bytes)

    def test_no_chain_or_an_older_api_is_none_never_0(self):
        self.assertIsNone(info(FULL).stored_bytes)
        self.assertIsNone(info(FULL, chain(FULL)).stored_bytes)
        self.assertIsNone(info(FULL, chain(INC1)).restore_bytes)


class PlanTest(unittest.TestCase):

    def setUp(self):
        self.chain = chain(FULL, INC1, INC2)
        self.full = info(FULL, self.chain, has_dependents=True)
        self.inc1 = info(INC1, self.chain, has_dependents=True)
        self.inc2 = info(INC2, self.chain, has_dependents=False)

    def ids(self, infos):
        return [i.id for i in infos]

    def test_whole_chain_leaf_first(self):
        order, refused = chain_info.plan([self.full, self.inc2, self.inc1])
        self.assertEqual(self.ids(order), ['inc2', 'inc1', 'full1'])
        self.assertEqual(refused, {})

    def test_unselected_dependent_refuses(self):
        order, refused = chain_info.plan([self.full, self.inc1])
        self.assertEqual(order, [])
        self.assertEqual(refused['inc1'].kind,
                         chain_info.Refusal.UNSELECTED_DEPENDENTS)
        self.assertEqual([m['id'] for m in refused['inc1'].others],
                         ['inc2'])
        # full's own unselected dependent is inc2 too.
        self.assertEqual(refused['full1'].kind,
                         chain_info.Refusal.UNSELECTED_DEPENDENTS)

    def test_refusal_climbs_to_the_parent(self):
        busy = info(dict(INC2, status='creating'), self.chain,
                    has_dependents=False)
        order, refused = chain_info.plan([self.full, self.inc1, busy])
        self.assertEqual(order, [])
        self.assertEqual(refused['inc2'].kind, chain_info.Refusal.STATUS)
        self.assertEqual(refused['inc1'].kind,
                         chain_info.Refusal.DEPENDENT_REFUSED)
        self.assertEqual(refused['full1'].kind,
                         chain_info.Refusal.DEPENDENT_REFUSED)

    def test_flag_without_chain_refuses(self):
        full = info(FULL, None, has_dependents=True)
        order, refused = chain_info.plan([full])
        self.assertEqual(order, [])
        self.assertEqual(refused['full1'].kind,
                         chain_info.Refusal.HAS_DEPENDENTS)

    def test_another_projects_dependent_refuses_and_climbs(self):
        # inc2 has a dependent in another project: the chain counts it,
        # never names it. inc2 cannot go, nor can what it was made from.
        theirs = chain(FULL, INC1, dict(INC2, hidden_dependent_count=1))
        infos = [info(m, theirs, has_dependents=True)
                 for m in (FULL, INC1, INC2)]
        self.assertEqual([1, 1, 1], [i.hidden_dependents for i in infos])
        self.assertFalse(infos[2].pending, 'the flag and chain agree')
        order, refused = chain_info.plan(infos)
        self.assertEqual(order, [])
        self.assertEqual({'full1': chain_info.Refusal.HIDDEN_DEPENDENTS,
                          'inc1': chain_info.Refusal.HIDDEN_DEPENDENTS,
                          'inc2': chain_info.Refusal.HIDDEN_DEPENDENTS},
                         {k: v.kind for k, v in refused.items()})

    def test_unknown_chains_newest_first(self):
        hidden = [info(FULL), info(INC1), info(INC2)]
        order, refused = chain_info.plan(hidden)
        self.assertEqual(self.ids(order), ['inc2', 'inc1', 'full1'])
        self.assertEqual(refused, {})


class DeleteRunTest(unittest.TestCase):
    """A selection through the shared Deleter, as the table's Delete runs it.

    Time is faked: each poll of a deleting backup advances the clock.
    """

    def setUp(self):
        self.chain = chain(FULL, INC1, INC2)
        infos = [info(m, self.chain, has_dependents=bool(d))
                 for m, d in ((INC2, 0), (INC1, 1), (FULL, 1))]
        self.members = chain_info.to_delete(infos)
        self.now = 0.0
        self.log = []
        clock = mock.Mock(monotonic=lambda: self.now, sleep=self.sleep)
        patcher = mock.patch('cinder_backup_ext_chains.deleter.time', clock)
        patcher.start()
        self.addCleanup(patcher.stop)

    def sleep(self, seconds):
        self.now += seconds

    def run_with(self, gone_after, wait=30.0, fail=()):
        deleted_at = {}

        def delete(backup_id):
            self.log.append(('delete', backup_id, self.now))
            if backup_id in fail:
                raise RuntimeError('refused by Cinder')
            deleted_at[backup_id] = self.now

        def get(backup_id):
            if self.now >= deleted_at[backup_id] + gone_after:
                return None
            return {'status': 'deleting'}
        result = deleter.Deleter(delete, get, timeout=wait).run(
            self.members, wait_all=False, keep_going=True)
        return result, chain_info.refusals(result, self.members)

    def test_members_carry_their_parent(self):
        self.assertEqual([(m['id'], m['parent_id']) for m in self.members],
                         [('inc2', 'inc1'), ('inc1', 'full1'),
                          ('full1', None)])

    def test_each_parent_after_its_children_are_gone(self):
        result, refused = self.run_with(gone_after=3)
        self.assertEqual([m['id'] for m in result.deleted],
                         ['inc2', 'inc1', 'full1'])
        self.assertEqual((result.failed, refused), ({}, {}))
        # The full backup has no parent in the run: sent, not waited for.
        self.assertEqual([t for _op, _id, t in self.log], [0.0, 3.5, 7.0])

    def test_wait_leaves_the_parent(self):
        result, refused = self.run_with(gone_after=100, wait=5)
        self.assertEqual(list(result.slow), ['inc2'])
        self.assertEqual(refused['inc1'].kind,
                         chain_info.Refusal.STILL_DELETING)
        self.assertEqual([m['id'] for m in refused['inc1'].others], ['inc2'])
        self.assertEqual(refused['full1'].kind,
                         chain_info.Refusal.DEPENDENT_REFUSED)
        self.assertEqual([op[1] for op in self.log], ['inc2'])

    def test_a_failure_stops_the_ancestors(self):
        result, refused = self.run_with(gone_after=1, fail=('inc2',))
        self.assertEqual(result.deleted, [])
        self.assertEqual(list(result.failed), ['inc2'])
        self.assertIn('refused by Cinder', result.failed['inc2'])
        self.assertEqual(sorted(refused), ['full1', 'inc1'])
        self.assertEqual([op[1] for op in self.log], ['inc2'])
