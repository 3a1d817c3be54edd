"""Sandboxes made ahead of need (`ToolRunner(prestart=True)`, `tool_runner.prestart`): every call
still gets an instance no call has used, armed with its own deadline when it is taken."""

from __future__ import annotations

import hashlib
import itertools
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fast_limits import FAST_LIMITS

from tool_runner import Limits, Policy, ResultKind, ToolRunner
from tool_runner.engine import EngineSettings, wasmtime_version
from tool_runner.prestart import Prestarter


def _prestart_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("tool-runner-prestart")]


class Items:
    """Numbered items for a Prestarter, with a record of which were closed."""

    def __init__(self, fail_after: int | None = None) -> None:
        self._next = itertools.count()
        self.fail_after = fail_after
        self.closed: list[int] = []

    def make(self) -> int:
        item = next(self._next)
        if self.fail_after is not None and item >= self.fail_after:
            raise RuntimeError("cannot make another")
        return item

    def close(self, item: int) -> None:
        self.closed.append(item)


def _eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_each_item_is_taken_once_and_closed_once_retired() -> None:
    items = Items()
    prestarter = Prestarter(items.make, items.close, depth=1)
    try:
        taken = []
        for _ in range(5):
            assert prestarter.wait_ready(5.0)
            item = prestarter.take()
            assert item is not None
            taken.append(item)
            prestarter.retire(item)
        assert taken == [0, 1, 2, 3, 4]  # never the same item twice
        _eventually(lambda: items.closed == taken)
    finally:
        prestarter.close()
    assert sorted(items.closed) == list(range(prestarter.made))  # the ready one closed too
    assert not _prestart_threads()


def test_a_failure_to_make_stops_it_and_the_caller_makes_its_own() -> None:
    items = Items(fail_after=1)
    prestarter = Prestarter(items.make, items.close)
    try:
        assert prestarter.wait_ready(5.0)
        first = prestarter.take()
        assert first == 0
        prestarter.retire(first)
        _eventually(lambda: prestarter.failed is not None)
        assert prestarter.take() is None
        assert str(prestarter.failed) == "cannot make another"
    finally:
        prestarter.close()
    assert items.closed == [0]


@pytest.fixture
def prestarting(tmp_path: Path) -> Iterator[ToolRunner]:
    with ToolRunner(
        policy=Policy(limits=FAST_LIMITS), cache_dir=tmp_path / "cache", prestart=True
    ) as runner:
        yield runner
    assert not _prestart_threads()  # closing the runner stopped them


def test_a_tool_called_again_gets_fresh_sandboxes_made_ahead(
    prestarting: ToolRunner, hostile_path: Path
) -> None:
    tool = prestarting.load(hostile_path)
    assert not _prestart_threads()  # get-metadata at load is called once: nothing made ahead
    first = tool.call({"mode": "Measure"})
    assert first.ok and not _prestart_threads()
    # growing memory is state: each of these would see less room in a used instance
    outputs = []
    for _ in range(4):
        time.sleep(0.05)  # time for the next sandbox to be made
        outputs.append(tool.call({"mode": "Measure"}).output)
    assert outputs == [first.output] * 4
    assert len(_prestart_threads()) == 1
    assert tool.call({"mode": "trap"}).kind is ResultKind.TRAP
    assert tool.call({"mode": "echo", "arg": "after a trap"}).output == "after a trap"


def test_a_sandbox_made_ahead_gets_its_deadline_when_taken(
    prestarting: ToolRunner, hostile_path: Path
) -> None:
    policy = Policy(limits=Limits(timeout_s=0.05, memory_mib=16))
    tool = prestarting.load(hostile_path, policy=policy)
    tool.call({"mode": "echo", "arg": "warm up"})
    tool.call({"mode": "echo", "arg": "warm up"})
    time.sleep(0.3)  # far past the timeout: a deadline set when it was made has expired
    assert tool.call({"mode": "echo", "arg": "in time"}).output == "in time"
    time.sleep(0.1)
    looping = tool.call({"mode": "loop"})
    assert looping.kind is ResultKind.TIMEOUT and looping.error == "timed out after 0.05 s"
    assert tool.call({"mode": "echo", "arg": "again"}).output == "again"


def test_a_prestarting_runner_left_open_still_exits_cleanly(
    component_path: Callable[[str], Path],
) -> None:
    # sandboxes held ready at exit are closed by an atexit hook, not by a finalizing interpreter
    code = (
        "import sys\n"
        "from tool_runner import ToolRunner\n"
        "tool = ToolRunner(prestart=True, cache=False).load(sys.argv[1])\n"
        "for _ in range(4):\n"
        "    assert tool.call({'message': 'hi'}).stdout.strip() == 'hi'\n"
    )
    command = [sys.executable, "-c", code, str(component_path("print"))]
    for _ in range(3):
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "panicked" not in done.stderr and "abort" not in done.stderr.lower()


def test_sandboxes_made_ahead_copy_their_memory_in_and_have_a_cache_key_of_their_own() -> None:
    default, eager = EngineSettings(), EngineSettings(eager_memory=True)
    assert default.digest() != eager.digest()
    # the default key is the one caches already hold: nothing is recompiled for it
    text = (
        f"wasmtime={wasmtime_version()}|machine={platform.machine()}|"
        f"system={platform.system()}|epoch=1|fuel=0"
    )
    assert default.digest() == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_a_python_tool_called_with_sandboxes_made_ahead_answers_every_time(
    component_path: Callable[[str], Path],
) -> None:
    with ToolRunner(prestart=True) as runner:  # the suite's compile cache
        tool = runner.load(component_path("calculator"))
        outputs = []
        for expression in ("6*7", "2**100", "6*7", "2**100"):
            time.sleep(0.05)
            outputs.append(tool.call({"expression": expression}).output)
        assert outputs == ["42", str(2**100), "42", str(2**100)]
        assert len(_prestart_threads()) == 1
