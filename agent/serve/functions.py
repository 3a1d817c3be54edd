"""The client's own functions (a request's `tools`): offered to the model, never run here.

    tools = ClientTools.from_request(request.tools)   # a ToolExecutor that runs nothing
    wire = tools.wire_call(call)                      # a ToolCall as the client receives it

Each function becomes a `ToolMetadata` the agent's syntaxes describe, constrain and parse, the
same conversion `agent eval` makes for BFCL functions (`agent.eval.specs`): scalar parameters
keep their type, an array or object parameter keeps its JSON Schema (the grammar writes real
JSON for it; a value the model wrote as JSON text is decoded before the call goes to the
client).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from agent.eval.specs import bfcl_call, tool_spec
from agent.executor import match_name, unknown_tool_result
from agent.messages import ToolCall
from agent.serve.errors import RequestError
from agent.serve.schema import FunctionCall, FunctionTool, MessageToolCall
from tool_runner import ResultKind, ToolMetadata, ToolResult


class ClientTools:
    """A `ToolExecutor` of the client's functions: it offers them and runs none (the server
    returns the calls); `execute` answers an error result should the loop ever ask."""

    def __init__(self, functions: Sequence[dict[str, Any]] = ()) -> None:
        self._functions = {str(f["name"]): f for f in functions}
        self._specs = [_spec(index, f) for index, f in enumerate(functions)]

    @classmethod
    def from_request(cls, tools: Sequence[FunctionTool]) -> ClientTools:
        """The functions of a request's `tools`; raises RequestError for a name given twice."""
        functions = [tool.function.model_dump() for tool in tools]
        seen: set[str] = set()
        for index, function in enumerate(functions):
            if function["name"] in seen:
                raise RequestError(
                    f"tools[{index}]: the function name {function['name']!r} is given twice",
                    param=f"tools[{index}].function.name",
                )
            seen.add(function["name"])
        return cls(functions)

    def specs(self) -> Sequence[ToolMetadata]:
        """The functions as tool specs, in the request's order."""
        return self._specs

    def resolve(self, call: ToolCall) -> ToolCall | None:
        """`call` naming the client's function by its exact name (the loop matches names as the
        executors do), or None when it names none of them."""
        name = match_name(call.name, self._functions)
        return None if name is None else call.model_copy(update={"name": name})

    def execute(self, call: ToolCall) -> ToolResult:
        """Never runs anything: an unknown function is an unknown tool (the model is told
        which exist); a known one is the client's to run."""
        if self.resolve(call) is None:
            return unknown_tool_result(call.name, list(self._functions))
        return ToolResult(
            tool=call.name,
            kind=ResultKind.TOOL_ERROR,
            error="this function is run by the client, not by the server",
        )

    def wire_call(self, call: ToolCall) -> MessageToolCall:
        """`call` as the client receives it: arguments as JSON text, array and object
        arguments decoded from the JSON text the model wrote for them."""
        decoded = bfcl_call(call, self._functions.get(call.name))[call.name]
        return MessageToolCall(
            id=call.id, function=FunctionCall(name=call.name, arguments=json.dumps(decoded))
        )


def _spec(index: int, function: dict[str, Any]) -> ToolMetadata:
    try:
        return tool_spec(function)
    except (ValidationError, ValueError, TypeError) as exc:
        first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise RequestError(
            f"tools[{index}]: the function {function['name']!r} cannot be offered: {first}",
            param=f"tools[{index}]",
        ) from exc
