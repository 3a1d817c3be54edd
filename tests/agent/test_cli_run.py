"""`agent run` via click's CliRunner, with real components and the library's
scripted backend (`FakeLoader`, passed as the click context object); a few end-to-end checks
load the tiny generated GGUF."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.fake import FakeBackend, FakeLoader
from agent.messages import Prompt

DIRECTIVE = ("--syntax", "directive")  # the scripted replies are in the seed's syntax

FAST = ["--ctx", "2048", "--max-tokens", "32", "--seed", "5", "--threads", "2"]
SEED_PROMPT = "Please echo back 'Something to echo'"


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


def invoke(*args: str | Path, input: str | None = None, fake: FakeBackend | None = None) -> Result:
    """Run the CLI; with `fake`, the model is that scripted backend whatever -m names."""
    loader = FakeLoader(fake) if fake is not None else None
    return CliRunner().invoke(
        main, [str(a) for a in args], input=input, catch_exceptions=False, obj=loader
    )


def test_run_json_shows_the_call_the_result_and_the_next_prompt(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=Something to echo", "It said: Something to echo"])
    result = invoke(
        "run", *DIRECTIVE, "-p", SEED_PROMPT, "-c", echo, "--tool-choice", "required",
        "--json", fake=fake,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.output)
    assert transcript["syntax"] == "directive" and transcript["model"] == "fake.gguf"
    step1, step2 = transcript["steps"]
    assert step1["grammar"] and step1["errors"] == [] and len(step1["calls"]) == 1
    call = step1["calls"][0]
    assert call["name"] == "Echo" and call["result"]["ok"] and call["result"]["kind"] == "success"
    assert call["arguments"] == {"value": "Something to echo"}
    assert call["result"]["output"] == "Something to echo"
    assert step2["cached_tokens"] == step1["prompt_tokens"] > 0
    tool_messages = [m for m in transcript["messages"] if m["role"] == "tool"]
    assert tool_messages and "Something to echo" in tool_messages[0]["content"]
    assert transcript["answer"] == "It said: Something to echo" and transcript["stopped"] is None
    assert transcript["totals"]["tool_calls"] == 1
    # the grammar went to the model on both steps, the tool-only one first
    assert fake.grammars[0] is not None and fake.grammars[1] is not None
    assert fake.grammars[0] != fake.grammars[1]


def test_run_prints_the_answer_once_on_stdout_and_the_progress_on_stderr(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=Something to echo", "Something to echo"])
    result = invoke("run", *DIRECTIVE, "-p", SEED_PROMPT, "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Something to echo\n"
    assert result.output.splitlines() == [
        "USE_TOOL: Echo, value=Something to echo",
        "Executing tool: Echo, params: 1",
        "  - value: Something to echo",
        "Execution result: Something to echo",
        "Something to echo",
    ]


def test_streaming_shows_the_answer_as_it_comes_and_only_once(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=Something to echo", "It said Something to echo"])
    result = invoke("run", *DIRECTIVE, "-p", SEED_PROMPT, "-c", echo, "--stream", fake=fake)
    assert result.exit_code == 0, result.output
    assert result.stdout == "USE_TOOL: Echo, value=Something to echo\nIt said Something to echo\n"
    assert result.output.count("It said") == 1


def test_quiet_prints_only_the_answer(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=x", "the answer"])
    result = invoke("run", *DIRECTIVE, "-p", "hi", "-c", echo, "--quiet", fake=fake)
    assert result.exit_code == 0 and result.output == "the answer\n" and result.stderr == ""


@pytest.mark.parametrize(
    ("args", "stdin"),
    [(["a question"], None), (["-p", "a question"], None), ([], "a question\n")],
)
def test_the_prompt_comes_from_an_argument_p_or_stdin(
    echo: Path, args: list[str], stdin: str | None
) -> None:
    fake = FakeBackend(["fine"])
    result = invoke("run", "-c", echo, *args, input=stdin, fake=fake)
    assert result.exit_code == 0, result.output
    assert "a question" in fake.prompts[0]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["-p", "one", "two"], None, "not both"),
        ([], None, "no prompt"),
        ([], "  \n", "no prompt"),
    ],
)
def test_a_missing_or_doubled_prompt_is_a_usage_error(
    echo: Path, args: list[str], stdin: str | None, message: str
) -> None:
    result = invoke("run", "-c", echo, *args, input=stdin, fake=FakeBackend(["x"]))
    assert result.exit_code == 2 and message in result.output


def test_run_that_uses_every_step_says_so(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=a", "USE_TOOL: Echo, value=b"])
    result = invoke("run", *DIRECTIVE, "-p", "hi", "-c", echo, "--max-steps", "2", fake=fake)
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[-1] == (
        "Agent stopped: stopped after 2 steps without a final answer (raise --max-steps to allow "
        "more)"
    )


def test_v_adds_one_timing_line_and_vv_the_prompts_and_figures(echo: Path) -> None:
    result = invoke(
        "run", "-p", "hello", "-c", echo, "--no-grammar", "-v", fake=FakeBackend(["hi"])
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "hi\n"
    (line,) = result.stderr.splitlines()
    assert line.startswith("fake.gguf · load ") and "1 step · 0 tool calls · prompt " in line
    assert "first token" in line and "total" in line

    fake = FakeBackend(["hello to you"])
    result = invoke("run", "-p", "hello", "-c", echo, "--no-grammar", "-vv", fake=fake)
    assert result.exit_code == 0, result.output
    assert "Prompt: <|im_start|>system" in result.stderr
    assert "[step 1] prompt" in result.stderr and "(0 cached)" in result.stderr
    assert fake.grammars == [None]


class Interrupting(FakeBackend):
    """A backend interrupted (Ctrl-C) after its first words."""

    def stream_prompt(self, prompt: Prompt, **options: Any) -> Any:
        yield "partial"
        raise KeyboardInterrupt


def test_ctrl_c_exits_130_with_one_line(echo: Path) -> None:
    result = invoke("run", "-p", "hi", "-c", echo, fake=Interrupting(["x"]))
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted." and "Aborted" not in result.output


def test_no_tools_offers_none(echo: Path) -> None:
    fake = FakeBackend(["plain answer"])
    result = invoke("run", "-p", "hi", "--no-tools", "--json", fake=fake)
    assert result.exit_code == 0, result.output
    assert "USE_TOOL" not in fake.prompts[0] and "Echo" not in fake.prompts[0]
    result = invoke("run", "-p", "hi", "--no-tools", "-c", echo, fake=FakeBackend(["x"]))
    assert result.exit_code == 2 and "no_tools cannot be combined with components" in result.output


def test_from_another_directory_the_users_tools_are_used(
    echo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "components").mkdir()  # not a checkout: its components/ are not picked up
    shutil.copy(echo, tmp_path / "components" / echo.name)
    fake = FakeBackend(["no tools here"])
    result = invoke(
        "run", *DIRECTIVE, "-p", "hi", fake=fake
    )  # no user tools folder: no tools, no error
    assert result.exit_code == 0 and result.stdout == "no tools here\n", result.output
    assert "Echo" not in fake.prompts[0]

    tools = tmp_path / "data" / "tools"
    tools.mkdir(parents=True)
    shutil.copy(echo, tools / echo.name)
    fake = FakeBackend(["USE_TOOL: Echo, value=from the user's tools", "done"])
    result = invoke("run", *DIRECTIVE, "-p", "hi", fake=fake)
    assert result.exit_code == 0 and "Execution result: from the user's tools" in result.output


def test_from_the_checkout_its_components_are_used(repo_root: Path) -> None:
    assert Path.cwd() == repo_root  # pytest runs from the repository
    fake = FakeBackend(["done"])
    result = invoke("run", "-p", "hi", fake=fake)
    assert result.exit_code == 0, result.output
    assert "Echo" in fake.prompts[0] and "Calculator" in fake.prompts[0]


def test_the_files_tool_reads_a_dir_mounted_where_the_grant_says(
    component_path: Callable[[str], Path], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("meeting at noon\n")
    files = component_path("files")
    fake = FakeBackend(["USE_TOOL: Files, op=read, path=/data/notes.txt", "At noon."])
    result = invoke(
        "run", *DIRECTIVE, "-p", "when?", "-c", files, "--dir", f"{tmp_path}:/data", fake=fake
    )
    assert result.exit_code == 0, result.output
    assert "Execution result: meeting at noon" in result.stderr and result.stdout == "At noon.\n"
    fake = FakeBackend(["USE_TOOL: Files, op=list", "no"])
    result = invoke(
        "run", *DIRECTIVE, "-p", "list", "-c", files, "--dir", f"{tmp_path}:/data", fake=fake
    )
    assert "relative paths are looked up in /workspace, which is not granted" in result.stderr


def test_the_users_config_file_is_read(
    echo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_AGENT_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text("max_steps = 1\n")
    result = invoke(
        "run", *DIRECTIVE, "-p", "hi", "-c", echo, fake=FakeBackend(["USE_TOOL: Echo, value=a"])
    )
    assert result.exit_code == 3, result.output  # the step limit, from the user's file
    other = tmp_path / "other.toml"
    other.write_text("max_steps = 2\n")
    fake = FakeBackend(["USE_TOOL: Echo, value=a", "done"])
    result = invoke("run", *DIRECTIVE, "--config", other, "-p", "hi", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output  # --config replaces the user's file


@pytest.mark.slow
def test_run_the_tiny_model_end_to_end(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", SEED_PROMPT, "-c", echo,
        "--tool-choice", "required", "--max-steps", "1", "--json", *FAST,
        "--max-tokens", "600",  # a whole call, however long the random model's value
    )  # fmt: skip
    assert result.exit_code == 3, result.output  # the step limit
    transcript = json.loads(result.output)
    assert transcript["model"].endswith("tiny.gguf") and transcript["syntax"] == "hermes"
    (step,) = transcript["steps"]
    assert step["grammar"] and step["errors"] == [] and step["calls"]
    assert all(c["name"] == "Echo" and c["result"]["kind"] == "success" for c in step["calls"])
    assert step["completion_tokens"] > 0 and step["ttft_s"] > 0
    assert transcript["answer"] is None and "after 1 steps" in transcript["stopped"]


@pytest.mark.slow
def test_run_quiet_by_default(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", "hello", "-c", echo, "--max-steps", "1", *FAST
    )
    assert result.exit_code in (0, 3, 4)  # random weights: an answer, a call, or cut off
    assert "llama_" not in result.output and "Prompt:" not in result.output


@pytest.mark.slow
def test_missing_model_is_a_one_line_error(echo: Path, tmp_path: Path) -> None:
    result = invoke("run", "-m", tmp_path / "nope.gguf", "-p", "hi", "-c", echo)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")


@pytest.mark.slow
def test_not_a_gguf_is_a_one_line_error(echo: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_text("not a model")
    result = invoke("run", "-m", bogus, "-p", "hi", "-c", echo)
    assert result.exit_code == 1
    assert "not a GGUF file" in result.output and result.output.count("\n") == 1


def test_missing_tools_dir_says_to_build_components(tiny_model_path: Path, tmp_path: Path) -> None:
    result = invoke("run", "-m", tiny_model_path, "-p", "hi", "--tools-dir", tmp_path / "none")
    assert result.exit_code == 2 and "make components" in result.output
    assert "pass an existing --tools-dir, -c FILE or --no-tools" in result.output


def test_a_component_that_is_not_wasm_is_a_one_line_error(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.wasm"
    fake.write_text("nope")
    result = invoke("run", "-m", tiny_model_path, "-p", "hi", "-c", fake)
    assert result.exit_code == 1 and result.output.startswith("Error: cannot load")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--syntax", "klingon"], "Invalid value for '--syntax'"),
        (["--max-steps", "0"], "invalid max_steps in command line"),
        (["--temperature", "-1"], "invalid temperature"),
        (["--dir", "/definitely/not/here"], "invalid directory grant"),
    ],
)
def test_bad_settings_are_usage_errors(
    tiny_model_path: Path, echo: Path, args: list[str], message: str
) -> None:
    result = invoke("run", "-m", tiny_model_path, "-p", "hi", "-c", echo, *args)
    assert result.exit_code == 2 and message in result.output


def test_config_file_and_environment_supply_settings(
    echo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('max_steps = 1\nsyntax = "hermes"\n')
    monkeypatch.setenv("LLM_AGENT_COMPONENTS", str(echo))
    fake = FakeBackend(['<tool_call>\n{"name": "Echo", "arguments": {"value": "x"}}\n</tool_call>'])
    result = invoke("run", "--config", config, "-p", "hi", "--json", fake=fake)
    assert result.exit_code == 3, result.output  # max_steps = 1 from the file: the step limit
    transcript = json.loads(result.output)
    assert transcript["syntax"] == "hermes" and len(transcript["steps"]) == 1
    assert transcript["steps"][0]["calls"][0]["result"]["output"] == "x"


def test_a_flag_beats_the_config_file(echo: Path, tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("max_steps = 1\nverbose = true\n")
    fake = FakeBackend(["USE_TOOL: Echo, value=a", "done"])
    result = invoke(
        "run", "--config", config, *DIRECTIVE, "-p", "hi", "-c", echo,
        "--max-steps", "2", fake=fake,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "done"
    assert "Prompt: " in result.stderr  # verbose from the file: a flag left out does not reset it


def test_hostile_text_from_the_model_and_the_tools_cannot_drive_the_terminal(echo: Path) -> None:
    # the model writes an escape sequence into a call; the echo tool sends it back; the model's
    # answer carries another: none reaches the terminal as a control character
    hostile = "done\r\x1b]52;c;cm0=\x07"
    fake = FakeBackend(['USE_TOOL: Echo, value="\\u001b]0;pwned\\u0007"', hostile])
    result = invoke("run", *DIRECTIVE, "-p", "hi", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert not any(ch in result.output for ch in "\x1b\x07\r")
    assert "Execution result: \\x1b]0;pwned\\x07" in result.output
    assert result.stdout == "done\\r\\x1b]52;c;cm0=\\x07\n"
    streamed = invoke(
        "run", *DIRECTIVE, "-p", "hi", "-c", echo, "--stream", fake=FakeBackend([hostile])
    )
    assert streamed.exit_code == 0 and not any(ch in streamed.output for ch in "\x1b\x07\r")


@pytest.mark.parametrize("args", [["-h"], ["run", "-h"], ["chat", "-h"], ["models", "-h"]])
def test_dash_h_is_help(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0 and result.output.startswith("Usage: ")
