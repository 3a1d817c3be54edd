"""`agent logs list|show|path` and `agent run --continue/--cid/--no-log`, through click's
CliRunner with the library's scripted backend, against a history database of the test's own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.fake import FakeBackend, FakeLoader


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def invoke(*args: str | Path, fake: FakeBackend | None = None) -> Result:
    loader = FakeLoader(fake) if fake is not None else None
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, obj=loader)


def _ids(data_dir: Path) -> list[str]:
    result = invoke("logs", "list", "--json")
    assert result.exit_code == 0, result.output
    return [c["id"] for c in json.loads(result.stdout)]


def test_an_empty_history_says_so(data_dir: Path) -> None:
    assert invoke("logs", "list").output == "No conversations logged yet.\n"
    assert invoke("logs", "list", "--json").output == "[]\n"
    result = invoke("logs", "show", "abc")
    assert result.exit_code == 1 and "no conversations logged yet" in result.output
    assert invoke("logs", "path").output == f"{data_dir / 'logs.db'}\n"


def test_runs_are_listed_newest_first_and_shown_whole(data_dir: Path, echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=\x1b]0;t\x07hi", "It said hi", "second"])
    assert (
        invoke(
            "run", "--syntax", "directive", "-p", "first request", "-c", echo, fake=fake
        ).exit_code
        == 0
    )
    assert (
        invoke(
            "run", "--syntax", "directive", "-p", "second request", "-c", echo, fake=fake
        ).exit_code
        == 0
    )
    newest, oldest = _ids(data_dir)
    listed = invoke("logs", "list").stdout.splitlines()
    assert listed[0].startswith(newest) and listed[0].endswith("second request")
    assert "fake.gguf  1 exchange  " in listed[1] and len(listed) == 2
    assert invoke("logs", "list", "-n", "1").stdout.count("\n") == 1
    assert invoke("logs", "list", "-n", "0").exit_code == 2

    shown = invoke("logs", "show", oldest[:6]).stdout
    assert f"Conversation {oldest} · fake.gguf" in shown
    assert "> first request" in shown and "It said hi" in shown
    assert "Tool call: Echo(value='\\x1b]0;t\\x07hi')" in shown and "\x1b" not in shown
    whole = json.loads(invoke("logs", "show", oldest, "--json").stdout)
    (exchange,) = whole["exchanges"]
    assert exchange["prompt"] == "first request"
    assert exchange["transcript"]["steps"][0]["calls"][0]["result"]["output"] == "\x1b]0;t\x07hi"


def test_unknown_ids_are_one_line_errors(data_dir: Path, echo: Path) -> None:
    invoke("run", "-p", "x", "-c", echo, fake=FakeBackend(["y"]))
    result = invoke("logs", "show", "0000000000ff")
    assert result.exit_code == 1 and result.output.startswith("Error: no conversation")
    assert result.output.count("\n") == 1


def test_continue_and_cid_resume_a_conversation(data_dir: Path, echo: Path) -> None:
    invoke("run", "-p", "my name is Ada", "-c", echo, fake=FakeBackend(["Hello Ada"]))
    invoke("run", "-p", "unrelated", "-c", echo, fake=FakeBackend(["ok"]))
    latest, first = _ids(data_dir)

    fake = FakeBackend(["It was unrelated"])
    result = invoke("run", "--continue", "-p", "what did I say?", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert "unrelated" in fake.prompts[0] and "Ada" not in fake.prompts[0]

    fake = FakeBackend(["Ada"])
    result = invoke("run", "--cid", first[:4], "-p", "my name?", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert "my name is Ada" in fake.prompts[0] and "Hello Ada" in fake.prompts[0]
    assert _ids(data_dir) == [first, latest]  # resumed ones are logged into the same conversation
    shown = json.loads(invoke("logs", "show", first, "--json").stdout)
    assert [e["seq"] for e in shown["exchanges"]] == [1, 2]


def test_no_log_writes_nothing(data_dir: Path, echo: Path) -> None:
    result = invoke("run", "--no-log", "-p", "secret", "-c", echo, fake=FakeBackend(["ok"]))
    assert result.exit_code == 0 and not (data_dir / "logs.db").exists()


class NeverLoaded(FakeLoader):
    def load(self, settings: object, path: Path) -> FakeBackend:
        raise AssertionError("the model was loaded")


def test_continue_without_history_and_both_flags_are_errors(data_dir: Path, echo: Path) -> None:
    for args in (["run", "x"], ["chat"]):  # found before the model loads
        result = CliRunner().invoke(
            main, [*args, "--continue", "-c", str(echo)], obj=NeverLoaded(FakeBackend())
        )
        assert result.exit_code == 1 and "no logged conversation to continue" in result.output
    invoke("run", "-p", "x", "-c", echo, fake=FakeBackend(["y"]))
    result = CliRunner().invoke(
        main, ["run", "--cid", "ffffff", "-c", str(echo), "x"], obj=NeverLoaded(FakeBackend())
    )
    assert result.exit_code == 1 and "no conversation 'ffffff'" in result.output
    result = invoke("run", "--continue", "--cid", "ab", "-p", "x", "-c", echo, fake=FakeBackend())
    assert result.exit_code == 2 and "cannot be combined" in result.output


def test_an_unusable_log_is_a_warning_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, echo: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(blocker))  # logs.db cannot be created under it
    result = invoke("run", "-p", "hi", "-c", echo, fake=FakeBackend(["answered"]))
    assert result.exit_code == 0 and result.stdout == "answered\n"
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("Warning: not logged: cannot open the history database")
    result = invoke("run", "--continue", "-p", "hi", "-c", echo, fake=FakeBackend(["x"]))
    assert result.exit_code == 1  # continuing needs the log
