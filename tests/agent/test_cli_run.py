"""`agent run` and `agent chat` via click's CliRunner, with real components and the library's
scripted backend (`FakeLoader`, passed as the click context object); a few end-to-end checks
load the tiny generated GGUF."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.fake import FakeBackend, FakeLoader

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
        "run", "-p", SEED_PROMPT, "-c", echo, "--tool-choice", "required", "--json", fake=fake
    )
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


def test_run_human_output_follows_the_seed(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=Something to echo", "Something to echo"])
    result = invoke("run", "-p", SEED_PROMPT, "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "USE_TOOL: Echo, value=Something to echo",
        "Executing tool: Echo, params: 1",
        "  - value: Something to echo",
        "Execution result: Something to echo",
        "Something to echo",
        "Agent response: Something to echo",
    ]


def test_run_that_uses_every_step_says_so(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=a", "USE_TOOL: Echo, value=b"])
    result = invoke("run", "-p", "hi", "-c", echo, "--max-steps", "2", fake=fake)
    assert result.exit_code == 3, result.output
    assert result.output.splitlines()[-1] == (
        "Agent stopped: stopped after 2 steps without a final answer (raise --max-steps to allow "
        "more)"
    )


def test_run_verbose_shows_the_prompt_and_step_figures(echo: Path) -> None:
    fake = FakeBackend(["hello to you"])
    result = invoke("run", "-p", "hello", "-c", echo, "--no-grammar", "--verbose", fake=fake)
    assert result.exit_code == 0, result.output
    assert "Prompt: <|im_start|>system" in result.output
    assert "[step 1] prompt" in result.output and "(0 cached)" in result.output
    assert fake.grammars == [None]


@pytest.mark.slow
def test_run_the_tiny_model_end_to_end(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", SEED_PROMPT, "-c", echo,
        "--tool-choice", "required", "--max-steps", "1", "--json", *FAST,
        "--max-tokens", "600",  # a whole call, however long the random model's value
    )  # fmt: skip
    assert result.exit_code == 3, result.output  # the step limit
    transcript = json.loads(result.output)
    assert transcript["model"].endswith("tiny.gguf") and transcript["syntax"] == "directive"
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
        "run", "--config", config, "-p", "hi", "-c", echo, "--max-steps", "2", fake=fake
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Agent response: done"
    assert "Prompt: " in result.output  # verbose from the file: a flag left out does not reset it


def test_chat_keeps_the_conversation_and_exits_on_eof(echo: Path) -> None:
    fake = FakeBackend(["first answer", "second answer"])
    result = invoke(
        "chat", "-c", echo, "--verbose", input="first question\nsecond question\n", fake=fake
    )
    assert result.exit_code == 0, result.output
    assert "Model fake.gguf; tools: Echo." in result.output and "\n> \nBye.\n" in result.output
    # the second turn's prompt extends the whole first exchange
    assert fake.prompts[1].startswith(fake.prompts[0] + "first answer")
    added = result.output.split("Prompt (step 1, added): ")[1]
    assert "second question" in added and "first question" not in added
    assert result.output.count("Agent response:") == 0  # chat streams the answer once


def test_chat_exit_command_and_reset(echo: Path) -> None:
    fake = FakeBackend(["one", "two"])
    result = invoke(
        "chat", "-c", echo, input="question\n/reset\nagain\n\n/exit\nnever read\n", fake=fake
    )
    assert result.exit_code == 0
    assert "(conversation cleared)" in result.output and "never read" not in result.output
    assert "question" not in fake.prompts[1]  # the reset forgot the first exchange
    assert not fake.replies


@pytest.mark.slow
def test_chat_with_the_tiny_model_reuses_the_kv_cache(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "chat", "-m", tiny_model_path, "-c", echo, "--max-steps", "1", "--verbose", *FAST,
        input="first question\nsecond question\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = [line for line in result.output.splitlines() if line.startswith("[step 1]")]
    assert len(figures) == 2
    cached = int(figures[1].split("(")[1].split(" ")[0])
    assert cached > 0


class _Interrupted(io.RawIOBase):
    """A stdin whose read is interrupted, as by Ctrl-C at the prompt."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if len(buffer) == 0:  # click probing whether the stream is binary
            return 0
        raise KeyboardInterrupt


def test_chat_exits_cleanly_on_ctrl_c(echo: Path) -> None:
    result = CliRunner().invoke(
        main, ["chat", "-c", str(echo)], input=_Interrupted(), obj=FakeLoader(FakeBackend())
    )
    assert result.exit_code == 0 and result.exception is None
    assert result.output.rstrip().endswith("Bye.")


def test_hostile_text_from_the_model_and_the_tools_cannot_drive_the_terminal(echo: Path) -> None:
    # the model writes an escape sequence into a call; the echo tool sends it back; the model's
    # answer carries another: none reaches the terminal as a control character
    fake = FakeBackend(
        ['USE_TOOL: Echo, value="\\u001b]0;pwned\\u0007"', "done\r\x1b]52;c;cm0=\x07"]
    )
    result = invoke("run", "-p", "hi", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    assert not any(ch in result.output for ch in "\x1b\x07\r")
    assert "Execution result: \\x1b]0;pwned\\x07" in result.output
    assert result.output.splitlines()[-1] == "Agent response: done\\r\\x1b]52;c;cm0=\\x07"


@pytest.mark.parametrize("args", [["-h"], ["run", "-h"], ["chat", "-h"], ["models", "-h"]])
def test_dash_h_is_help(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0 and result.output.startswith("Usage: ")
