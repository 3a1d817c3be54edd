"""The suite draws the same Hypothesis examples on every run unless fuzzing is asked for."""

from __future__ import annotations

import os

from hypothesis import settings

from tests.hypothesis_profiles import FUZZ_FACTOR, examples


def test_default_profile_is_deterministic() -> None:
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "fuzz":
        assert not settings.default.derandomize
        assert examples(3) == 3 * FUZZ_FACTOR
        return
    assert settings.default.derandomize
    assert settings.default.database is None
    assert examples(3) == 3
