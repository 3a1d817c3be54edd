"""Self-built tools end to end with a scripted model: write a tool, see the build error, fix it,
get it approved, call it; a later run reuses it from the library without building anything;
model-written code is denied files and the network and is stopped when it loops."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from toolsmith_fixtures import library_with_runner

from agent.approval import Refuse, ScriptedApprover
from agent.config import AgentSettings, LoopSettings
from agent.events import Answer, Event, ToolCallFinished
from agent.fake import FakeBackend, FakeExecutor, FakeLoader
from agent.loop import run_agent
from agent.paths import user_paths
from agent.session import Session
from agent.toolsmith import (
    CREATE_TOOL,
    AutoApprove,
    Library,
    LibraryError,
    ToolDraft,
    Toolsmith,
    ToolsmithExecutor,
    build,
)
from tool_runner import Limits, Policy, ResultKind, policy_from_options

pytestmark = pytest.mark.slow

WORD_COUNT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "The text"}},
    "required": ["text"],
}
BROKEN = "def word_count(text):\n    return len(text.split()\n"
FIXED = "def word_count(text):\n    return {'words': len(text.split())}\n"


@pytest.fixture
def library(tmp_path: Path) -> Library:
    """An empty library whose runner folder already holds the built runner."""
    return library_with_runner(tmp_path / "library")


@pytest.fixture
def smith(library: Library) -> Iterator[Toolsmith]:
    policy = Policy(limits=Limits(timeout_s=2))
    with Toolsmith(library, ScriptedApprover(["yes"]), policy=policy) as made:
        yield made


def create_call(source: str, name: str = "word_count") -> str:
    arguments = {
        "name": name,
        "description": "Counts the words of a text",
        "parameters": json.dumps(WORD_COUNT_SCHEMA),
        "source": source,
    }
    return json.dumps({"name": "CreateTool", "arguments": arguments})


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def results(events: list[Event]) -> list[ToolCallFinished]:
    return [e for e in events if isinstance(e, ToolCallFinished)]


def test_write_fix_approve_call_then_reuse(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    approver = ScriptedApprover(["yes"])
    backend = FakeBackend(
        [
            create_call(BROKEN),
            create_call(FIXED),
            call("word_count", text="one two three"),
            "The text has 3 words.",
        ]
    )
    settings = LoopSettings(syntax="json", max_steps=6)
    with Toolsmith(library, approver) as smith:
        executor = ToolsmithExecutor(FakeExecutor({}), smith, create=True)
        assert [spec.name for spec in executor.specs()] == ["CreateTool"]
        events = list(run_agent("How many words in 'one two three'?", backend, executor, settings))
    broken, created, counted = (finished.result for finished in results(events))
    assert broken.kind is ResultKind.TOOL_ERROR
    assert "SyntaxError at line 2: '(' was never closed" in str(broken.error)
    assert created.ok, created.error
    assert "created word_count(text: string)" in created.text
    assert counted.ok and json.loads(counted.text) == {"words": 3}
    assert isinstance(events[-1], Answer)
    # the person saw everything before it ran; only the fixed draft was put to them
    (asked,) = approver.asked
    assert (asked.kind, asked.subject, asked.choices) == ("new_tool", "word_count", ("yes", "no"))
    assert FIXED in asked.detail and "Counts the words of a text" in asked.detail
    assert '"text"' in asked.detail
    # stored with who and when
    entry = library.load("word_count").entry
    assert "ScriptedApprover" in entry.approved_by and entry.source_sha256

    # a later run: loaded from the library, nothing is built
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the runner was built again")

    monkeypatch.setattr(build, "componentize", no_build)
    later = FakeBackend([call("word_count", text="a b"), "2 words."])
    with Toolsmith(library, Refuse()) as smith:
        executor = ToolsmithExecutor(FakeExecutor({}), smith)
        assert [spec.name for spec in executor.specs()] == ["word_count"]
        events = list(run_agent("Count 'a b'", later, executor, LoopSettings(syntax="json")))
    (reused,) = results(events)
    assert reused.result.ok and json.loads(reused.result.text) == {"words": 2}
    assert "word_count" in later.prompts[0]  # offered to the model like any other tool


def test_a_refused_tool_is_not_saved_and_does_not_run(library: Library) -> None:
    refuse = Refuse()
    with Toolsmith(library, refuse) as smith:
        executor = ToolsmithExecutor(FakeExecutor({}), smith, create=True)
        backend = FakeBackend([create_call(FIXED), call("word_count", text="x"), "no"])
        events = list(run_agent("count", backend, executor, LoopSettings(syntax="json")))
    refused, unknown = (finished.result for finished in results(events))
    assert "did not approve word_count" in str(refused.error)
    assert "--approve-new-tools" in str(refused.error)
    assert unknown.kind is ResultKind.UNKNOWN_TOOL
    assert library.names() == [] and len(refuse.refused) == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def count(text):\n    return 1\n", "must define the function word_count(...)"),
        ("def word_count(words):\n    return 1\n", "(words) do not match the declared ones (text)"),
        ("def word_count(text='')\n    return 1\n", "SyntaxError at line 1"),
        ("def word_count(*text):\n    return 1\n", "no *args"),
    ],
)
def test_drafts_that_do_not_build_say_why(smith: Toolsmith, source: str, message: str) -> None:
    arguments = json.loads(create_call(source))["arguments"]
    result = smith.create(arguments, taken=set())
    assert result.kind is ResultKind.TOOL_ERROR and message in str(result.error)
    assert smith.specs() == []


def test_a_name_already_taken_is_refused(smith: Toolsmith) -> None:
    arguments = json.loads(create_call(FIXED))["arguments"]
    result = smith.create(arguments, taken={"Word_Count"})
    assert "already a tool" in str(result.error)


@pytest.mark.parametrize("name", ["class", "word count", "../x", "", "x" * 65])
def test_a_name_must_be_an_identifier(smith: Toolsmith, name: str) -> None:
    arguments = json.loads(create_call(FIXED, name=name))["arguments"]
    result = smith.create(arguments, taken=set())
    assert result.kind is ResultKind.TOOL_ERROR
    assert "CreateTool needs name" in str(result.error) or "use a Python identifier" in str(
        result.error
    )


def run_source(smith: Toolsmith, source: str) -> str:
    draft = ToolDraft(name="probe", description="probe", source=source)
    smith.save(draft, approved_by="test")
    result = smith.call("probe", {})
    assert not result.ok
    return f"{result.kind.value}: {result.error}"


def test_model_written_code_cannot_read_files(smith: Toolsmith) -> None:
    source = "def probe():\n    return open('/etc/passwd').read()\n"
    assert run_source(smith, source).startswith("tool_error: FileNotFoundError")


def test_model_written_code_cannot_list_the_host(smith: Toolsmith) -> None:
    source = "import os\n\ndef probe():\n    return os.listdir('/')\n"
    assert "No such file or directory: '/'" in run_source(smith, source)


def test_model_written_code_has_no_network(smith: Toolsmith) -> None:
    source = (
        "def probe():\n    import socket\n    return socket.create_connection(('1.1.1.1', 80))\n"
    )
    assert "tool_error: ModuleNotFoundError: No module named 'socket'" in run_source(smith, source)


def test_model_written_code_sees_no_environment(smith: Toolsmith) -> None:
    draft = ToolDraft(
        name="env",
        description="env",
        source="import os\n\ndef env():\n    return dict(os.environ)\n",
    )
    smith.save(draft, approved_by="test")
    result = smith.call("env", {})
    assert result.ok and json.loads(result.text) == {}


def test_a_tool_that_loops_forever_is_stopped(smith: Toolsmith) -> None:
    error = run_source(smith, "def probe():\n    while True:\n        pass\n")
    assert error == "timeout: timed out after 2 s"


def test_python_exceptions_come_back_with_their_lines(smith: Toolsmith) -> None:
    source = "def helper(x):\n    return 1 / x\n\ndef probe():\n    return helper(0)\n"
    error = run_source(smith, source)
    assert error.startswith("tool_error: ZeroDivisionError: division by zero")
    assert "line 5, in probe" in error and "line 2, in helper" in error


def test_a_tampered_tool_is_refused(library: Library) -> None:
    with Toolsmith(library, AutoApprove()) as smith:
        arguments = json.loads(create_call(FIXED))["arguments"]
        assert smith.create(arguments, taken=set()).ok
    source = library.directory / "word_count" / "source.py"
    source.write_text(FIXED.replace("len(", "-len("))
    with pytest.raises(LibraryError, match="source no longer matches its recorded sha256"):
        Toolsmith(library, Refuse())
    source.write_text(FIXED)
    runner = library.runner_dir / library.load("word_count", check_runner=False).entry.runner
    data = bytearray(runner.read_bytes())
    data[-1] ^= 1
    runner.write_bytes(bytes(data))
    with pytest.raises(LibraryError, match="component no longer matches its recorded sha256"):
        Toolsmith(library, Refuse())


def test_create_tool_is_offered_only_when_enabled(smith: Toolsmith) -> None:
    off = ToolsmithExecutor(FakeExecutor({}), smith)
    assert CREATE_TOOL not in off.specs()
    on = ToolsmithExecutor(FakeExecutor({}), smith, create=True)
    assert CREATE_TOOL in on.specs()


READ_NOTE = "def probe():\n    return open('/workspace/note.txt').read()\n"


def test_grants_to_all_tools_do_not_reach_a_self_built_one(
    library: Library, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("secret")
    policy = policy_from_options(None, dirs=[str(tmp_path)])  # an unscoped --dir
    with Toolsmith(library, Refuse(), policy=policy) as smith:
        assert "FileNotFoundError" in run_source(smith, READ_NOTE)


def test_a_person_can_grant_a_self_built_tool_by_its_library_key(
    library: Library, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("granted")
    policy = policy_from_options(None, dirs=[f"library.probe={tmp_path}"])
    with Toolsmith(library, Refuse(), policy=policy) as smith:
        smith.save(ToolDraft(name="probe", description="probe", source=READ_NOTE), approved_by="t")
        assert smith.call("probe", {}).text == "granted"
        other = ToolDraft(name="other", description="o", source=READ_NOTE.replace("probe", "other"))
        smith.save(other, approved_by="t")
        assert "FileNotFoundError" in str(smith.call("other", {}).error)  # its own grants only


def test_a_session_offers_create_tool_and_asks_its_approver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, component_path: Callable[[str], Path]
) -> None:
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))
    library = library_with_runner(user_paths(os.environ).library_dir)
    backend = FakeBackend([create_call(FIXED), call("word_count", text="a b c"), "3 words"])
    settings = AgentSettings(
        components=(component_path("echo"),), in_process=True, create_tools=True, syntax="json"
    )
    with Session.open(settings, loader=FakeLoader(backend)) as session:
        assert [tool.name for tool in session.tools] == ["CreateTool", "Echo"]
        session.approver = approver = ScriptedApprover(["yes"])  # as a front end installs it
        events = list(session.ask("How many words in 'a b c'?"))
    created, counted = (finished.result for finished in results(events))
    assert created.ok and counted.ok and json.loads(counted.text) == {"words": 3}
    assert len(approver.asked) == 1 and library.names() == ["word_count"]
    # later sessions load it without --create-tools; CreateTool is not offered
    plain = AgentSettings(components=(component_path("echo"),), in_process=True)
    with Session.open(plain, loader=FakeLoader(FakeBackend())) as session:
        assert [tool.name for tool in session.tools] == ["Echo", "word_count"]


def test_a_tool_can_take_structured_arguments(smith: Toolsmith) -> None:
    schema = {
        "type": "object",
        "properties": {"numbers": {"type": "array", "items": {"type": "number"}, "minItems": 1}},
        "required": ["numbers"],
    }
    source = "def average(numbers):\n    return sum(numbers) / len(numbers)\n"
    arguments = {"name": "average", "description": "Mean", "parameters": schema, "source": source}
    assert smith.create(arguments, taken=set()).ok
    assert smith.call("average", {"numbers": [1, 2, 4.5]}).text == "2.5"
    assert smith.call("average", {"numbers": "[3]"}).text == "3.0"  # JSON text, as a model writes
    refused = smith.call("average", {"numbers": []})
    assert refused.kind is ResultKind.INVALID_ARGUMENTS and "numbers" in str(refused.error)


def test_a_library_that_cannot_be_written_is_a_tool_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with Toolsmith(Library(blocked), AutoApprove()) as smith:
        result = smith.create(json.loads(create_call(FIXED))["arguments"], taken=set())
    assert result.kind is ResultKind.TOOL_ERROR
    assert str(result.error).startswith("the tool could not be stored: ")
