"""The NATS transport: a real nats-server on 127.0.0.1, `tool-runner worker` processes serving
the tools, and `NatsHost` discovering and calling them with deadlines."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sleeper import sleeper_wat

from tests.nats_server import free_port, nats_server, start_tool_worker, stop
from tool_runner import Limits, NatsHost, Policy, ResultKind, ToolHostError, ToolResult
from tool_runner.grants import ToolGrants

GRACE_S = 1.0


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    """A nats-server on a free loopback port."""
    with nats_server() as url:
        yield url


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, echo_path: Path, hostile_path: Path
) -> list[Path]:
    """The components the workers serve: Echo, hostile and the sleeper."""
    sleeper = tmp_path_factory.mktemp("nats") / "sleeper.wat"
    sleeper.write_text(sleeper_wat())
    return [echo_path, hostile_path, sleeper]


Start = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(nats_url: str, served: list[Path]) -> Iterator[Start]:
    """Starts `tool-runner worker` processes (one pool worker each); stops them afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = start_tool_worker(nats_url, served)
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)


def _discover(url: str, policy: Policy, services: int) -> NatsHost:
    deadline = time.monotonic() + 10
    while True:
        host = NatsHost(url, policy)
        if host.stats().workers >= services or time.monotonic() > deadline:
            return host
        host.close()
        time.sleep(0.1)


def test_tools_are_discovered_and_called_under_the_callers_policy(
    nats_url: str, start_worker: Start
) -> None:
    start_worker()
    grants = {"hostile": ToolGrants(env_values={"GRANTED": "yes"})}
    policy = Policy(tools=grants, limits=Limits(timeout_s=0.5))
    with _discover(nats_url, policy, 1) as host:
        assert [m.name for m in host.tools()] == ["Echo", "Sleep", "hostile"]
        assert host.call("Echo", {"value": "hi"}).output == "hi"
        assert host.call("hostile", {"mode": "vars"}).output == "GRANTED=yes\n"
        assert host.call("hostile", {"mode": "loop"}).kind is ResultKind.TIMEOUT
        started = time.monotonic()
        blocked = host.call("Sleep", {"seconds": "60"})
        assert blocked.kind is ResultKind.TIMEOUT and time.monotonic() - started < 0.5 + 2
        assert host.call("Echo", {"value": "again"}).output == "again"
        assert host.call("Echo", {}).kind is ResultKind.INVALID_ARGUMENTS
        assert host.stats().transport == "nats" and host.stats().calls == 6
    # a grant scoped to another tool does not reach hostile; an unscoped one beside two others
    # is refused in one line (the caller's policy is split per tool by the worker)
    others = Policy(tools={"echo": ToolGrants(env_values={"GRANTED": "yes"})})
    with _discover(nats_url, others, 1) as host:
        assert host.call("hostile", {"mode": "vars"}).output == ""
    with _discover(nats_url, Policy(env_values={"GRANTED": "yes"}), 1) as host:
        refused = host.call("hostile", {"mode": "vars"})
        assert not refused.ok and "would reach all 3 tools" in (refused.error or "")


def test_no_service_is_a_one_line_error(nats_url: str) -> None:
    with pytest.raises(ToolHostError, match="no llm-agent-tools service answered"):
        NatsHost(nats_url, discover_timeout_s=0.2)
    with pytest.raises(ToolHostError, match="cannot connect to NATS"):
        NatsHost(f"nats://127.0.0.1:{free_port()}")


def test_two_workers_one_killed_mid_run_every_call_answered_within_its_deadline(
    nats_url: str, start_worker: Start
) -> None:
    first, _second = start_worker(), start_worker()
    policy = Policy(limits=Limits(timeout_s=1.0))
    deadline_s = 1.0 + GRACE_S
    results: list[tuple[ToolResult, float]] = []
    lock = threading.Lock()
    with _discover(nats_url, policy, 2) as host:
        assert host.stats().workers == 2

        def caller(index: int) -> None:
            for n in range(50):
                started = time.monotonic()
                result = host.call("Echo", {"value": f"{index}-{n}"})
                with lock:
                    results.append((result, time.monotonic() - started))
                    if len(results) == 60:
                        os.kill(first.pid, signal.SIGKILL)

        threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    kinds = [result.kind for result, _ in results]
    slowest = max(elapsed for _, elapsed in results)
    ok = kinds.count(ResultKind.SUCCESS)
    print(
        f"{len(results)} calls: {ok} ok, {len(results) - ok} clean errors; slowest {slowest:.2f}s"
    )
    assert len(results) == 200
    assert set(kinds) <= {ResultKind.SUCCESS, ResultKind.TIMEOUT, ResultKind.CRASHED}
    assert slowest < deadline_s + 0.5
    assert kinds[-20:] == [ResultKind.SUCCESS] * 20  # the survivor serves what follows
