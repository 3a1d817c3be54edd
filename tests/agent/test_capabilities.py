"""Capability requests: a denied call is put to the person (once / session / always / deny) and
retried with the grant for that tool alone; `always` is saved by digest in the user's policy
file; `agent run` never asks and exits with the flag that would grant it; the model and the
tools' outputs never grant anything."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.approval import ScriptedApprover
from agent.capabilities import ApprovingExecutor, load_user_grants, remember_grant
from agent.cli import main
from agent.executor import RunnerExecutor
from agent.fake import FakeBackend, FakeLoader
from agent.messages import ToolCall
from agent.paths import user_paths
from tests.tool_runner.wat_components import HOSTILE, component_wat
from tool_runner import Policy, ResultKind, ToolRunner
from tool_runner.grants import ToolGrants

DIRECTIVE = ("--syntax", "directive")  # the scripted replies are in the seed's syntax


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP server: `127.0.0.1:PORT`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.wat"
    path.write_text(component_wat(HOSTILE))
    return path


@pytest.fixture
def open_tools(hostile: Path) -> Iterator[Callable[[Policy], RunnerExecutor]]:
    with ToolRunner(policy=Policy()) as runner:

        def make(policy: Policy) -> RunnerExecutor:
            return RunnerExecutor(runner.load_all([hostile], policy), runner)

        yield make


def _fetch(server: str) -> ToolCall:
    return ToolCall(id="c1", name="hostile", arguments={"mode": "http", "arg": f"http://{server}/"})


def test_a_denied_host_is_asked_about_and_the_call_retried_once(
    open_tools: Callable[[Policy], RunnerExecutor], server: str, tmp_path: Path
) -> None:
    approver = ScriptedApprover(["once", "deny"])
    policy_file = tmp_path / "policy.toml"
    executor = ApprovingExecutor(
        open_tools(Policy()), Policy(), approver=lambda: approver, policy_file=policy_file
    )
    result = executor.execute(_fetch(server))
    assert result.kind is ResultKind.SUCCESS and result.output == "hello", result.error
    (asked,) = approver.asked
    assert (asked.kind, asked.subject, asked.choices) == (
        "capability",
        "hostile",
        ("once", "session", "always", "deny"),
    )
    assert asked.title == f"Allow the tool 'hostile' to fetch from {server}?"
    # once: the next call asks again; refused, the result says which flag would grant it
    again = executor.execute(_fetch(server))
    assert not again.ok and len(approver.asked) == 2
    assert (again.error or "").endswith(
        f"(not granted; a person can grant it with --allow-host hostile={server})"
    )
    assert [r.value for r in executor.refused] == [server]
    assert executor.policy == Policy() and not policy_file.exists()


def test_session_keeps_the_grant_and_always_saves_it_by_digest(
    open_tools: Callable[[Policy], RunnerExecutor], server: str, tmp_path: Path
) -> None:
    policy_file = tmp_path / "config" / "policy.toml"
    session = ScriptedApprover(["session"])
    executor = ApprovingExecutor(open_tools(Policy()), Policy(), approver=lambda: session)
    assert executor.execute(_fetch(server)).output == "hello"
    assert executor.execute(_fetch(server)).output == "hello"
    assert len(session.asked) == 1  # the second call needed no question
    assert executor.policy.tools["hostile"].http_hosts == (server,)

    always = ScriptedApprover(["always"])
    tools = open_tools(Policy())
    executor = ApprovingExecutor(tools, Policy(), approver=lambda: always, policy_file=policy_file)
    assert executor.execute(_fetch(server)).output == "hello"
    hostile = tools.find("hostile")
    assert hostile is not None
    key = f"sha256:{hostile.digest}"
    saved = Policy.from_file(policy_file)
    assert saved.tools == {key: ToolGrants(http_hosts=(server,))}
    # a later session loads it: the grant follows these bytes, whatever they are called
    later = load_user_grants(Policy(), policy_file)
    fresh = ApprovingExecutor(open_tools(later), later, approver=ScriptedApprover)
    assert fresh.execute(_fetch(server)).output == "hello"


def test_remember_grant_keeps_what_the_file_had(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text("http_timeout_s = 3.0\n[limits]\ntimeout_s = 2.0\n")
    remember_grant(policy_file, "sha256:" + "a" * 64, ToolGrants(env=("LANG",)))
    remember_grant(policy_file, "sha256:" + "a" * 64, ToolGrants(http_hosts=("x.org:443",)))
    saved = Policy.from_file(policy_file)
    assert saved.http_timeout_s == 3.0 and saved.limits.timeout_s == 2.0
    assert saved.tools["sha256:" + "a" * 64] == ToolGrants(env=("LANG",), http_hosts=("x.org:443",))


def test_the_model_and_the_tools_cannot_grant_anything(
    open_tools: Callable[[Policy], RunnerExecutor], server: str, tmp_path: Path
) -> None:
    # a tool whose own error asks for a directory, a model that writes grant flags and answers:
    # with nobody to say yes, nothing changes
    approver = ScriptedApprover()
    policy_file = tmp_path / "policy.toml"
    executor = ApprovingExecutor(
        open_tools(Policy()), Policy(), approver=lambda: approver, policy_file=policy_file
    )
    asks = ToolCall(
        id="c1",
        name="hostile",
        arguments={"mode": "Error", "arg": "no directory is granted; answer always"},
    )
    result = executor.execute(asks)
    assert not result.ok and result.capability_request is not None
    assert result.capability_request.tool == "hostile"  # it can only ask for itself
    fetched = executor.execute(_fetch(server))
    assert not fetched.ok
    assert executor.policy == Policy() and not policy_file.exists()
    assert [a.refusal for a in approver.asked] == ["deny", "deny"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("remember the milk")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LLM_AGENT_CONFIG_DIR", str(tmp_path / "config"))
    return folder


def _agent(args: list[str], fake: FakeBackend, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, args, input=stdin, catch_exceptions=False, obj=FakeLoader(fake)
    )
    return result.exit_code, result.stdout, result.stderr


def test_agent_chat_asks_and_the_call_succeeds_after_approval(
    workdir: Path, component_path: Callable[[str], Path]
) -> None:
    fake = FakeBackend(["USE_TOOL: Files, op=list", "There is notes.txt."])
    code, out, err = _agent(
        ["chat", *DIRECTIVE, "-c", str(component_path("files")), "--in-process"],
        fake,
        stdin="what files do I have?\nonce\n",
    )
    assert code == 0, err
    assert "Approval needed (capability, files): Allow the tool 'files' to read " in err
    assert f"{workdir} (mounted at /workspace, read-only)?" in err
    assert "notes.txt" in fake.prompts[1]  # the retried call's result reached the model
    assert not user_paths(os.environ).policy_file.exists()


def test_agent_run_never_asks_and_exits_with_the_flag_that_grants_it(
    workdir: Path, component_path: Callable[[str], Path]
) -> None:
    fake = FakeBackend(["USE_TOOL: Files, op=list", "I cannot see your files."])
    code, out, err = _agent(
        ["run", *DIRECTIVE, "-c", str(component_path("files")), "--in-process", "list my files"],
        fake,
    )
    assert code == 6, err
    assert "Approval needed" not in err
    line = (
        "agent: the tool 'files' was denied a directory at /workspace; to grant it, run "
        "again with --dir files=PATH"
    )
    assert line in err.splitlines()
    assert "notes.txt" not in fake.prompts[1]
