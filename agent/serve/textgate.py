"""Streaming a model turn's text as the answer without streaming its tool calls.

A turn may be an answer or a call, and only its end tells which. `TextGate` passes a turn's text
on as it comes, holding back the last few characters (as many as the call syntax's own opening
of a call, e.g. `USE_TOOL: ` or `<tool_call>`, derived from the syntax itself), and stops
passing text on as soon as the syntax's parser reads a call (or the start of one) in it. When
the turn turns out to be the answer, `finish` releases the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.messages import ToolCall
from agent.syntax import CallSyntax
from tool_runner import ToolMetadata


def call_opening(syntax: CallSyntax, tools: Sequence[ToolMetadata]) -> str:
    """The text a call starts with in `syntax`, up to the tool's name (empty with no tools)."""
    if not tools:
        return ""
    tool = tools[0]
    written = syntax.render([ToolCall(id="call", name=tool.name)], [tool])
    at = written.find(tool.name)
    return written if at < 0 else written[:at]


class TextGate:
    """One model turn's text on its way to the client (see the module docstring)."""

    def __init__(self, syntax: CallSyntax, tools: Sequence[ToolMetadata]) -> None:
        self._syntax = syntax
        self._tools = tuple(tools)
        self._hold = len(call_opening(syntax, tools))
        self._text = ""
        self._sent = 0
        self._shut = False

    def feed(self, piece: str) -> str:
        """Take the next piece of the turn; return the text that may go to the client now."""
        self._text += piece
        if self._shut:
            return ""
        if self._hold:
            parsed = self._syntax.parse(self._text, self._tools)
            if parsed.calls or parsed.errors:
                self._shut = True
                return ""
        return self._release(max(len(self._text) - self._hold, self._sent))

    def finish(self, *, answer: bool) -> str:
        """The turn ended; when it is the answer, the text not yet released."""
        return self._release(len(self._text)) if answer else ""

    def _release(self, end: int) -> str:
        out = self._text[self._sent : end]
        self._sent = end
        return out
