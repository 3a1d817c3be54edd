"""`agent.eval` without a model: suites, tool specs from BFCL schemas, and the agent's runner on
the scripted `FakeBackend` (the real loop, prompt, grammar and parser), judged by BFCL's rules."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from agent import Completion, FakeBackend, LoopSettings
from agent.errors import EvalError
from agent.eval import (
    AgentRunner,
    EvalReport,
    Reply,
    bfcl_call,
    evaluate,
    json_schema,
    judge,
    load_suite,
    openai_tool,
    tool_spec,
    uses_json_text,
)
from agent.eval.specs import as_declared_floats
from agent.messages import Prompt, ToolCall

AREA = {
    "name": "geometry.area",
    "description": "Area of a rectangle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "width": {"type": "integer", "description": "Width."},
            "height": {"type": "float", "description": "Height."},
            "unit": {"type": "string", "description": "Unit.", "enum": ["cm", "m"]},
            "points": {"type": "array", "items": {"type": "integer"}, "description": "Points."},
        },
        "required": ["width", "height"],
    },
}


def _write_suite(folder: Path, category: str, rows: list[dict[str, Any]]) -> Path:
    path = folder / f"BFCL_v4_{category}.json"
    questions = [{k: v for k, v in row.items() if k != "ground_truth"} for row in rows]
    path.write_text("".join(json.dumps(q) + "\n" for q in questions))
    if "ground_truth" in rows[0]:
        answers = folder / "possible_answer" / path.name
        answers.parent.mkdir(exist_ok=True)
        answers.write_text(
            "".join(
                json.dumps({"id": r["id"], "ground_truth": r["ground_truth"]}) + "\n" for r in rows
            )
        )
    return path


def _case(n: int, question: str, truth: dict[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"case_{n}",
        "question": [[{"role": "user", "content": question}]],
        "function": [AREA],
    }
    if truth is not None:
        row["ground_truth"] = [{"geometry.area": truth}]
    return row


TRUTH = {"width": [3], "height": [4.0], "unit": ["cm", ""], "points": ["", [1, 2]]}


def test_a_bfcl_function_becomes_a_tool_spec() -> None:
    tool = tool_spec(AREA)
    types = {p.name: (p.type, p.required) for p in tool.params}
    assert tool.name == "geometry.area"
    assert types == {
        "width": ("integer", True),
        "height": ("number", True),
        "unit": ("string", False),
        "points": ("array", False),
    }
    assert "One of: cm, m." in str(tool.param("unit"))
    unit = tool.param("unit")
    assert unit is not None and unit.enum == ("cm", "m")  # the grammar admits only these
    points = tool.param("points")
    # a structured parameter: BFCL's schema in JSON Schema's words, which the grammar writes
    assert points is not None and points.description == "Points."
    assert points.type_schema == {"type": "array", "items": {"type": "integer"}}
    assert uses_json_text(AREA) and not uses_json_text({"name": "f", "parameters": {}})


def test_nested_bfcl_schemas_become_json_schema() -> None:
    conditions = {
        "type": "array",
        "description": "Conditions.",
        "items": {
            "type": "dict",
            "properties": {
                "field": {"type": "string", "description": "Field."},
                "op": {"type": "string", "enum": ["<", ">"], "default": "<"},
                "at": {"type": "tuple", "items": {"type": "float"}, "optional": True},
            },
            "required": ["field"],
        },
    }
    assert json_schema(conditions) == {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["field"],
            "properties": {
                "field": {"type": "string"},
                "op": {"type": "string", "enum": ["<", ">"]},
                "at": {"type": "array", "items": {"type": "number"}},
            },
        },
    }


def test_calls_come_back_in_bfcls_form_with_json_text_decoded() -> None:
    call = ToolCall(id="1", name="geometry.area", arguments={"width": 3, "points": "[1, 2]"})
    assert bfcl_call(call, AREA) == {"geometry.area": {"width": 3, "points": [1, 2]}}
    not_json = ToolCall(id="1", name="geometry.area", arguments={"points": "1, 2"})
    assert bfcl_call(not_json, AREA) == {"geometry.area": {"points": "1, 2"}}


def test_numbers_for_float_parameters_are_read_as_floats_for_every_runner(tmp_path: Path) -> None:
    """JSON has one number type: 4 for a float parameter (or inside a list of floats) is 4.0,
    whoever wrote it; an integer parameter keeps its integer, a boolean stays a boolean."""
    nested = {
        "name": "f",
        "parameters": {
            "type": "dict",
            "properties": {
                "xs": {"type": "array", "items": {"type": "float"}},
                "n": {"type": "integer"},
                "d": {"type": "dict", "properties": {"y": {"type": "float"}}},
                "b": {"type": "float"},
            },
        },
    }
    calls = ({"f": {"xs": [1, 2.5], "n": 3, "d": {"y": 2}, "b": True}},)
    converted = as_declared_floats(calls, [nested])
    assert converted == ({"f": {"xs": [1.0, 2.5], "n": 3, "d": {"y": 2.0}, "b": True}},)
    assert [type(x) for x in converted[0]["f"]["xs"]] == [float, float]
    assert type(converted[0]["f"]["n"]) is int
    suite = load_suite(_write_suite(tmp_path, "simple_python", [_case(0, "q", TRUTH)]))
    reply = Reply(text="", calls=({"geometry.area": {"width": 3, "height": 4}},))
    assert judge(suite.cases[0], "simple_python", reply, 0.1).valid


def test_the_baseline_gets_json_schema_types() -> None:
    properties = openai_tool(AREA)["function"]["parameters"]["properties"]
    assert {name: p["type"] for name, p in properties.items()} == {
        "width": "integer",
        "height": "number",
        "unit": "string",
        "points": "array",
    }
    assert AREA["parameters"]["properties"]["height"]["type"] == "float"  # not changed in place


def test_load_suite_reads_cases_answers_and_limit(tmp_path: Path) -> None:
    path = _write_suite(tmp_path, "simple_python", [_case(n, "q", TRUTH) for n in range(5)])
    suite = load_suite(path, limit=3)
    assert suite.category == "simple_python" and len(suite.cases) == 3
    assert suite.cases[0].ground_truth == ({"geometry.area": TRUTH},)
    assert suite.cases[0].messages[0].content == "q"


def test_load_suite_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="category"):
        load_suite(tmp_path / "questions.json")
    path = _write_suite(tmp_path, "simple_java", [_case(0, "q", TRUTH)])
    with pytest.raises(EvalError, match="not supported"):
        load_suite(path)
    path = _write_suite(tmp_path, "multiple", [_case(0, "q")])
    with pytest.raises(EvalError, match="cannot read"):
        load_suite(path)  # no possible_answer file
    relevance = _write_suite(tmp_path, "irrelevance", [_case(0, "q")])
    assert load_suite(relevance).cases[0].ground_truth == ()


def test_the_agent_runner_judges_replies_of_the_real_loop(tmp_path: Path) -> None:
    rows = [_case(0, "3 by 4", TRUTH), _case(1, "3 by 5", TRUTH), _case(2, "3 by 4", TRUTH)]
    suite = load_suite(_write_suite(tmp_path, "simple_python", rows))
    backend = FakeBackend(
        [
            "USE_TOOL: geometry.area, width=3, height=4, points=[1, 2]",
            "USE_TOOL: geometry.area, width=3, height=5",
            "USE_TOOL: geometry.area width 3",
        ]
    )
    runner = AgentRunner(backend, LoopSettings(syntax="directive"))
    results = list(evaluate(suite, runner))
    assert [r.valid for r in results] == [True, False, False]
    assert results[1].error_type == "value_error:others"
    assert not results[2].well_formed and results[2].error_type == "ast_decoder:decoder_failed"
    report = EvalReport.of(suite, runner.name, results, syntax=runner.syntax)
    assert (report.correct, report.cases, report.json_text_cases) == (1, 3, 3)
    assert report.well_formed == pytest.approx(2 / 3) and report.syntax == "directive"
    assert runner.grammar is True
    # a call was required: the grammar admitted no plain answer, and the case's question and
    # the tool's description reached the prompt
    assert all(grammar is not None for grammar in backend.grammars)
    assert "3 by 4" in backend.prompts[0] and "Area of a rectangle." in backend.prompts[0]


def test_irrelevance_passes_without_a_call(tmp_path: Path) -> None:
    suite = load_suite(_write_suite(tmp_path, "irrelevance", [_case(0, "hi"), _case(1, "hi")]))
    backend = FakeBackend(
        ["Hello! I cannot help with that.", "USE_TOOL: geometry.area, width=1, height=2"]
    )
    results = list(evaluate(suite, AgentRunner(backend, LoopSettings(syntax="directive"))))
    assert [r.valid for r in results] == [True, False]
    assert results[1].error_type == "irrelevance_error:decoder_success"


class _CutOff(FakeBackend):
    """Every scripted reply ends at the token limit."""

    def stream_prompt(
        self, prompt: Prompt, *, grammar: str | None = None, max_tokens: int | None = None
    ) -> Generator[str, None, Completion]:
        completion = yield from super().stream_prompt(
            prompt, grammar=grammar, max_tokens=max_tokens
        )
        return completion.model_copy(update={"finish_reason": "length"})


def test_a_reply_cut_off_by_the_token_limit_is_not_well_formed(tmp_path: Path) -> None:
    suite = load_suite(_write_suite(tmp_path, "simple_python", [_case(0, "3 by 4", TRUTH)]))
    backend = _CutOff(["USE_TOOL: geometry.area, width=3, height=4, unit=cm. 1. 1. 1."])
    (result,) = evaluate(suite, AgentRunner(backend, LoopSettings(syntax="directive")))
    assert not result.valid and not result.well_formed
