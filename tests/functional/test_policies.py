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

"""The flag rule, evaluated by Cinder's own enforcer, rules and context."""

import os
import tempfile

from cinder import context
from cinder import policies as cinder_policies
from cinder import policy
import fixtures
from oslo_policy import policy as oslo_policy

from cinder_backup_ext import compat
from cinder_backup_ext import policies
from cinder_backup_ext import verdicts
from tests.functional import base


class TestShowFlagsRule(base.ConfiguredCinder):

    def allowed(self, roles, project='p1', target='p1', **kwargs):
        ctxt = context.RequestContext('u1', project, roles=roles, **kwargs)
        return bool(compat.authorize(ctxt, policies.list_rules(),
                                     policies.SHOW_FLAGS,
                                     {'project_id': target}))

    def test_whoever_reads_the_project_sees_the_flags(self):
        for roles in (['reader'], ['member', 'reader'],
                      ['admin', 'member', 'reader']):
            self.assertTrue(self.allowed(roles), roles)

    def test_service_users_see_the_flags(self):
        # Ceilometer's poller and tempest's admin client hold the admin
        # role in a project of their own.
        self.assertTrue(self.allowed(['admin', 'service'], project='svc'))

    def test_other_projects_do_not(self):
        self.assertFalse(self.allowed(['member', 'reader'], target='p2'))
        self.assertFalse(self.allowed([]))

    def test_registered_again_after_cinder_resets_its_enforcer(self):
        self.assertTrue(self.allowed(['reader']))
        policy.reset()
        # Without re-registration this raises PolicyNotRegistered.
        self.assertTrue(self.allowed(['reader']))

    def test_overridden_in_cinders_policy_file_without_touching_cinder(self):
        # The operator writes our rule in Cinder's own policy file, under
        # our namespace; Cinder's rule for the same reads stays as it was.
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as f:
            f.write('"%s": "role:admin"\n' % policies.SHOW_FLAGS)
        self.addCleanup(os.remove, f.name)
        policy_file = f.name
        self.override_config('policy_file', policy_file, group='oslo_policy')
        policy.reset()
        self.assertFalse(self.allowed(['member', 'reader']))
        self.assertTrue(self.allowed(['admin', 'member', 'reader']))
        ctxt = context.RequestContext('u1', 'p1', roles=['member', 'reader'])
        self.assertTrue(ctxt.authorize('backup:get', fatal=False,
                                       target={'project_id': 'p1'}))

    def test_no_rule_shadows_one_of_cinders(self):
        cinder_rules = {rule.name for rule in cinder_policies.list_rules()}
        self.assertIn('backup:get', cinder_rules)  # the list is Cinder's
        for rule in policies.list_rules():
            self.assertTrue(rule.name.startswith('cinder_backup_ext:'),
                            rule.name)
            self.assertNotIn(rule.name, cinder_rules)


@oslo_policy.register('cbe_scripted')
class _ScriptedCheck(oslo_policy.Check):
    """A check of an extension's own: ``cbe_scripted:<answers>``.

    Answers each time it is asked with the next letter of its match, T or
    F, and counts the times.
    """

    asked = 0

    def __call__(self, target, creds, enforcer):
        answer = self.match[type(self).asked % len(self.match)] == 'T'
        type(self).asked += 1
        return answer


