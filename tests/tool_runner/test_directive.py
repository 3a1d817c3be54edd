"""The `USE_TOOL:` call notation: reading one call, and usage examples as structured calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tool_runner import (
    CallNotationError,
    ToolMetadata,
    ToolParam,
    ToolRunner,
    UsageCall,
    example_calls,
    read_call,
)

ADD = ToolMetadata(
    name="Add",
    description="Adds",
    version="1",
    params=(
        ToolParam(name="a", description="a", type="integer", required=True),
        ToolParam(name="b", description="b", type="number", required=False),
        ToolParam(name="note", description="n", type="string", required=False),
    ),
)


def test_read_call_types_bare_values_by_the_tools_parameters() -> None:
    name, args = read_call(": Add, a=2, b=0.5, note='a, c=d'", {"Add": ADD})
    assert name == "Add" and args == {"a": 2, "b": 0.5, "note": "a, c=d"}
    name, args = read_call(': Add, note="x, \\"y\\"", a=-3', {"Add": ADD})
    assert args == {"note": 'x, "y"', "a": -3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" Add", "followed by ':'"),
        (": ", "no tool name"),
        (": Add a=1", "expected ','"),
        (": Add, a=1, a=2", "given twice"),
        (': Add, note="open', "bad quoted value"),
    ],
)
def test_read_call_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CallNotationError, match=message):
        read_call(text, {"Add": ADD})


def test_usage_examples_become_structured_calls() -> None:
    assert example_calls(ADD, "USE_TOOL: Add, a=1, b=2") == (
        UsageCall(name="Add", arguments={"a": 1, "b": 2}),
    )
    two = example_calls(ADD, "First:\nUSE_TOOL: Add, a=1\nUSE_TOOL: Add, a=2, note=x")
    assert [c.arguments for c in two] == [{"a": 1}, {"a": 2, "note": "x"}]


@pytest.mark.parametrize(
    "assistant",
    [
        "no call here",
        "USE_TOOL: Add a=1",  # does not read
        "USE_TOOL: Sub, a=1",  # another tool
        "USE_TOOL: Add, b=1",  # misses the required a
        "USE_TOOL: Add, a=one",  # a is an integer
        "USE_TOOL: Add, a=1, c=2",  # no such parameter
    ],
)
def test_an_example_that_would_teach_a_wrong_call_has_no_calls(assistant: str) -> None:
    assert example_calls(ADD, assistant) == ()


def test_a_loaded_components_examples_carry_their_calls(
    runner: ToolRunner, component_path: Callable[[str], Path]
) -> None:
    tool = runner.load(component_path("datetime"))
    usage = tool.metadata.usage
    assert usage and all(u.calls for u in usage)
    first = usage[0]
    assert first.assistant.startswith("USE_TOOL: DateTime")
    assert first.calls[0].name == "DateTime" and first.calls[0].arguments["op"] == "now"
    assert hash(tool.metadata) == hash(tool.metadata.model_copy())  # still hashable
