r"""Reading and writing the seed's directive syntax: `USE_TOOL: Echo, value=Something to echo`.

The rules, chosen so that the seed's bug (`'Something to echo'` read as `Something`) cannot happen:

- A call starts at `USE_TOOL` (exact case), anywhere on a line; text before it on that line and
  every line without it is the reply's plain-text content. A call ends at the end of its line;
  several calls are several lines.
- One call reads as `tool_runner.read_call` reads it (the tool contract's own notation, in which
  tools write their usage examples): `USE_TOOL: Name, name=value, ...`, values bare or JSON
  strings, bare ones typed by the tool's parameters.
- The canonical form (what `render` writes and the grammar admits): required arguments first,
  then optional ones, each in declared order; a string bare when it is non-empty, has no comma,
  double quote or control character, no surrounding whitespace and does not start with `'` or
  `<` (the prompts' placeholders); otherwise a JSON string, a leading `<` escaped as `\\u003c`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from agent.messages import JsonScalar, ToolCall
from agent.syntax.base import ParsedReply, call_id, snippet
from agent.syntax.grammar import PLACEHOLDER_START, canonical_params, json_text
from tool_runner import MARKER, CallNotationError, ToolMetadata, read_call


def parse_directive(text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
    """Split `text` into content, calls and one error line per malformed call; never raises."""
    by_name = {tool.name: tool for tool in tools}
    content: list[str] = []
    calls: list[ToolCall] = []
    errors: list[str] = []
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        at = line.find(MARKER)
        if at < 0:
            content.append(line)
            continue
        if line[:at].strip():
            content.append(line[:at].rstrip())
        source = line[at:]
        try:
            name, arguments = read_call(source[len(MARKER) :], by_name)
        except CallNotationError as exc:
            errors.append(f"malformed call {snippet(source)!r}: {exc}")
            continue
        calls.append(ToolCall(id=call_id(text, len(calls)), name=name, arguments=arguments))
    return ParsedReply(content="\n".join(content).strip(), calls=tuple(calls), errors=tuple(errors))


def render_directive(calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
    """The canonical directive text of `calls`, one line each."""
    by_name = {tool.name: tool for tool in tools}
    return "\n".join(render_call(call, by_name.get(call.name)) for call in calls)


def render_call(call: ToolCall, tool: ToolMetadata | None) -> str:
    """One call in canonical form; arguments the tool does not declare come last."""
    order = [p.name for p in canonical_params(tool)] if tool else []
    order += [name for name in call.arguments if name not in order]
    parts = [f"{MARKER}: {call.name}"]
    for name in order:
        value = call.arguments.get(name)
        if value is not None:
            parts.append(f"{name}={render_value(value)}")
    return ", ".join(parts)


def render_value(value: JsonScalar) -> str:
    """One argument value in canonical form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else json.dumps(repr(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    text = "" if value is None else value
    return text if is_bare_safe(text) else json_text(text)


def is_bare_safe(text: str) -> bool:
    """Whether `text` reads back unchanged when written without quotes."""
    return (
        text != ""
        and text == text.strip()
        and text[0] not in ("'", PLACEHOLDER_START)
        and not any(ch in ',"' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)
    )
