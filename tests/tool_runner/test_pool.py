"""The worker pool: calls in supervised processes, deadlines past a blocked host call, crashes
as results, restarts, the OS memory ceiling, and no growth over many calls."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eventually import eventually
from sleeper import sleeper_wat
from wat_components import HOSTILE, Spec

from tool_runner import (
    ComponentNotFoundError,
    Limits,
    Policy,
    PoolSettings,
    ResultKind,
    WorkerPool,
)

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def pool_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compile cache for the module's pools (workers start faster)."""
    return tmp_path_factory.mktemp("pool-cache")


@pytest.fixture(scope="module")
def sleeper_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The component that blocks in one WASI host call."""
    path = tmp_path_factory.mktemp("sleeper") / "sleeper.wat"
    path.write_text(sleeper_wat())
    return path


@pytest.fixture
def pool(
    echo_path: Path, sleeper_path: Path, hostile_path: Path, pool_cache: Path
) -> Iterator[WorkerPool]:
    """Two workers serving Echo, Sleep and hostile under a 1 s timeout."""
    policy = Policy(limits=Limits(timeout_s=TIMEOUT_S, memory_mib=64))
    settings = PoolSettings(workers=2, grace_s=0.5)
    paths = [echo_path, sleeper_path, hostile_path]
    with WorkerPool(paths, policy, cache_dir=pool_cache, settings=settings) as opened:
        yield opened


def test_the_pool_serves_the_tools_and_reports_their_failures_as_results(pool: WorkerPool) -> None:
    assert [m.name for m in pool.tools()] == ["Echo", "Sleep", "hostile"]
    assert pool.call("Echo", {"value": "hi"}).output == "hi"
    assert pool.call("Echo", {}).kind is ResultKind.INVALID_ARGUMENTS
    assert pool.call("hostile", {"mode": "trap"}).kind is ResultKind.TRAP
    assert pool.call("hostile", {"mode": "loop"}).kind is ResultKind.TIMEOUT
    unknown = pool.call("Shout", {})
    assert unknown.kind is ResultKind.UNKNOWN_TOOL and "Echo, Sleep, hostile" in (
        unknown.error or ""
    )
    assert pool.stats().restarts == 0 and pool.stats().alive == 2


def test_a_call_blocked_in_a_host_call_times_out_and_the_next_succeeds(pool: WorkerPool) -> None:
    before = set(pool.pids())
    started = time.monotonic()
    result = pool.call("Sleep", {"seconds": "60"})
    elapsed = time.monotonic() - started
    print(f"blocked call returned after {elapsed:.2f}s: {result.error}")
    assert result.kind is ResultKind.TIMEOUT and elapsed < TIMEOUT_S + 2
    assert "killed and replaced" in (result.error or "")
    assert pool.call("Echo", {"value": "next"}).output == "next"
    stats = pool.stats()
    assert (stats.timeouts, stats.restarts, stats.alive) == (1, 1, 2)
    assert set(pool.pids()) != before


def test_a_worker_killed_during_a_call_reports_crashed_and_is_replaced(pool: WorkerPool) -> None:
    pids = pool.pids()
    killer = threading.Timer(0.3, lambda: [os.kill(pid, signal.SIGKILL) for pid in pids])
    killer.start()
    result = pool.call("Sleep", {"seconds": "5"})
    killer.join()
    assert result.kind is ResultKind.CRASHED, result
    assert "killed by SIGKILL" in (result.error or "")
    # the idle one died too: the supervisor replaces it
    assert eventually(lambda: pool.stats().restarts == 2 and pool.stats().alive == 2)
    assert pool.stats().crashed == 1 and not set(pool.pids()) & set(pids)
    outputs = [pool.call("Echo", {"value": str(i)}).output for i in range(100)]
    assert outputs == [str(i) for i in range(100)]
    assert pool.stats().alive == 2


def test_a_worker_that_cannot_restart_is_retried_with_backoff(
    echo_path: Path, tmp_path: Path, pool_cache: Path
) -> None:
    path = tmp_path / "echo.wat"
    path.write_text(echo_path.read_text())
    settings = PoolSettings(workers=1, backoff_s=0.2)
    with WorkerPool([path], cache_dir=pool_cache, settings=settings) as one:
        path.rename(tmp_path / "gone.wat")
        os.kill(one.pids()[0], signal.SIGKILL)
        assert eventually(lambda: one.stats().restarts == 1)
        timings = []
        for _ in range(3):
            started = time.monotonic()
            result = one.call("Echo", {"value": "x"})
            timings.append(time.monotonic() - started)
            assert result.kind is ResultKind.CRASHED
            assert "could not start: cannot load" in (result.error or "")
        (tmp_path / "gone.wat").rename(path)
        assert one.call("Echo", {"value": "back"}).output == "back"
    print("calls while the worker could not start took", [f"{t:.2f}s" for t in timings])
    # each start fails; the second failure in a row defers the next start by 0.2 s
    assert timings[2] - timings[1] >= 0.15


def test_loading_errors_are_the_same_as_in_process(tmp_path: Path, pool_cache: Path) -> None:
    missing = tmp_path / "missing.wasm"
    with pytest.raises(ComponentNotFoundError) as caught:
        WorkerPool([missing], cache_dir=pool_cache, settings=PoolSettings(workers=1))
    assert str(caught.value).startswith(f"cannot load {missing}:")
    assert caught.value.path == missing


def test_the_os_memory_ceiling_backs_the_wasm_limits(hostile_path: Path, pool_cache: Path) -> None:
    policy = Policy(limits=Limits(timeout_s=20, memory_mib=4096))
    settings = PoolSettings(workers=1, memory_ceiling_mib=384)
    with WorkerPool([hostile_path], policy, cache_dir=pool_cache, settings=settings) as capped:
        result = capped.call("hostile", {"mode": "Measure"})
    pages = int(result.output or "0")
    print(f"memory grew to {pages * 64 // 1024} MiB under a 384 MiB ceiling")
    assert 0 < pages * 64 * 1024 < 384 * 1024 * 1024


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_calls_leave_memory_and_descriptors_flat(
    echo_path: Path, pool_cache: Path
) -> None:
    settings = PoolSettings(workers=2)
    with WorkerPool([echo_path], cache_dir=pool_cache, settings=settings) as flat:
        call: Callable[[], object] = lambda: flat.call("Echo", {"value": "x" * 100})  # noqa: E731
        for _ in range(50):
            call()
        rss, fds = _rss_kib(), _open_fds()
        for _ in range(1000):
            call()
        rss_end, fds_end = _rss_kib(), _open_fds()
    print(f"agent process: RSS {rss} -> {rss_end} KiB, open fds {fds} -> {fds_end}")
    assert fds_end == fds
    assert rss_end - rss < 4096


def test_calls_from_several_threads_run_on_several_workers(
    write_component: Callable[[Spec, str], Path], pool_cache: Path
) -> None:
    path = write_component(HOSTILE, "hostile-threads")
    policy = Policy(limits=Limits(timeout_s=1.0))
    with WorkerPool([path], policy, cache_dir=pool_cache, settings=PoolSettings(workers=2)) as two:
        results: list[ResultKind] = []
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=lambda: results.append(two.call("hostile", {"mode": "loop"}).kind)
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert results == [ResultKind.TIMEOUT, ResultKind.TIMEOUT]
    assert elapsed < 1.9  # both ran at once: two 1 s timeouts, not one after the other
