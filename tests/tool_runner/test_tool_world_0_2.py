"""`llm-agent:tool@0.2.0`: a parameter's choices and bounds are typed fields of the metadata
record (0.1.0 writes them as a JSON Schema fragment in `type`, which still loads)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typed_components import dice_path  # noqa: F401 - fixture

from tool_runner import ResultKind, Tool, ToolParam, ToolRunner
from tool_runner.worlds import TOOL_INTERFACE


@pytest.fixture(scope="module")
def dice(dice_path: Path) -> Iterator[Tool]:  # noqa: F811
    with ToolRunner() as runner:
        yield runner.load(dice_path)


def test_a_c_tool_of_0_2_declares_typed_choices_and_bounds(dice: Tool) -> None:
    assert (dice.name, dice.world, dice.metadata.version) == ("Dice", "llm-agent", "0.2.0")
    kind, count, bias = dice.metadata.params
    assert (kind.type, kind.enum, kind.required) == ("string", ("d4", "d6", "d20"), True)
    assert (count.type, count.minimum, count.maximum) == ("integer", 1, 10)
    assert isinstance(count.minimum, int)  # an integer parameter's f64 bounds are integers
    assert (bias.type, bias.minimum, bias.maximum) == ("number", -0.5, None)
    assert dice.metadata.input_schema["properties"]["count"] == {
        "type": "integer",
        "description": "How many dice",
        "minimum": 1,
        "maximum": 10,
    }
    assert dice.metadata.usage[0].calls[0].arguments == {"kind": "d6", "count": 3}


def test_the_host_enforces_them_before_the_tool_runs(dice: Tool) -> None:
    assert dice.call({"kind": "D20", "count": 3}).output == "3 x d20"
    assert dice.call({"kind": "d4"}).output == "1 x d4"
    refused = dice.call({"kind": "d6", "count": 11})
    assert refused.kind is ResultKind.INVALID_ARGUMENTS
    assert refused.error == "parameter 'count' expects a value from 1 to 10, got 11"
    coin = dice.call({"kind": "coin"})
    assert coin.error == "parameter 'kind' expects one of: d4, d6, d20 (got 'coin')"


def test_the_shipped_datetime_tool_is_built_against_0_2(
    component_path: Callable[[str], Path],
) -> None:
    with ToolRunner() as runner:
        tool = runner.load(component_path("datetime"))
        op = tool.metadata.param("op")
        assert op is not None and op.enum == ("now", "days_between", "add", "weekday")
        forced = tool.call({"op": "2**100"})
        assert forced.kind is ResultKind.INVALID_ARGUMENTS
    exported = Path(component_path("datetime")).read_bytes()
    assert b"llm-agent:tool/tool@0.2.0" in exported


def test_a_0_2_tool_gets_the_host_services_under_0_2(
    component_path: Callable[[str], Path],
) -> None:
    path = component_path("http-get")
    assert b"llm-agent:tool/host@0.2.0" in path.read_bytes()
    with ToolRunner() as runner:
        refused = runner.load(path).call({"url": "http://127.0.0.1:9/"})
    assert refused.kind is ResultKind.TOOL_ERROR  # the host answered: no host is allowed
    assert "not allowed" in (refused.error or "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("integer", [], 1.5, None), "minimum must be a whole number"),
        (("integer", [], None, float("inf")), "maximum must be a whole number"),
        (("boolean", ["a"], None, None), "only a string parameter takes an enum"),
        (("string", [], 1.0, None), "only numbers take a minimum or maximum"),
        (("number", [], 2.0, 1.0), "minimum is above maximum"),
        (("text", [], None, None), "unsupported type 'text'"),
    ],
)
def test_fields_that_do_not_fit_are_refused(
    fields: tuple[str, list[str], float | None, float | None], message: str
) -> None:
    kind, choices, low, high = fields
    with pytest.raises(ValueError, match=message):
        ToolParam.from_fields("p", "d", kind, True, choices, low, high)


def test_both_versions_of_the_interface_are_tool_worlds() -> None:
    for name in ("llm-agent:tool/tool@0.1.0", "llm-agent:tool/tool@0.2.0", "llm-agent:tool/tool"):
        assert TOOL_INTERFACE.match(name)
    assert not TOOL_INTERFACE.match("llm-agent:tool/tool@0.3.0")
