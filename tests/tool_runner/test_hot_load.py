"""Hot-load: a pool watching its tools directory changes its tool set between calls when a
component is added, replaced or removed; a broken replacement is reported in one line and the
previous version keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventually import eventually
from wat_components import Spec, component_wat

from tool_runner import PoolSettings, WorkerPool


@pytest.fixture
def tools_dir(tmp_path: Path) -> Path:
    """A tools directory holding the echo component (as WAT text in a .wasm file)."""
    directory = tmp_path / "tools"
    directory.mkdir()
    (directory / "echo.wasm").write_text(component_wat(Spec()))
    return directory


@pytest.fixture
def pool(tools_dir: Path, tmp_path: Path) -> Iterator[WorkerPool]:
    settings = PoolSettings(workers=2, watch=True)
    with WorkerPool(tools_dir=tools_dir, cache_dir=tmp_path / "cache", settings=settings) as p:
        yield p


def _names(pool: WorkerPool) -> list[str]:
    return [m.name for m in pool.tools()]


def test_added_replaced_and_removed_components_change_the_tools(
    pool: WorkerPool, tools_dir: Path
) -> None:
    assert _names(pool) == ["Echo"]
    join = Spec(name="Join", params=(), behaviour="join")
    (tools_dir / "join.wasm").write_text(component_wat(join))
    assert eventually(lambda: _names(pool) == ["Echo", "Join"])
    assert [pool.call("Join").ok for _ in range(4)] == [True] * 4  # on both workers

    (tools_dir / "echo.wasm").write_text(component_wat(Spec(description="Echos, again")))
    assert eventually(lambda: pool.tools()[0].description == "Echos, again")
    assert pool.call("Echo", {"value": "new"}).output == "new"

    (tools_dir / "join.wasm").unlink()
    assert eventually(lambda: _names(pool) == ["Echo"])
    assert pool.call("Join").error == "unknown tool 'Join'; the available tools are: Echo"
    assert pool.stats().restarts == 0


def test_a_broken_replacement_is_reported_and_the_previous_version_keeps_serving(
    pool: WorkerPool, tools_dir: Path
) -> None:
    (tools_dir / "echo.wasm").write_bytes(b"\0asm garbage")
    assert eventually(lambda: bool(_names(pool)) and bool(pool.stats().problems))
    (problem,) = pool.stats().problems
    print(problem)
    assert problem.startswith(f"cannot load {tools_dir / 'echo.wasm'}: ")
    assert problem.endswith("; the previous version keeps serving") and "\n" not in problem
    assert _names(pool) == ["Echo"]
    assert [pool.call("Echo", {"value": str(i)}).output for i in range(4)] == ["0", "1", "2", "3"]
