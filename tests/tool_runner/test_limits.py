"""Store limits that make the memory cap bound the whole call, not each linear memory.

Each hog is the echo component plus one more core module instantiated beside it. Memories and
tables are created when the component is instantiated, which a load does first (to call
`get-metadata`), so a hog is refused at load with a one-line `MetadataError` that names the cap
and the store limits; without those limits each of them reached gigabytes (16 memories of the
cap each, 500 tables of 1M elements).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from wat_components import Spec

from tool_runner import Limits, MetadataError, Policy, ToolRunner

HOGS = {
    # one core module with 16 memories (multi-memory) of 64 MiB each
    "multi-memory": "(core module $hog {}) (core instance (instantiate $hog))".format(
        "(memory 1024) " * 16
    ),
    # 16 instances of a module with one 64 MiB memory
    "many-memories": "(core module $hog (memory 1024)) "
    + "(core instance (instantiate $hog)) " * 16,
    # 5 instances of a module with 100 tables (wasm's most) of 1M elements: 4 GB of tables
    "many-tables": "(core module $hog {}) ".format("(table 1000000 funcref) " * 100)
    + "(core instance (instantiate $hog)) " * 5,
    # one table of 1M elements
    "large-table": "(core module $hog (table 1000000 funcref)) (core instance (instantiate $hog))",
}


@pytest.mark.parametrize("memory_mib", [64, 256])
@pytest.mark.parametrize("hog", sorted(HOGS))
def test_a_hog_fails_at_the_cap(
    tmp_path: Path, write_component: Callable[[Spec, str], Path], hog: str, memory_mib: int
) -> None:
    path = write_component(Spec(extra_imports=HOGS[hog]), f"hog-{hog}")
    policy = Policy(limits=Limits(memory_mib=memory_mib, timeout_s=5))
    runner = ToolRunner(policy=policy, cache_dir=tmp_path / "cache")
    with runner, pytest.raises(MetadataError) as caught:
        runner.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"exceeded the memory limit of {memory_mib} MiB" in message
    assert "table limits" in message or "at most 1 linear memory" in message


def test_the_components_fit_the_limits(
    tmp_path: Path, write_component: Callable[[Spec, str], Path]
) -> None:
    small = "(core module $ok (table 10000 funcref)) (core instance (instantiate $ok))"
    path = write_component(Spec(extra_imports=small), "fits")
    with ToolRunner(policy=Policy(limits=Limits(memory_mib=64)), cache_dir=tmp_path) as runner:
        assert runner.load(path).call({"value": "fits"}).output == "fits"
