"""Two components serving the same tool name: refused by default (one line naming both files);
with `unique_names` each is served as `<load name>.<name>` and called by it, in process and in
the worker pool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tool_runner import LoadError, PoolSettings, ToolRunner, WorkerPool
from tool_runner.toolset import ToolSet


@pytest.fixture
def twins(tmp_path: Path, echo_path: Path, hostile_path: Path) -> list[Path]:
    folder = tmp_path / "twins"
    folder.mkdir()
    for name in ("echo", "echo-copy"):
        shutil.copy(echo_path, folder / f"{name}.wat")
    shutil.copy(hostile_path, folder / "hostile.wat")
    return sorted(folder.iterdir())


def test_a_shared_name_is_refused_by_default(tmp_path: Path, twins: list[Path]) -> None:
    refused = pytest.raises(LoadError, match="tool name 'Echo' is already used by")
    with ToolRunner(cache_dir=tmp_path / "cache") as runner, refused:
        ToolSet(runner, files=twins)


def test_unique_names_prefix_only_the_shared_names(tmp_path: Path, twins: list[Path]) -> None:
    with ToolRunner(cache_dir=tmp_path / "cache") as runner:
        tools = ToolSet(runner, files=twins, unique_names=True)
        assert [m.name for m in tools.tools()] == ["echo-copy.Echo", "echo.Echo", "hostile"]
        copy = tools.tool("echo-copy.Echo")
        assert copy is not None and copy.path.name == "echo-copy.wat"
        assert copy.call({"value": "hi"}).output == "hi"
        assert tools.tool("Echo") is None


def test_unique_names_in_the_worker_pool(tmp_path: Path, twins: list[Path]) -> None:
    settings = PoolSettings(workers=1)
    with WorkerPool(
        twins, cache_dir=tmp_path / "cache", settings=settings, unique_names=True
    ) as pool:
        assert [m.name for m in pool.tools()] == ["echo-copy.Echo", "echo.Echo", "hostile"]
        assert pool.call("echo.Echo", {"value": "one"}).output == "one"
        assert pool.call("Echo", {"value": "x"}).kind.value == "unknown_tool"
