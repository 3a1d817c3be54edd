"""End to end with a real small model: SmolLM2-135M-Instruct (Q4_1, fetched by `make
test-assets`), its own ChatML template and tokenizer, through `agent run` and the real echo
component. Greedy decoding with a fixed seed and two threads keeps each run the same; a handful of
tokens per turn keeps it to seconds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main

pytestmark = pytest.mark.slow

DETERMINISTIC = ["--seed", "7", "--threads", "2", "--temperature", "0", "--ctx", "2048"]
SEED_PROMPT = "Please echo back 'Something to echo'"


def _run_json(*args: str | Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["run", "--json", *map(str, args)])
    # a run that ends without an answer exits non-zero; it must never end in a traceback
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    transcript: dict[str, Any] = json.loads(result.stdout)
    assert (result.exit_code == 0) == (transcript["answer"] is not None), result.output
    return transcript


def test_smollm2_calls_the_real_echo_through_agent_run(
    smollm2_path: Path, component_path: Callable[[str], Path]
) -> None:
    transcript = _run_json(
        "-m", smollm2_path, "-c", component_path("echo"), "-p", SEED_PROMPT,
        "--tool-choice", "required", "--max-steps", "4", "--max-tokens", "24", *DETERMINISTIC,
    )  # fmt: skip
    first = transcript["steps"][0]
    assert first["errors"] == [] and first["calls"], first["text"]
    call = first["calls"][0]
    assert call["name"] == "Echo"
    # the model read the request: the value it passed is the text to echo
    assert "Something to echo" in str(call["arguments"]["value"])
    assert call["result"]["kind"] == "success"
    assert call["result"]["output"] == call["arguments"]["value"]
    # the next turn saw the result, rendered by the model's own template
    tool_turns = [m for m in transcript["messages"] if m["role"] == "tool"]
    assert tool_turns and call["result"]["output"] in tool_turns[0]["content"]
    assert transcript["steps"][1]["cached_tokens"] >= first["prompt_tokens"]
    # the run ends (an answer or a stop reason) without running the same call twice
    assert transcript["answer"] is not None or transcript["stopped"]
    calls = [c for step in transcript["steps"] for c in step["calls"] if not c["repeated"]]
    run = [(c["name"], json.dumps(c["arguments"], sort_keys=True)) for c in calls]
    assert len(run) == len(set(run)) <= 2, run


@pytest.mark.parametrize("syntax", ["directive", "json"])
def test_a_required_call_is_never_cut_off_by_max_tokens(
    smollm2_path: Path, component_path: Callable[[str], Path], syntax: str
) -> None:
    """--max-tokens 1 cannot cut a call off: a step that must call gets the grammar's bound."""
    transcript = _run_json(
        "-m", smollm2_path, "-c", component_path("echo"), "-p", SEED_PROMPT, "--syntax", syntax,
        "--grammar", "--tool-choice", "required", "--max-steps", "1", "--max-tokens", "1",
        *DETERMINISTIC,
    )  # fmt: skip
    first = transcript["steps"][0]
    assert first["finish_reason"] != "length", first
    assert first["errors"] == [] and [c["name"] for c in first["calls"]] == ["Echo"], first
