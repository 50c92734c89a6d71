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

"""The bench's statistics: bootstrap intervals over interleaved pairs."""

import random

import testtools

from tools.bench import load
from tools import testbed


class BootstrapTests(testtools.TestCase):

    def test_interval_holds_the_ratio(self):
        rng = random.Random(3)
        pairs = [(a, a * 1.1) for a in (rng.uniform(9, 11)
                                        for _ in range(200))]
        value, low, high = testbed.bootstrap(pairs, testbed.ratio_of_medians)
        self.assertLessEqual(low, value)
        self.assertLessEqual(value, high)
        self.assertLess(low, 1.1 + 1e-9)
        self.assertGreater(high, 1.1 - 1e-9)

    def test_pairs_resampled_whole(self):
        # Drift both members of every pair see alike leaves no width.
        pairs = [(t, t + 1.0) for t in range(1, 100)]
        self.assertEqual((1.0, 1.0, 1.0),
                         testbed.bootstrap(pairs, testbed.delta_of_medians))

    def test_noise_widens_the_interval(self):
        rng = random.Random(5)
        quiet = [(10.0, 10.0 + rng.gauss(0, 0.1)) for _ in range(100)]
        noisy = [(10.0, 10.0 + rng.gauss(0, 2)) for _ in range(100)]
        width = [high - low for _v, low, high in (
            testbed.bootstrap(p, testbed.delta_of_medians)
            for p in (quiet, noisy))]
        self.assertLess(width[0] * 5, width[1])

    def test_deterministic(self):
        pairs = [(1, 2), (2, 3), (3, 5)]
        self.assertEqual(testbed.bootstrap(pairs, testbed.ratio_of_medians),
                         testbed.bootstrap(pairs, testbed.ratio_of_medians))


class CheckerTests(testtools.TestCase):
    """load.check: a flag is right if some instant of its window has it."""

    class Shared(object):
        def __init__(self, writes):
            self.writes = writes

    def wrong(self, live_now, writes, checks):
        class Conn(object):
            dialect = type('D', (), {'name': 'mysql'})

            def __enter__(self):
                return self

            def __exit__(self, *a):
                pass

            def execute(self, statement):
                text = str(statement)
                rows = ([('p', None), ('c', 'p')] if 'SELECT id' in text
                        else list(live_now.items()))
                return type('R', (), {'all': lambda self: rows})()

        engine = type('E', (), {'dialect': Conn.dialect,
                                'connect': lambda self: Conn()})()
        return load.check(engine, self.Shared(writes), checks)

    def test_settled_rows(self):
        self.assertEqual([], self.wrong({'p': 1}, [], [
            (0, 1, [('p', False, True), ('c', True, False)])]))
        self.assertEqual(1, len(self.wrong({'p': 1}, [], [
            (0, 1, [('p', False, False)])])))

    def test_racing_write_may_go_either_way(self):
        # A child of p committed during [0.5, 0.6], inside the read window.
        writes = [(0.5, 0.6, 'p', 1)]
        for seen in (True, False):
            self.assertEqual([], self.wrong({'p': 1}, writes, [
                (0, 1, [('p', False, seen)])]))
        # A read that ended before the write began saw no child.
        self.assertEqual(1, len(self.wrong({'p': 1}, writes, [
            (0, 0.4, [('p', False, True)])])))

    def test_is_incremental_from_the_rows(self):
        self.assertEqual(1, len(self.wrong({}, [], [
            (0, 1, [('c', False, False)])])))
