"""Absurd numbers from the model (past Python's 4,300-digit int-string limit, or overflowing to
infinity) never raise: every syntax reads the call, and validation refuses the argument, which
the loop turns into an `invalid_arguments` result for the model."""

from __future__ import annotations

import pytest

from agent.config import LoopSettings
from agent.events import ToolCallFinished
from agent.fake import FakeBackend
from agent.loop import run_agent
from agent.syntax import SYNTAXES, get_syntax
from tool_runner import ArgumentsError, ResultKind, ToolMetadata, ToolParam, ToolResult
from tool_runner.arguments import canonical_arguments

COUNT = ToolMetadata(
    name="Count",
    description="Counts",
    version="0.1.0",
    params=(ToolParam(name="n", description="how many", type="integer", required=True),),
)
HUGE = "9" * 5000


def reply(syntax: str, number: str) -> str:
    """A call to Count with `number` written as the model would write it in `syntax`."""
    if syntax == "directive":
        return f"USE_TOOL: Count, n={number}"
    obj = f'{{"name": "Count", "arguments": {{"n": {number}}}}}'
    return {
        "hermes": f"<tool_call>\n{obj}\n</tool_call>",
        "llama3": f'{{"name": "Count", "parameters": {{"n": {number}}}}}',
        "mistral": f"[TOOL_CALLS][{obj}]",
        "json": f'{{"tool": "Count", "arguments": {{"n": {number}}}}}',
    }[syntax]


@pytest.mark.parametrize("number", [HUGE, "-" + HUGE, "1e999"])
@pytest.mark.parametrize("name", SYNTAXES)
def test_every_syntax_reads_an_absurd_number_and_validation_refuses_it(
    name: str, number: str
) -> None:
    parsed = get_syntax(name).parse(reply(name, number), [COUNT])
    assert parsed.errors == () and len(parsed.calls) == 1
    with pytest.raises(ArgumentsError, match="parameter 'n' expects"):
        canonical_arguments(COUNT, parsed.calls[0].arguments)


class ValidatingExecutor:
    """Validates as the sandbox does before any wasm runs; every valid call succeeds."""

    def specs(self) -> list[ToolMetadata]:
        return [COUNT]

    def execute(self, call: object) -> ToolResult:
        try:
            canonical_arguments(COUNT, call.arguments)  # type: ignore[attr-defined]
        except ArgumentsError as exc:
            return ToolResult(tool="Count", kind=ResultKind.INVALID_ARGUMENTS, error=str(exc))
        return ToolResult(tool="Count", kind=ResultKind.SUCCESS, output="ok")


@pytest.mark.parametrize("name", SYNTAXES)
def test_the_loop_gives_the_model_an_invalid_arguments_result(name: str) -> None:
    backend = FakeBackend([reply(name, HUGE), "sorry"])
    settings = LoopSettings(syntax=name, grammar=False)  # type: ignore[arg-type]
    events = list(run_agent("count", backend, ValidatingExecutor(), settings))
    (finished,) = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished.result.kind is ResultKind.INVALID_ARGUMENTS
    assert "at most 1000 digits" in backend.prompts[1]
