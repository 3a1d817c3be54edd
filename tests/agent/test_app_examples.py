"""Apps' key-value memory (C and Python tools, per session) and the shipped example apps
(`agent app check` on both; the team delegating with a real model under grammar)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from agent.app import Team, TeamEvent, load_app
from agent.events import Answer, StepStarted, ToolCallFinished, ToolCallStarted
from agent.fake import FakeBackend, FakeLoader
from agent.session import LlamaLoader
from tests.agent.test_app import run_cli


class TinyLoader(LlamaLoader):
    """Loads the given GGUF whatever model an app names (llama.cpp, real decoding)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def resolve(self, settings):  # type: ignore[no-untyped-def]
        return self.path


@pytest.fixture(scope="module")
def memory_tools(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example tools that use the host's memory, built by `make examples`."""
    built = repo_root / "examples" / "build"
    for name in ("notes", "counter"):
        assert (built / f"{name}-tool-component.wasm").is_file(), "run `make examples`"
    return built


MEMORY_APP = """\
    [app]
    name = "memo"
    entry = "pip"

    [models.m]
    model = "fake.gguf"

    [tools.notes]
    component = "{built}/notes-tool-component.wasm"
    grants = {{ memory = true }}

    [tools.counter]
    component = "{built}/counter-tool-component.wasm"
    grants = {{ memory = true }}

    [agents.pip]
    model = "m"
    tools = ["notes", "counter"]
    syntax = "directive"
    grants = {{ memory = true }}
"""


def test_memory_written_in_one_run_is_read_by_the_next_run_of_the_same_session_only(
    tmp_path: Path, memory_tools: Path
) -> None:
    path = tmp_path / "app.toml"
    path.write_text(textwrap.dedent(MEMORY_APP).format(built=memory_tools), encoding="utf-8")

    def ask(session: str, replies: list[str]) -> list[str]:
        backend = FakeBackend(replies)
        result = run_cli(
            ["app", "run", str(path), "--session", session, "--json", "-p", "go"], backend
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        return [
            e["event"]["result"]["output"] or e["event"]["result"]["error"]
            for e in data["events"] if e["event"]["kind"] == "tool_result"
        ]  # fmt: skip

    wrote = ask("s1", ["USE_TOOL: Notes, op=remember, key=user_name, text=Ada", "Noted."])
    assert wrote == ["remembered user_name"]
    assert ask("s1", ["USE_TOOL: Notes, op=recall, key=user_name", "Ada."]) == ["Ada"]
    assert ask("s2", ["USE_TOOL: Notes, op=recall, key=user_name", "?"]) == [
        "no note called 'user_name'"
    ]
    # the C tool: a counter that persists between runs of one session
    assert ask("s1", ["USE_TOOL: Counter, op=increment, name=visits", "ok"]) == ["visits = 1"]
    assert ask("s1", ["USE_TOOL: Counter, op=increment, name=visits", "ok"]) == ["visits = 2"]
    assert ask("s2", ["USE_TOOL: Counter, op=read, name=visits", "ok"]) == ["visits = 0"]


def test_memory_is_refused_to_a_tool_whose_app_does_not_grant_it(
    tmp_path: Path, memory_tools: Path
) -> None:
    text = textwrap.dedent(MEMORY_APP).format(built=memory_tools)
    text = text.replace("grants = { memory = true }\n\n[tools.counter]", "\n[tools.counter]")
    path = tmp_path / "app.toml"
    path.write_text(text, encoding="utf-8")
    backend = FakeBackend(["USE_TOOL: Notes, op=remember, key=k, text=v", "no."])
    events: list[TeamEvent] = []
    with Team.open(
        load_app(path), loader=FakeLoader(backend), memory_file=tmp_path / "m.db"
    ) as team:
        team.ask("go", observe=events.append)
    [result] = [e.event.result for e in events if isinstance(e.event, ToolCallFinished)]
    assert not result.ok and "memory is not granted" in (result.error or "")
    assert not (tmp_path / "m.db").exists()


# ---- the shipped examples ----


def test_the_shipped_examples_pass_check(
    repo_root: Path,
    memory_tools: Path,
    smollm2_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("LLM_AGENT_MODELS_DIR", str(models))
    from agent.models import REGISTRY

    [entry] = [e for e in REGISTRY if e.name == "smollm2-135m-instruct"]
    (models / entry.filename).symlink_to(smollm2_path)
    for example in ("team", "assistant"):
        result = run_cli(["app", "check", str(repo_root / "examples" / example / "app.toml")])
        assert result.exit_code == 0, result.output
        assert "OK:" in result.output


@pytest.mark.slow
def test_the_team_example_delegates_with_a_real_model_under_grammar(
    repo_root: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    shutil.copytree(repo_root / "examples" / "team", tmp_path / "team")
    text = (tmp_path / "team" / "app.toml").read_text()
    text = text.replace("../../components", str(repo_root / "components"))
    text = text.replace("max_tokens = 192", "max_tokens = 400\nseed = 7")
    (tmp_path / "team" / "app.toml").write_text(text)
    events: list[TeamEvent] = []
    app = load_app(tmp_path / "team" / "app.toml")
    with Team.open(app, loader=TinyLoader(tiny_model_path)) as team:
        reply = team.ask("What is 17 * 23?", observe=events.append)
    first_call = next(e for e in events if isinstance(e.event, ToolCallStarted))
    assert first_call.path == ("manager",)
    assert first_call.event.call.name in ("calculator_clerk", "files_clerk")
    clerk = first_call.event.call.name
    inner = [e for e in events if e.path == ("manager", clerk)]
    assert any(isinstance(e.event, StepStarted) for e in inner)
    assert any(isinstance(e.event, ToolCallStarted) for e in inner)  # the clerk used its tool
    assert reply.steps <= 12 and (reply.answer is not None or reply.stopped is not None)
    assert any(isinstance(e.event, Answer) for e in inner) or reply.stopped is not None


@pytest.mark.slow
def test_the_assistant_example_uses_its_memory_with_a_real_model_under_grammar(
    repo_root: Path, memory_tools: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    shutil.copytree(repo_root / "examples" / "assistant", tmp_path / "assistant")
    path = tmp_path / "assistant" / "app.toml"
    text = path.read_text().replace("../build", str(memory_tools))
    text = text.replace("max_tokens = 192", "max_tokens = 400\nseed = 3")
    text = text.replace("max_steps = 4", 'max_steps = 2\ntool_choice = "required"')
    path.write_text(text)
    events: list[TeamEvent] = []
    memory = tmp_path / "memory.sqlite"
    with Team.open(load_app(path), loader=TinyLoader(tiny_model_path), memory_file=memory) as team:
        reply = team.ask("My name is Ada; remember it.", observe=events.append)
    [call] = [e.event for e in events if isinstance(e.event, ToolCallFinished)][:1]
    assert call.call.name == "Notes"  # the grammar allows only a call of the one tool
    assert call.result.kind.value in ("success", "tool_error", "invalid_arguments")
    assert reply.answer is not None or reply.stopped is not None
