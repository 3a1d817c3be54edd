"""Hypothesis profiles: the same examples on every run unless asked for fresh ones.

- `ci`, the default (CI and a local `make test`): derandomized, so each test draws the same
  examples on every run, and no example database, so nothing a past run found is replayed. One
  unlucky draw cannot turn a run red at random.
- `fuzz`, opt-in (`make fuzz`, or `HYPOTHESIS_PROFILE=fuzz` before pytest): fresh random
  examples on each run, `FUZZ_FACTOR` times as many, failures kept in the local database and
  replayed until fixed.

Tests that set their own example count pass it through `examples()` so that fuzzing scales it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ_FACTOR = 10
_SLOW = [HealthCheck.too_slow]

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=_SLOW
)
settings.register_profile("fuzz", derandomize=False, deadline=None, suppress_health_check=_SLOW)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """`count` examples under the default profile, `FUZZ_FACTOR` times as many when fuzzing."""
    return count * FUZZ_FACTOR if PROFILE == "fuzz" else count
