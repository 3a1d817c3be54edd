"""`agent run` and `agent chat` via click's CliRunner, with the tiny GGUF and real components."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main

pytestmark = pytest.mark.slow

FAST = ["--ctx", "2048", "--max-tokens", "32", "--seed", "5", "--threads", "2"]


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


def invoke(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def test_run_json_shows_the_call_the_result_and_the_next_prompt(
    tiny_model_path: Path, echo: Path
) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", "Please echo back 'Something to echo'", "-c", echo,
        "--tool-choice", "required", "--max-steps", "2", "--json", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.output)
    assert transcript["syntax"] == "directive" and transcript["model"].endswith("tiny.gguf")
    step1, step2 = transcript["steps"]
    assert step1["grammar"] and step1["errors"] == [] and step1["calls"]
    call = step1["calls"][0]
    assert call["name"] == "Echo" and call["result"]["ok"] and call["result"]["kind"] == "success"
    assert call["result"]["output"] == call["arguments"]["value"]
    assert step2["cached_tokens"] >= step1["prompt_tokens"] > 0
    assert step1["completion_tokens"] > 0 and step1["ttft_s"] > 0
    tool_messages = [m for m in transcript["messages"] if m["role"] == "tool"]
    assert tool_messages and call["arguments"]["value"] in tool_messages[0]["content"]
    assert (transcript["answer"] is None) != (transcript["stopped"] is None)
    assert transcript["totals"]["tool_calls"] >= 1


def test_run_human_output_follows_the_seed(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", "Please echo back 'Something to echo'", "-c", echo,
        "--tool-choice", "required", "--max-steps", "2", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].lstrip().startswith("USE_TOOL: Echo, value=")
    assert "Executing tool: Echo, params: 1" in lines
    assert any(line.startswith("  - value: ") for line in lines)
    assert any(line.startswith("Execution result: ") for line in lines)
    assert lines[-1].startswith(("Agent response: ", "Agent stopped: "))


def test_run_verbose_shows_the_prompt_and_step_figures(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", "hello", "-c", echo, "--no-grammar",
        "--max-steps", "1", "--verbose", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Prompt: <|im_start|>system" in result.output
    assert "[step 1] prompt" in result.output and "cached" in result.output


def test_run_quiet_by_default(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "run", "-m", tiny_model_path, "-p", "hello", "-c", echo, "--max-steps", "1", *FAST
    )
    assert result.exit_code == 0
    assert "llama_" not in result.output and "Prompt:" not in result.output


def test_missing_model_is_a_one_line_error(echo: Path, tmp_path: Path) -> None:
    result = invoke("run", "-m", tmp_path / "nope.gguf", "-p", "hi", "-c", echo)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")


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
    tiny_model_path: Path, echo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'model = "{tiny_model_path}"\nmax_steps = 1\nctx = 2048\nmax_tokens = 8\n')
    monkeypatch.setenv("LLM_AGENT_COMPONENTS", str(echo))
    result = invoke("run", "--config", config, "-p", "hi", "--json", "--no-grammar")
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.output)
    assert len(transcript["steps"]) == 1 and transcript["steps"][0]["completion_tokens"] <= 8


def test_chat_keeps_the_conversation_and_exits_on_eof(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "chat", "-m", tiny_model_path, "-c", echo, "--max-steps", "1", "--verbose", *FAST,
        input="first question\nsecond question\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "tools: Echo" in result.output and "\n> \nBye.\n" in result.output
    # the second turn's prompt extends the first exchange, which comes from the KV cache
    assert "Prompt: <|im_start|>system" in result.output
    added = result.output.split("Prompt (step 1, added): ")[1]
    assert "second question" in added and "first question" not in added
    assert result.output.count("[step 1] prompt") == 2
    figures = [line for line in result.output.splitlines() if line.startswith("[step 1]")]
    cached = int(figures[1].split("(")[1].split(" ")[0])
    assert cached > 0


def test_chat_exit_command_and_reset(tiny_model_path: Path, echo: Path) -> None:
    result = invoke(
        "chat", "-m", tiny_model_path, "-c", echo, "--max-steps", "1", *FAST,
        input="/reset\n\n/exit\nnever read\n",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "(conversation cleared)" in result.output and "never read" not in result.output


class _Interrupted(io.RawIOBase):
    """A stdin whose read is interrupted, as by Ctrl-C at the prompt."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if len(buffer) == 0:  # click probing whether the stream is binary
            return 0
        raise KeyboardInterrupt


def test_chat_exits_cleanly_on_ctrl_c(tiny_model_path: Path, echo: Path) -> None:
    result = CliRunner().invoke(
        main, ["chat", "-m", str(tiny_model_path), "-c", str(echo), *FAST], input=_Interrupted()
    )
    assert result.exit_code == 0 and result.exception is None
    assert result.output.rstrip().endswith("Bye.")
