"""The agent's executors serve every tool of a component that exports plain functions: in
process (also reloaded under a call's own policy, as an approved capability request does) and
in worker processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.executor import open_executor
from agent.messages import ToolCall
from tool_runner import Policy, ResultKind

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tool_runner"))
from typed_components import build_inventory  # noqa: E402

CALL = ToolCall(id="c1", name="total", arguments={"values": [2, 3, -1]})


@pytest.mark.parametrize("in_process", [True, False])
def test_the_tools_of_a_typed_component_are_offered_and_run(in_process: bool) -> None:
    inventory = build_inventory()
    with open_executor([inventory], inventory.parent, Policy(), in_process=in_process) as tools:
        names = [spec.name for spec in tools.specs()]
        assert names == sorted(["describe", "pieces", "total", "or-default", "stock_describe"])
        spec = next(spec for spec in tools.specs() if spec.name == "total")
        assert spec.input_schema["properties"]["values"]["type"] == "array"
        assert tools.execute(CALL).output == "4"


def test_a_typed_tool_is_reloaded_alone_under_a_calls_policy() -> None:
    inventory = build_inventory()
    with open_executor([inventory], inventory.parent, Policy(), in_process=True) as tools:
        under = tools.execute_under(CALL, Policy())  # type: ignore[union-attr]
        assert (under.kind, under.output) == (ResultKind.SUCCESS, "4")
        missing = ToolCall(id="c2", name="nope", arguments={})
        assert tools.execute_under(missing, Policy()).kind is ResultKind.UNKNOWN_TOOL  # type: ignore[union-attr]
