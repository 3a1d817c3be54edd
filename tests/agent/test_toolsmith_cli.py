"""`agent tools new --from FILE`, `show NAME`, `remove NAME` on the user's library."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from toolsmith_fixtures import library_with_runner

from agent.approval import Refuse
from agent.cli import main
from agent.fake import FakeBackend, FakeLoader
from agent.paths import user_paths
from agent.toolsmith import Library, Toolsmith

pytestmark = pytest.mark.slow

SHOUT = '''def shout(text: str, times: int = 1):
    """Upper-cases the text, repeated."""
    return " ".join([text.upper()] * times)
'''


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))
    return library_with_runner(user_paths(os.environ).library_dir)


def test_new_show_call_remove(library: Library, tmp_path: Path) -> None:
    source = tmp_path / "shout.py"
    source.write_text(SHOUT)
    cli = CliRunner()
    added = cli.invoke(main, ["tools", "new", "--from", str(source)])
    assert added.exit_code == 0, added.output
    assert "added shout(text: string, times: integer)" in added.output
    shown = cli.invoke(main, ["tools", "show", "shout"])
    assert shown.exit_code == 0 and SHOUT.strip() in shown.output
    assert "Upper-cases the text, repeated." in shown.output and "(agent tools new)" in shown.output
    with Toolsmith(library, Refuse()) as smith:
        assert smith.call("shout", {"text": "hi", "times": 2}).text == "HI HI"
    removed = cli.invoke(main, ["tools", "remove", "shout"])
    assert removed.exit_code == 0 and library.names() == []
    again = cli.invoke(main, ["tools", "show", "shout"])
    assert again.exit_code == 1 and "not in the library" in again.output


def test_bad_files_are_one_line_errors(library: Library, tmp_path: Path) -> None:
    source = tmp_path / "two.py"
    source.write_text("def a(x: list):\n    'A.'\n    return x\n")
    result = CliRunner().invoke(main, ["tools", "new", "--from", str(source)])
    assert result.exit_code == 1
    assert "parameter 'x': annotate it str, int, float or bool" in result.output
    missing = CliRunner().invoke(main, ["tools", "new", "--from", str(tmp_path / "none.py")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


WRITE = json.dumps(
    {
        "name": "CreateTool",
        "arguments": {
            "name": "double",
            "description": "Doubles a number",
            "parameters": '{"type": "object", "properties": {"n": {"type": "integer"}}, '
            '"required": ["n"]}',
            "source": "def double(n):\n    return n * 2\n",
        },
    }
)
USE = json.dumps({"name": "double", "arguments": {"n": 21}})


def _run(echo: Path, *flags: str, replies: list[str]) -> Result:
    args = ["run", "-p", "Double 21", "-c", str(echo), "--in-process", "--syntax", "json"]
    args += ["--no-log", "--json", *flags]
    loader = FakeLoader(FakeBackend(replies))
    return CliRunner().invoke(main, args, catch_exceptions=False, obj=loader)


def _results(output: str) -> list[dict[str, object]]:
    transcript = json.loads(output)
    return [call["result"] for step in transcript["steps"] for call in step["calls"]]


def test_agent_run_refuses_new_tools_unless_approved(
    library: Library, component_path: Callable[[str], Path]
) -> None:
    echo = component_path("echo")
    refused = _run(echo, "--create-tools", replies=[WRITE, "I cannot."])
    assert refused.exit_code == 0, refused.output
    (result,) = _results(refused.output)
    assert "--approve-new-tools" in str(result["error"]) and library.names() == []
    approved = _run(
        echo, "--create-tools", "--approve-new-tools", replies=[WRITE, USE, "It is 42."]
    )
    assert approved.exit_code == 0, approved.output
    created, doubled = _results(approved.output)
    assert created["ok"] and doubled["output"] == "42"
    assert "(--approve-new-tools)" in library.load("double").entry.approved_by
    without = _run(echo, replies=[USE, "42"])  # a later run: no flag needed to use it
    (reused,) = _results(without.output)
    assert reused["output"] == "42"


def test_agent_chat_shows_the_whole_tool_and_asks(
    library: Library, component_path: Callable[[str], Path]
) -> None:
    fake = FakeBackend([WRITE, USE, "It is 42."])
    args = ["chat", "-c", str(component_path("echo")), "--in-process", "--syntax", "json"]
    result = CliRunner().invoke(
        main,
        [*args, "--create-tools", "--no-log"],
        input="Double 21\nyes\n",
        catch_exceptions=False,
        obj=FakeLoader(fake),
    )
    assert result.exit_code == 0, result.stderr
    assert "Approval needed (new_tool, double): The model wrote a new tool, double" in result.stderr
    assert "  def double(n):" in result.stderr and "    return n * 2" in result.stderr
    assert "Doubles a number" in result.stderr and '"n"' in result.stderr
    assert "It is 42." in result.stdout and library.names() == ["double"]
    assert "42" in fake.prompts[2]  # the new tool's result reached the model


def test_agent_chat_no_means_the_tool_never_runs(
    library: Library, component_path: Callable[[str], Path]
) -> None:
    fake = FakeBackend([WRITE, "I could not make it."])
    args = ["chat", "-c", str(component_path("echo")), "--in-process", "--syntax", "json"]
    result = CliRunner().invoke(
        main,
        [*args, "--create-tools", "--no-log"],
        input="Double 21\nno\n",
        catch_exceptions=False,
        obj=FakeLoader(fake),
    )
    assert result.exit_code == 0, result.stderr
    assert "did not approve double" in fake.prompts[1] and library.names() == []
