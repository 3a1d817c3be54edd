"""A runner owns its engines, epoch ticker and kept stores, and closes them all."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from fast_limits import FAST_LIMITS

from tool_runner import Policy, ResultKind, ToolRunner, default_cache_dir

REPO = Path(__file__).resolve().parents[2]


def _tickers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tool-runner-epoch"]


def test_close_stops_the_ticker_and_keeps_other_runners_working(
    tmp_path: Path, hostile_path: Path
) -> None:
    before = len(_tickers())
    other = ToolRunner(policy=Policy(limits=FAST_LIMITS), cache_dir=tmp_path)
    with ToolRunner(
        policy=Policy(limits=FAST_LIMITS, reuse_instance=True), cache_dir=tmp_path
    ) as r:
        assert r.load(hostile_path).call({"mode": "echo", "arg": "kept"}).ok
        assert len(_tickers()) == before + 1
    assert len(_tickers()) == before
    with other:
        # This runner's own ticker still interrupts its guests.
        assert other.load(hostile_path).call({"mode": "loop"}).kind is ResultKind.TIMEOUT
    assert len(_tickers()) == before


def test_default_cache_dir_reads_only_the_mapping_it_is_given() -> None:
    cache = Path("/x/cache/llm-agent/compiled")
    assert default_cache_dir({"XDG_CACHE_HOME": "/x/cache", "HOME": "/h"}) == cache
    assert default_cache_dir({"HOME": "/h"}) == Path("/h/.cache/llm-agent/compiled")


def test_a_kept_instance_left_open_at_exit_does_not_abort_the_process(hostile_path: Path) -> None:
    script = (
        "from tool_runner import Policy, ToolRunner\n"
        "runner = ToolRunner(policy=Policy(reuse_instance=True), cache=False)\n"
        f"tool = runner.load({str(hostile_path)!r})\n"
        "print(tool.call({'mode': 'print', 'arg': 'bye'}).output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "bye\n", "")
