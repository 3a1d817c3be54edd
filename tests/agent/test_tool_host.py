"""The agent's tools run on the worker pool by default (`--in-process` keeps the old path,
`--tool-host nats://...` a NATS service); the host's figures reach `--json` and `-v`."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent import Completion, ToolCall
from agent.cli import main
from agent.executor import HostExecutor, RunnerExecutor, open_executor
from agent.fake import FakeBackend, FakeLoader
from agent.messages import Prompt
from tests.nats_server import nats_server, start_tool_worker, stop
from tool_runner import Policy, ResultKind, ToolHostError

DIRECTIVE = ("--syntax", "directive")  # the seed's syntax: these runs read its calls

CALL_THEN_ANSWER = ["USE_TOOL: Echo, value=hi", "It said hi"]


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


def _invoke(*args: str | Path) -> Result:
    loader = FakeLoader(FakeBackend(CALL_THEN_ANSWER))
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, obj=loader)


def test_run_json_reports_the_tool_workers(echo: Path) -> None:
    result = _invoke(
        "run", *DIRECTIVE, "-p", "echo hi", "-c", echo, "--tool-choice", "required", "--json"
    )
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.output)
    assert transcript["steps"][0]["calls"][0]["result"]["output"] == "hi"
    host = transcript["tool_host"]
    assert host["transport"] == "workers" and host["workers"] == 2 and host["alive"] == 2
    assert (host["calls"], host["restarts"], host["crashed"], host["timeouts"]) == (1, 0, 0, 0)


def test_workers_and_in_process_flags(echo: Path) -> None:
    three = _invoke("run", "-p", "x", "-c", echo, "--tool-choice", "required", "--json",
                    "--workers", "3")  # fmt: skip
    assert json.loads(three.output)["tool_host"]["workers"] == 3
    here = _invoke("run", "-p", "x", "-c", echo, "--tool-choice", "required", "--json",
                   "--in-process")  # fmt: skip
    assert json.loads(here.output)["tool_host"] is None


def test_open_executor_runs_on_workers_unless_in_process(echo: Path) -> None:
    with open_executor([echo], echo.parent, Policy()) as pooled:
        assert isinstance(pooled, HostExecutor)
        result = pooled.execute(ToolCall(id="1", name="echo", arguments={"value": "x"}))
        assert result.output == "x"
        unknown = pooled.execute(ToolCall(id="2", name="Shout", arguments={}))
        assert unknown.kind is ResultKind.UNKNOWN_TOOL
    with open_executor([echo], echo.parent, Policy(), in_process=True) as here:
        assert isinstance(here, RunnerExecutor) and here.stats() is None


def test_an_unreachable_tool_host_is_one_line(echo: Path) -> None:
    with (
        pytest.raises(ToolHostError, match="cannot connect to NATS"),
        open_executor([], echo.parent, Policy(), url="nats://127.0.0.1:9"),
    ):
        pass
    for flag in ("--tool-host", "--tools"):  # --tools takes a nats:// URL as the issue names it
        result = _invoke("run", "-p", "x", flag, "nats://127.0.0.1:9")
        assert result.exit_code == 1
        assert "cannot connect to NATS at nats://127.0.0.1:9" in result.output


def test_tools_names_tools_or_one_tool_host() -> None:
    from agent.config import AgentSettings

    assert AgentSettings(tools=("nats://h:4222",)).tool_host == "nats://h:4222"
    assert AgentSettings(tools=("Echo", "Files")).tool_host is None
    with pytest.raises(ValueError, match="tool names or one nats:// URL"):
        AgentSettings(tools=("Echo", "nats://h:4222"))


class _KillsTheWorkers(FakeBackend):
    """A scripted model that SIGKILLs this process's tool workers before its first reply."""

    def stream_prompt(self, prompt: Prompt, **options: Any) -> Generator[str, None, Completion]:
        if not self.prompts:
            for pid in _worker_pids():
                os.kill(pid, signal.SIGKILL)
        return super().stream_prompt(prompt, **options)


def _worker_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"tool_runner.worker" in cmdline:
            found.append(int(entry.name))
    return found


def test_verbose_run_reports_a_crashed_call_and_the_restart(echo: Path) -> None:
    loader = FakeLoader(_KillsTheWorkers(CALL_THEN_ANSWER))
    args = ["run", *DIRECTIVE, "-p", "echo hi", "-c", str(echo), "--tool-choice", "required", "-v"]
    result = CliRunner().invoke(main, args, catch_exceptions=False, obj=loader)
    assert result.exit_code == 0, result.output
    assert "Execution failed (crashed): the tool's worker process killed by SIGKILL" in (
        result.output
    )
    # the idle worker, killed too, is replaced by the supervisor within 0.2 s
    pattern = r"Tool host \(workers\): [12]/2 workers alive, 1 calls, [12] restarts, 1 crashed"
    assert re.search(pattern, result.output)
    quiet = _invoke(
        "run", *DIRECTIVE, "-p", "echo hi", "-c", echo, "--tool-choice", "required", "-v"
    )
    assert "Tool host" not in quiet.output  # nothing happened: nothing to report


def test_run_calls_the_tools_of_a_nats_service(echo: Path) -> None:
    with nats_server() as url:
        worker = start_tool_worker(url, [echo])
        try:
            result = _invoke("run", *DIRECTIVE, "-p", "echo hi", "--tool-host", url,
                             "--tool-choice", "required", "--timeout", "5", "--json")  # fmt: skip
        finally:
            stop(worker)
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.output)
    assert transcript["steps"][0]["calls"][0]["result"]["output"] == "hi"
    assert transcript["answer"] == "It said hi"
    host = transcript["tool_host"]
    assert (host["transport"], host["workers"], host["calls"]) == ("nats", 1, 1)
