"""`agent tools lock` pins each component's bytes; `agent tools list` shows digests, worlds,
grants and lock state; a component changed by one byte is refused by every later run until it
is locked again."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.fake import FakeBackend, FakeLoader
from agent.paths import user_paths
from tool_runner import LoadError, Policy, ToolRunner
from tool_runner.errors import PinnedError
from tool_runner.lock import ToolLock, with_lock


@pytest.fixture
def tools_dir(tmp_path: Path, component_path: Callable[[str], Path]) -> Path:
    folder = tmp_path / "tools"
    folder.mkdir()
    for name in ("echo", "print"):
        shutil.copy(component_path(name), folder / f"{name}-tool-component.wasm")
    return folder


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_AGENT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))


def _agent(*args: str, fake: FakeBackend | None = None) -> Any:
    loader = FakeLoader(fake or FakeBackend([]))
    return CliRunner().invoke(main, list(args), catch_exceptions=False, obj=loader)


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_lock_list_and_a_changed_byte_refused(tools_dir: Path) -> None:
    listed = _agent("tools", "list", "--tools-dir", str(tools_dir), "--json")
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)["tools"]}
    assert set(rows) == {"echo", "print"}
    assert rows["echo"]["tools"] == ["Echo"] and rows["echo"]["world"] == "llm-agent"
    assert rows["echo"]["lock"] == "unlocked" and rows["echo"]["source"] == "components"
    assert len(rows["echo"]["sha256"]) == 64

    locked = _agent("tools", "lock", "--tools-dir", str(tools_dir))
    assert locked.exit_code == 0, locked.output
    lock_path = user_paths(os.environ).tools_lock
    assert f"wrote {lock_path}" in locked.stdout
    lock = ToolLock.read(lock_path)
    assert lock.pins() == {"echo": rows["echo"]["sha256"], "print": rows["print"]["sha256"]}
    old = rows["echo"]["sha256"]

    _flip_last_byte(tools_dir / "echo-tool-component.wasm")
    listed = _agent("tools", "list", "--tools-dir", str(tools_dir), "--json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)["tools"]}
    assert rows["echo"]["lock"] == "changed" and rows["print"]["lock"] == "locked"
    new = rows["echo"]["sha256"]
    assert new != old and rows["echo"]["locked_sha256"] == old

    for extra in (["--in-process"], []):  # in this process and in the worker pool
        refused = _agent("run", "--tools-dir", str(tools_dir), *extra, "say hi")
        assert refused.exit_code == 1
        (line,) = refused.stderr.strip().splitlines()[-1:]
        assert line == (
            f"Error: cannot load {tools_dir / 'echo-tool-component.wasm'}: tool 'echo' changed "
            f"since it was locked (locked sha256 {old}, now {new}); run `agent tools lock` "
            "again to trust the new bytes"
        )

    assert _agent("tools", "lock", "--tools-dir", str(tools_dir)).exit_code == 0
    ran = _agent(
        "run", "--tools-dir", str(tools_dir), "--in-process", "hi", fake=FakeBackend(["hello"])
    )
    assert ran.exit_code == 0, ran.output


def test_a_pinned_tool_is_checked_on_every_load(tmp_path: Path, tools_dir: Path) -> None:
    path = tools_dir / "echo-tool-component.wasm"
    lock_file = tmp_path / "tools.lock"
    with ToolRunner(policy=Policy()) as runner:
        ToolLock(tools=tuple(_entries(runner, path))).write(lock_file)
    policy = with_lock(Policy(), lock_file)
    with ToolRunner(policy=policy) as runner:
        assert runner.load(path).name == "Echo"
        _flip_last_byte(path)
        with pytest.raises(PinnedError) as info:
            runner.load(path)
    assert isinstance(info.value, LoadError) and info.value.tool == "echo"
    assert with_lock(Policy(), tmp_path / "missing.lock") == Policy()


def _entries(runner: ToolRunner, path: Path) -> Any:
    from tool_runner.lock import entries

    return entries([runner.load(path)])
