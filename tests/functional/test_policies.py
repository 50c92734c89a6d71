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

from cinder_backup_ext import compat
from cinder_backup_ext import policies
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