class TestRememberedVerdicts(base.ConfiguredCinder):
    """verdicts.py: the flag rule's verdicts, reused only while valid."""

    def setUp(self):
        super().setUp()
        self.verdicts = verdicts.Verdicts(policies.list_rules(),
                                          policies.SHOW_FLAGS)
        self.enforcer_calls = self.useFixture(fixtures.MockPatchObject(
            compat, 'authorize', wraps=compat.authorize)).mock

    def context(self, roles, project='p1'):
        return context.RequestContext('u1', project, roles=roles)

    def allowed(self, ctxt, target='p1'):
        return bool(self.verdicts.authorize(ctxt, {'project_id': target}))

    def policy_file(self, text):
        """Write Cinder's policy file; a later mtime marks it changed."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'policy.yaml')
        self.write(path, text)
        self.override_config('policy_file', path, group='oslo_policy')
        policy.reset()
        return path

    @staticmethod
    def write(path, text):
        before = os.stat(path).st_mtime if os.path.exists(path) else 0
        with open(path, 'w') as f:
            f.write(text)
        os.utime(path, (before + 10, before + 10))

    def cinder_checks(self, ctxt):
        """Cinder's own backup:get check, which precedes ours in a show.

        With our rules registered, as the extension does when it loads.
        """
        compat.policy_enforcer(policies.list_rules(), policies.SHOW_FLAGS)
        ctxt.authorize('backup:get', target={'project_id': 'p1'},
                       fatal=False)

    def test_same_verdicts_as_the_enforcer(self):
        for roles in ([], ['reader'], ['member', 'reader'], ['admin'],
                      ['admin', 'service']):
            for project in ('p1', 'p2'):
                for target in ('p1', 'p2'):
                    ctxt = self.context(roles, project)
                    expected = bool(compat.authorize(
                        ctxt, policies.list_rules(), policies.SHOW_FLAGS,
                        {'project_id': target}))
                    for _ in range(2):  # asked, then remembered
                        self.assertEqual(expected, self.allowed(ctxt, target),
                                         (roles, project, target))

    def test_the_enforcer_is_asked_once_per_caller_and_target(self):
        reader = self.context(['reader'])
        self.cinder_checks(reader)
        for _ in range(3):
            self.assertTrue(self.allowed(reader))
        self.assertEqual(1, self.enforcer_calls.call_count)
        self.assertTrue(self.allowed(self.context(['reader', 'member'])))
        self.assertFalse(self.allowed(reader, target='p2'))
        self.assertFalse(self.allowed(self.context(['reader'], 'p2')))
        self.assertEqual(4, self.enforcer_calls.call_count)

    def test_a_changed_policy_file_is_obeyed_at_once(self):
        path = self.policy_file('"%s": "role:reader"\n' % policies.SHOW_FLAGS)
        reader = self.context(['reader'])
        self.assertTrue(self.allowed(reader))
        self.assertTrue(self.allowed(reader))
        self.write(path, '"%s": "role:admin"\n' % policies.SHOW_FLAGS)
        self.cinder_checks(reader)
        self.assertFalse(self.allowed(reader))
        self.assertEqual(2, self.enforcer_calls.call_count)

    def test_a_changed_rule_it_refers_to_is_obeyed_at_once(self):
        path = self.policy_file(
            '"%s": "rule:cbe_readers"\n"cbe_readers": "role:reader"\n'
            % policies.SHOW_FLAGS)
        reader = self.context(['reader'])
        self.assertTrue(self.allowed(reader))
        self.write(path, '"%s": "rule:cbe_readers"\n"cbe_readers": "!"\n'
                   % policies.SHOW_FLAGS)
        self.cinder_checks(reader)
        self.assertFalse(self.allowed(reader))
        self.assertFalse(self.allowed(reader))
        self.assertEqual(2, self.enforcer_calls.call_count)

    def test_a_new_enforcer_is_asked(self):
        reader = self.context(['reader'])
        self.cinder_checks(reader)
        self.assertTrue(self.allowed(reader))
        policy.reset()
        self.cinder_checks(reader)
        self.assertTrue(self.allowed(reader))
        self.assertEqual(2, self.enforcer_calls.call_count)

    def test_a_check_of_its_own_is_asked_every_time(self):
        _ScriptedCheck.asked = 0
        self.policy_file('"%s": "cbe_scripted:TFT"\n' % policies.SHOW_FLAGS)
        reader = self.context(['reader'])
        self.cinder_checks(reader)
        self.assertEqual([True, False, True],
                         [self.allowed(reader) for _ in range(3)])
        self.assertEqual(3, _ScriptedCheck.asked)
