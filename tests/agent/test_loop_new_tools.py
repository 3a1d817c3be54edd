"""A tool that appears during a run (made by CreateTool, or hot-loaded) can be called in that
run: from the next step it is in the grammar and the parser's tool list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent import FakeBackend, FakeExecutor, LoopSettings, run_agent
from agent.events import Answer, ToolCallFinished
from agent.messages import JsonScalar, ToolCall
from tool_runner import ResultKind, ToolMetadata, ToolParam, ToolResult

MAKER = ToolMetadata(
    name="MakeTool",
    description="Makes the Shout tool",
    version="1",
    params=(ToolParam(name="name", description="d", type="string", required=True),),
)
SHOUT = ToolMetadata(
    name="Shout",
    description="Upper-cases text",
    version="1",
    params=(ToolParam(name="text", description="d", type="string", required=True),),
)


class GrowingExecutor(FakeExecutor):
    """Offers Shout once MakeTool has run."""

    def __init__(self) -> None:
        super().__init__({MAKER: self._make})
        self.made = False

    def _make(self, args: Mapping[str, JsonScalar]) -> str:
        self.made = True
        return "made Shout(text)"

    def specs(self) -> Sequence[ToolMetadata]:
        return [*super().specs(), *([SHOUT] if self.made else [])]

    def execute(self, call: ToolCall) -> ToolResult:
        if self.made and call.name == "Shout":
            text = str(call.arguments["text"]).upper()
            return ToolResult(tool="Shout", kind=ResultKind.SUCCESS, output=text)
        return super().execute(call)


def test_a_tool_made_during_the_run_is_in_the_next_step_s_grammar_and_runs() -> None:
    backend = FakeBackend(
        ["USE_TOOL: MakeTool, name=Shout", "USE_TOOL: Shout, text=hello", "It says HELLO."]
    )
    settings = LoopSettings(syntax="directive", grammar=True, max_steps=4)
    events = list(
        run_agent("Make a shouting tool and shout hello", backend, GrowingExecutor(), settings)
    )
    assert "Shout" not in (backend.grammars[0] or "")
    assert "Shout" in (backend.grammars[1] or "")
    results = [e.result for e in events if isinstance(e, ToolCallFinished)]
    assert [r.output for r in results] == ["made Shout(text)", "HELLO"]
    assert isinstance(events[-1], Answer) and events[-1].text == "It says HELLO."


def test_the_tools_stay_as_they_were_when_nothing_changes() -> None:
    backend = FakeBackend(["USE_TOOL: MakeTool, name=x", "done"])
    executor = FakeExecutor({MAKER: lambda args: "ok"})
    settings = LoopSettings(syntax="directive", grammar=True, max_steps=3)
    list(run_agent("go", backend, executor, settings))
    assert backend.grammars[0] is not None and backend.grammars[1] is not None
    assert "Shout" not in (backend.grammars[1] or "")
