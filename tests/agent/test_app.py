"""Apps and agent teams (`agent.app`, `agent app ...`): the file's checks, delegation, limits,
grants, sessions and memory, with scripted models and real components."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.app import Team, TeamEvent, load_app
from agent.app.team import KeepsState
from agent.cli import main
from agent.errors import AppFileError
from agent.events import ToolCallFinished, ToolCallStarted
from agent.fake import FakeBackend, FakeLoader

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def write_app(folder: Path, text: str) -> Path:
    """An app file in `folder` whose tool paths may use {components}."""
    path = folder / "app.toml"
    path.write_text(textwrap.dedent(text).format(components=COMPONENTS), encoding="utf-8")
    return path


TEAM = """\
    [app]
    name = "office"
    entry = "manager"
    max_depth = 2
    max_total_steps = 12

    [models.small]
    model = "fake.gguf"

    [tools.calculator]
    component = "{components}/calculator-tool-component.wasm"

    [tools.files]
    component = "{components}/files-tool-component.wasm"
    grants = {{ dirs = ["data:/workspace:ro"] }}

    [tools.own_files]
    component = "{components}/files-tool-component.wasm"

    [agents.manager]
    description = "The manager"
    model = "small"
    tools = ["calculator_clerk", "files_clerk"{extra}]
    syntax = "directive"
    grants = {{ dirs = ["data:/workspace:ro"] }}

    [agents.calculator_clerk]
    description = "Evaluates arithmetic"
    model = "small"
    tools = ["calculator"]
    syntax = "directive"

    [agents.files_clerk]
    description = "Reads files"
    model = "small"
    tools = ["files"]
    syntax = "directive"
    grants = {{ dirs = ["data:/workspace:ro"] }}
