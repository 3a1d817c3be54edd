"""End to end: `agent run` with the generated tiny GGUF (random weights) under grammar
constraints calls typed tools of components that export plain functions: the JSON syntax's
grammar follows each tool's `input_schema` (records, enums, lists, options), so even a
random-weights model writes arguments the component accepts, and the results come back."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tool_runner"))
from typed_components import build_inventory, build_shop  # noqa: E402

pytestmark = pytest.mark.slow
FAST = ["--ctx", "4096", "--seed", "3", "--threads", "2", "--max-tokens", "600"]
PER_UNIT = {"piece": 1, "box": 12, "pallet": 480}


def _run(
    model: Path, component: Path, tool: str, seed: str, syntax: str = "json"
) -> dict[str, Any]:
    args = [
        "run", "-m", str(model), "-p", "Use the tool.", "-c", str(component),
        "--tools", tool, "--syntax", syntax, "--grammar", "--tool-choice", "required",
        "--max-steps", "1", "--json", *FAST, "--seed", seed,
    ]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 3, result.output  # the step limit: one step, a call
    transcript: dict[str, Any] = json.loads(result.output)
    return transcript


def test_a_record_with_an_enum_reaches_the_c_component(tiny_model_path: Path) -> None:
    transcript = _run(tiny_model_path, build_inventory(), "pieces", "3")
    (step,) = transcript["steps"]
    assert step["grammar"] and step["errors"] == [] and step["calls"]
    for call in step["calls"]:
        assert call["name"] == "pieces"
        item = call["arguments"]["it"]
        assert set(item) == {"sku", "count", "unit"} and item["unit"] in PER_UNIT
        assert call["result"]["kind"] == "success", call["result"]
        assert call["result"]["output"] == str(item["count"] * PER_UNIT[item["unit"]])


@pytest.mark.parametrize("seed", ["5", "11", "17"])
def test_every_constrained_call_is_well_formed_and_checked_exactly(
    tiny_model_path: Path, seed: str
) -> None:
    """The grammar bounds an integer's digits, validation its exact range: a random model's
    u16 may be refused, with the bound named, never as a malformed call."""
    transcript = _run(tiny_model_path, build_inventory(), "pieces", seed)
    (step,) = transcript["steps"]
    assert step["grammar"] and step["errors"] == [] and step["calls"]
    for call in step["calls"]:
        item = call["arguments"]["it"]
        result = call["result"]
        if result["kind"] == "success":
            assert result["output"] == str(item["count"] * PER_UNIT[item["unit"]])
        else:
            assert result["kind"] == "invalid_arguments"
            assert "expected a value from 0 to" in result["error"]


def test_a_list_of_records_with_options_reaches_the_python_component(
    tiny_model_path: Path,
) -> None:
    transcript = _run(tiny_model_path, build_shop(), "sum-points", "5")
    (step,) = transcript["steps"]
    assert step["grammar"] and step["errors"] == [] and step["calls"]
    for call in step["calls"]:
        points = call["arguments"]["points"]
        assert isinstance(points, list)
        assert call["result"]["kind"] == "success", call["result"]
        assert call["result"]["output"] == str(sum(p["x"] + p["y"] for p in points))


def test_the_directive_syntax_writes_a_list_argument_too(tiny_model_path: Path) -> None:
    transcript = _run(tiny_model_path, build_inventory(), "total", "7", syntax="directive")
    (step,) = transcript["steps"]
    assert step["grammar"] and step["errors"] == [] and step["calls"]
    for call in step["calls"]:
        written, result = call["arguments"]["values"], call["result"]
        # the directive keeps a structured value as the JSON text it wrote (validation reads it)
        values = json.loads(written) if isinstance(written, str) else written
        assert isinstance(values, list)
        if result["kind"] == "success":
            assert result["output"] == str(sum(values))
        elif result["kind"] == "tool_error":
            assert values == [] and result["error"] == "no values to add"
        else:  # digits the grammar allows, a range validation refuses
            assert result["kind"] == "invalid_arguments"
            assert "expected a value from" in result["error"]
