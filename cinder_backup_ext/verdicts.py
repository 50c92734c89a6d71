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

"""Policy verdicts on the flags, remembered while the rules behind them stand.

An oslo.policy check costs 0.1 to 0.2 ms, as much as the indexed count it
guards: the enforcer looks for changed policy files and inspects the
signature of every check it calls. The verdict itself only depends on the
caller's credentials, the target and the rules, and a backup ``show`` or
``detail`` asks it right after Cinder checked ``backup:get`` or
``backup:get_all`` with the same enforcer, which reloads the policy files
when they changed. So a verdict is reused:

* while each rule it was computed from is the very object the enforcer
  holds (a changed policy file or ``policy.d`` file is parsed into new
  ones, a reset of Cinder's enforcer makes a new enforcer), and
* only for rules made of checks that read nothing but the credentials and
  the target: roles, ``%(...)s`` matches, ``@``, ``!``, and, or, not, and
  references to other rules. A rule with an ``http:`` check or a check of
  an extension's own is asked every time.

The first check of each caller takes the enforcer's own path, which also
decides everything else (scope enforcement, errors); an error is never
remembered.
"""

import collections.abc
import threading

from cinder_backup_ext import compat

# oslo.policy's checks whose verdict is a function of (target, creds) and,
# for the last three, of the checks and rules they hold.
_PURE = frozenset(('TrueCheck', 'FalseCheck', 'RoleCheck', 'GenericCheck',
                   'AndCheck', 'OrCheck', 'NotCheck', 'RuleCheck'))

MAX_REMEMBERED = 4096


def _sources(rules, action):
    """{rule name: rule object} a verdict on ``action`` depends on.

    None when it may depend on anything else: a check outside ``_PURE``,
    or a missing rule, which the enforcer answers with its default rule.
    """
    found = {}
    names = [action]
    while names:
        name = names.pop()
        if name in found:
            continue
        check = dict.get(rules, name)  # Rules.__missing__ is the default
        if check is None:
            return None
        found[name] = check
        checks = [check]
        while checks:
            check = checks.pop()
            kind = type(check)
            if (kind.__name__ not in _PURE
                    or kind.__module__ != 'oslo_policy._checks'):
                return None
            if kind.__name__ == 'RuleCheck':
                names.append(check.match)
            elif kind.__name__ == 'NotCheck':
                checks.append(check.rule)
            else:
                checks.extend(getattr(check, 'rules', ()))
    return found


def _frozen(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted(_frozen(v) for v in value))
    if isinstance(value, collections.abc.Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _same(sources, other):
    return (sources is not None and other is not None
            and sources.keys() == other.keys()
            and all(other[name] is check for name, check in sources.items()))


class Verdicts(object):
    """One action's verdicts, by (credentials, target)."""

    def __init__(self, rule_defaults, action):
        self.rule_defaults = rule_defaults
        self.action = action
        self._lock = threading.Lock()
        self._state = (None, None, {})  # enforcer, sources, verdicts

    def authorize(self, ctxt, target):
        """As ``compat.authorize``, from memory where the rules allow."""
        try:
            key = (_frozen(ctxt.to_policy_values()), _frozen(target))
            hash(key)
        except TypeError:
            key = None
        enforcer = compat.policy_enforcer(self.rule_defaults, self.action)
        known, sources, verdicts = self._state
        if key in verdicts and known is enforcer and all(
                dict.get(enforcer.rules, name) is check
                for name, check in sources.items()):
            return verdicts[key]
        # Remembered only if no rule changed while the enforcer decided.
        before = _sources(enforcer.rules, self.action)
        verdict = compat.authorize(ctxt, self.rule_defaults, self.action,
                                   target)
        if (key is not None and compat.policy_enforcer(
                self.rule_defaults, self.action) is enforcer
                and _same(before, _sources(enforcer.rules, self.action))):
            with self._lock:
                known, sources, verdicts = self._state
                if (known is not enforcer or not _same(sources, before)
                        or len(verdicts) >= MAX_REMEMBERED):
                    verdicts = {}  # readers may hold the old one: not cleared
                verdicts[key] = bool(verdict)
                self._state = (enforcer, before, verdicts)
        return verdict