"""


@pytest.fixture
def office(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("meeting on Thursday\n", encoding="utf-8")
    return write_app(tmp_path, TEAM.replace("{extra}", ""))


def run_cli(args: list[str], backend: FakeBackend | None = None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    loader = FakeLoader(backend) if backend is not None else None
    return CliRunner().invoke(main, args, obj=loader, input=stdin)


# ---- the file's checks: one line naming the key and its line, exit 2 ----


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("max_depth = 2", "max_depth = 2\nflavour = 1"), "app.flavour: unknown key"),
        (
            ('tools = ["calculator"]', 'tools = ["calculater"]'),
            "no tool or agent named 'calculater'",
        ),
        (
            ('tools = ["calculator"]', 'tools = ["calculator", "manager"]'),
            "cycle: manager -> calculator_clerk -> manager",
        ),
        (
            (
                'dirs = ["data:/workspace:ro"] }}\n\n    [tools.own',
                'dirs = ["gone:/workspace:ro"] }}\n\n    [tools.own',
            ),
            "is not a directory",
        ),
        (('entry = "manager"', 'entry = "boss"'), "app.entry: no agent named 'boss'"),
        (
            ('model = "small"\n    tools = ["files"]', 'model = "big"\n    tools = ["files"]'),
            "no model named 'big'",
        ),
    ],
)
def test_a_bad_app_file_is_one_line_naming_key_and_line_exit_2(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    (tmp_path / "data").mkdir()
    old, new = change
    text = TEAM.replace("{extra}", "")
    assert old in text, old
    path = write_app(tmp_path, text.replace(old, new, 1))
    result = run_cli(["app", "check", str(path)])
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and expected in error[0], result.output
    assert f"{path.resolve()}:" in error[0] or f"{path}:" in error[0]
    assert "Traceback" not in result.output


def test_the_line_named_is_the_key_s_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    text = TEAM.replace("{extra}", "").replace('tools = ["files"]', 'tools = ["filez"]')
    path = write_app(tmp_path, text)
    with pytest.raises(AppFileError) as caught:
        load_app(path)
    line = caught.value.line
    assert line is not None
    assert path.read_text().splitlines()[line - 1].strip() == 'tools = ["filez"]'
    assert caught.value.key == "agents.files_clerk.tools"


def test_a_sub_agent_cannot_hold_a_grant_its_caller_was_not_given(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    text = TEAM.replace("{extra}", "").replace(
        '    tools = ["calculator_clerk", "files_clerk"]\n    syntax = "directive"\n'
        '    grants = {{ dirs = ["data:/workspace:ro"] }}',
        '    tools = ["calculator_clerk", "files_clerk"]\n    syntax = "directive"',
    )
    path = write_app(tmp_path, text)
    with pytest.raises(AppFileError, match=r"agent 'files_clerk' needs directory .*data \(ro\)"):
        load_app(path)


def test_check_loads_every_component_and_reports_agents_tools_and_grants(office: Path) -> None:
    result = run_cli(["app", "check", "--json", str(office)], FakeBackend())
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    agents = {a["name"]: a for a in report["agents"]}
    assert agents["manager"]["tools"] == ["calculator_clerk", "files_clerk"]
    assert agents["files_clerk"]["tools"] == ["Files"]
    assert agents["calculator_clerk"]["tools"] == ["Calculator"]
    tools = {t["name"]: t for t in report["tools"]}
    assert tools["files"]["grants"]["dirs"] == [
        f"{(office.parent / 'data').resolve()}:/workspace:ro"
    ]
    assert len(tools["calculator"]["sha256"][0]) == 64
    assert report["longest_chain"] == ["manager", "calculator_clerk"]
    human = run_cli(["app", "check", str(office)], FakeBackend())
    assert human.exit_code == 0 and "OK: 3 agents, 3 tools, 1 models." in human.output


# ---- delegation ----


def delegation_script() -> list[str]:
    return [
        'USE_TOOL: calculator_clerk, task="What is 17 * 23?"',  # manager
        'USE_TOOL: Calculator, expression="17 * 23"',  # calculator clerk
        "It is 391.",  # calculator clerk's answer
        "17 * 23 = 391.",  # manager's answer
    ]


def test_an_agent_listed_as_a_tool_runs_its_own_loop_and_its_answer_is_the_result(
    office: Path,
) -> None:
    backend = FakeBackend(delegation_script())
    events: list[TeamEvent] = []
    with Team.open(load_app(office), loader=FakeLoader(backend)) as team:
        assert [t.name for t in team.tools("manager")] == ["calculator_clerk", "files_clerk"]
        reply = team.ask("What is 17 * 23?", observe=events.append)
    assert reply.answer == "17 * 23 = 391." and reply.stopped is None
    assert reply.delegations == 1 and reply.steps == 4
    calls = [(e.path, e.event.call.name) for e in events if isinstance(e.event, ToolCallStarted)]
    assert calls == [
        (("manager",), "calculator_clerk"),
        (("manager", "calculator_clerk"), "Calculator"),
    ]
    results = [e.event.result for e in events if isinstance(e.event, ToolCallFinished)]
    assert results[0].output == "391" and results[1].output == "It is 391."
    # the clerk's conversation is its own: its prompt holds the task, not the user's words
    clerk_prompt = backend.prompts[1]
    assert "What is 17 * 23?" in clerk_prompt and "calculator_clerk" not in clerk_prompt
    assert "Calculator" in clerk_prompt and "Files" not in clerk_prompt
    times = [e.t for e in events]
    assert times == sorted(times)


def test_app_run_json_nests_the_team_s_events(office: Path) -> None:
    result = run_cli(["app", "run", str(office), "--json", "-p", "What is 17 * 23?"],
                     FakeBackend(delegation_script()))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "17 * 23 = 391." and data["delegations"] == 1
    depths = {(tuple(e["path"]), e["event"]["kind"]) for e in data["events"]}
    assert (("manager", "calculator_clerk"), "tool_call") in depths
    assert all(e["event"]["kind"] != "token" for e in data["events"])


def test_app_run_shows_each_agent_indented_and_prints_the_answer_once(office: Path) -> None:
    result = run_cli(
        ["app", "run", str(office), "What is 17 * 23?"], FakeBackend(delegation_script())
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("17 * 23 = 391.") == 1
    assert "[manager" in result.stderr and "  [calculator_clerk" in result.stderr


def test_the_manager_cannot_reach_the_files_clerk_s_directory_through_its_own_tools(
    tmp_path: Path,
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.txt").write_text("the clerk's file\n", encoding="utf-8")
    path = write_app(tmp_path, TEAM.replace("{extra}", ', "own_files"'))
    backend = FakeBackend(["USE_TOOL: Files, op=read, path=secret.txt", "I could not read it."])
    events: list[TeamEvent] = []
    with Team.open(load_app(path), loader=FakeLoader(backend)) as team:
        reply = team.ask("Read secret.txt yourself", observe=events.append)
    [finished] = [e.event for e in events if isinstance(e.event, ToolCallFinished)]
    assert not finished.result.ok
    assert "the clerk's file" not in (finished.result.output or "")
    assert reply.answer == "I could not read it."


def test_the_files_clerk_reads_its_granted_directory(office: Path) -> None:
    backend = FakeBackend(
        [
            'USE_TOOL: files_clerk, task="What does notes.txt say?"',
            "USE_TOOL: Files, op=read, path=notes.txt",
            "It says: meeting on Thursday.",
            "The meeting is on Thursday.",
        ]
    )
    events: list[TeamEvent] = []
    with Team.open(load_app(office), loader=FakeLoader(backend)) as team:
        reply = team.ask("What does notes.txt say?", observe=events.append)
    read = [e.event.result for e in events if isinstance(e.event, ToolCallFinished)][0]
    assert read.ok and "meeting on Thursday" in (read.output or ""), read
    assert reply.answer == "The meeting is on Thursday."


# ---- limits ----

CHAIN = """\
    [app]
    name = "chain"
    entry = "a"
    max_depth = {depth}
    max_total_steps = {steps}

    [models.m]
    model = "fake.gguf"

    [agents.a]
    model = "m"
    tools = ["b"]
    syntax = "directive"

    [agents.b]
    model = "m"
    tools = ["c"]
    syntax = "directive"

    [agents.c]
    model = "m"
    syntax = "directive"
"""


def test_a_delegation_deeper_than_the_limit_stops_the_request_with_a_clear_message(
    tmp_path: Path,
) -> None:
    path = write_app(tmp_path, CHAIN.format(depth=1, steps=20))
    backend = FakeBackend(['USE_TOOL: b, task="go"', 'USE_TOOL: c, task="deeper"', "never"])
    result = run_cli(["app", "run", str(path), "-p", "start"], backend)
    assert result.exit_code == 3, result.output
    assert "delegation a -> b -> c goes deeper than max_depth 1" in result.stderr
    assert list(backend.replies) == ["never"]  # c never ran
    check = run_cli(["app", "check", str(path)], FakeBackend())
    assert "warning: the chain a -> b -> c is deeper than max_depth" in check.stderr


def test_the_team_s_step_budget_ends_the_request(tmp_path: Path) -> None:
    path = write_app(tmp_path, CHAIN.format(depth=3, steps=2))
    backend = FakeBackend(['USE_TOOL: b, task="go"', 'USE_TOOL: c, task="deeper"', "done"])
    with Team.open(load_app(path), loader=FakeLoader(backend)) as team:
        reply = team.ask("start")
    assert reply.stopped == "team_step_limit" and reply.answer is None
    assert "used all 2 steps" in reply.message and "agent c wanted more" in reply.message


def test_a_sub_agent_that_stops_is_an_error_result_for_its_caller(tmp_path: Path) -> None:
    text = CHAIN.format(depth=3, steps=20)
    text = text.replace(
        '[agents.b]\n    model = "m"', '[agents.b]\n    max_steps = 1\n    model = "m"'
    )
    path = write_app(tmp_path, text)
    backend = FakeBackend(
        ['USE_TOOL: b, task="go"', 'USE_TOOL: c, task="x"', "c says hi", "b gave up"]
    )
    events: list[TeamEvent] = []
    with Team.open(load_app(path), loader=FakeLoader(backend)) as team:
        reply = team.ask("start", observe=events.append)
    b_result = [
        e.event.result for e in events
        if isinstance(e.event, ToolCallFinished) and e.event.call.name == "b"
    ][0]  # fmt: skip
    assert not b_result.ok and "agent b stopped without an answer" in (b_result.error or "")
    assert reply.answer == "b gave up"


# ---- sessions and memory ----


def test_a_session_resumes_the_conversation_and_another_does_not_see_it(office: Path) -> None:
    first = run_cli(["app", "run", str(office), "--session", "s1", "-p", "My name is Ada."],
                    FakeBackend(["Hello Ada."]))  # fmt: skip
    assert first.exit_code == 0, first.output
    again = FakeBackend(["You are Ada."])
    second = run_cli(["app", "run", str(office), "--session", "s1", "-p", "Who am I?"], again)
    assert second.exit_code == 0 and "My name is Ada." in again.prompts[0]
    other = FakeBackend(["I do not know."])
    run_cli(["app", "run", str(office), "--session", "s2", "-p", "Who am I?"], other)
    assert "Ada" not in other.prompts[0]
    no_session = FakeBackend(["I do not know."])
    run_cli(["app", "run", str(office), "-p", "Who am I?"], no_session)
    assert "Ada" not in no_session.prompts[0]


def test_a_bad_session_name_is_refused(office: Path) -> None:
    result = run_cli(
        ["app", "run", str(office), "--session", "../x", "-p", "hi"], FakeBackend(["x"])
    )
    assert result.exit_code == 2 and "invalid session name" in result.output


class StatefulBackend(FakeBackend):
    """A fake backend whose context can be saved and restored (as llama.cpp's KV state)."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.context = "empty"
        self.saved: list[str] = []
        self.loaded: list[str] = []

    def save_state(self) -> object:
        self.saved.append(self.context)
        return self.context

    def load_state(self, state: object) -> None:
        self.loaded.append(str(state))
        self.context = str(state)

    def stream_prompt(self, prompt, **options):  # type: ignore[no-untyped-def]
        self.context = prompt.text[:40]
        return (yield from super().stream_prompt(prompt, **options))


def test_agents_sharing_a_model_each_get_their_own_context_back(office: Path) -> None:
    backend = StatefulBackend(delegation_script())
    assert isinstance(backend, KeepsState)
    with Team.open(load_app(office), loader=FakeLoader(backend)) as team:
        assert team.ask("What is 17 * 23?").answer == "17 * 23 = 391."
    # manager -> clerk: the manager's context saved; clerk -> manager: the manager's restored
    assert len(backend.saved) == 2 and backend.loaded == [backend.saved[0]]


def test_grants_go_to_one_component_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    text = TEAM.replace("{extra}", "").replace(
        'component = "{components}/files-tool-component.wasm"\n    grants',
        'dir = "{components}"\n    grants',
        1,
    )
    path = write_app(tmp_path, text)
    with pytest.raises(AppFileError, match="tools.files.grants: grants are given to one component"):
        load_app(path)


def test_app_chat_keeps_the_conversation_answers_slash_commands_locally_and_saves_it(
    office: Path,
) -> None:
    backend = FakeBackend(["Hello Ada.", "You are Ada."])
    script = "My name is Ada.\n/help\n/nonsense\nWho am I?\n/exit\n"
    result = run_cli(["app", "chat", str(office), "--session", "c1"], backend, stdin=script)
    assert result.exit_code == 0, result.output
    assert "Hello Ada." in result.stdout and "You are Ada." in result.stdout
    assert "/reset forgets the conversation" in result.stdout
    assert "unknown command /nonsense" in result.stdout
    assert len(backend.prompts) == 2 and "My name is Ada." in backend.prompts[1]
    resumed = FakeBackend(["Still Ada."])
    again = run_cli(["app", "chat", str(office), "--session", "c1"], resumed, stdin="Again?\n")
    assert "session c1 resumed (5 messages)" in again.stdout
    assert "Who am I?" in resumed.prompts[0]


def test_clean_removes_the_compile_cache_and_stale_partials_and_says_what_it_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LLM_AGENT_MODELS_DIR", str(tmp_path / "models"))
    compiled = tmp_path / "cache" / "llm-agent" / "compiled"
    compiled.mkdir(parents=True)
    (compiled / "a.cwasm").write_bytes(b"x" * 3000)
    partials = tmp_path / "models" / ".partial"
    partials.mkdir(parents=True)
    stale, fresh = partials / "old.gguf.abc.incomplete", partials / "new.gguf.abc.incomplete"
    stale.write_bytes(b"y" * 1000)
    fresh.write_bytes(b"z" * 500)
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (day_ago, day_ago))
    dry = run_cli(["app", "clean", "--dry-run"])
    assert dry.exit_code == 0 and "would free 4.0 KB" in dry.output and compiled.exists()
    result = run_cli(["app", "clean", "--json"])
    report = json.loads(result.output)
    assert report["freed_bytes"] == 4000 and not report["dry_run"]
    assert not compiled.exists() and not stale.exists() and fresh.exists()


def test_info_lists_sessions_and_the_compile_cache(office: Path) -> None:
    run_cli(["app", "run", str(office), "--session", "s9", "-p", "hi"], FakeBackend(["hello"]))
    result = run_cli(["app", "info", "--json", str(office)], FakeBackend())
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["sessions"] == {"s9": "1 request, 3 messages"}
    assert info["compile_cache"].endswith("compiled") and info["compile_cache_bytes"] > 0
