r"""Reading and writing the seed's directive syntax: `USE_TOOL: Echo, value=Something to echo`.

The rules, chosen so that the seed's bug (`'Something to echo'` read as `Something`) cannot happen:

- A call starts at `USE_TOOL` (exact case), anywhere on a line; text before it on that line and
  every line without it is the reply's plain-text content. A call ends at the end of its line;
  several calls are several lines.
- `USE_TOOL`, optional spaces, `:`, the tool name (`[A-Za-z_][A-Za-z0-9_.-]*`), then
  `, name=value` for each argument (spaces around `,` and `=` are ignored).
- A value in double quotes is a JSON string: `\"`, `\\`, `\n`, `\uXXXX` ... are decoded, commas
  are plain characters. Nothing but spaces may follow the closing quote before the next `,`.
- Any other value is bare: it runs to the end of the line, unless `, <param>=` follows where
  `<param>` is one of the tool's own parameters (any identifier for an unknown tool). It is
  stripped of surrounding whitespace, and of one pair of surrounding single quotes (`'like this'`,
  as small models often write). A bare value of an integer, number or boolean parameter that
  reads as one becomes that JSON type; everything else stays a string.
- A tool with exactly one parameter also takes its value without `name=`:
  `USE_TOOL: Echo, Something to echo`.
- The canonical form (what `render` writes and the grammar admits): required arguments first,
  then optional ones, each in declared order; a string bare when it is non-empty, has no comma,
  double quote or control character, no surrounding whitespace and does not start with `'`;
  otherwise a JSON string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

from agent.messages import JsonScalar, ToolCall
from agent.syntax.base import ParsedReply, call_id, snippet
from agent.syntax.grammar import canonical_params
from tool_runner import ToolMetadata, ToolParam

MARKER = "USE_TOOL"
_COLON = re.compile(r"[ \t]*:")
_TOOL_NAME = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_.\-]*)")
_ARG_NAME = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_\-]*)[ \t]*=")
_ANY_ARG_BOUNDARY = re.compile(r",[ \t]*[A-Za-z_][A-Za-z0-9_\-]*[ \t]*=")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JSON = json.JSONDecoder()


class _CallError(Exception):
    """A malformed call; the message says what is wrong (internal: parse never raises)."""


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
            name, arguments = _parse_call(source[len(MARKER) :], by_name)
        except _CallError as exc:
            errors.append(f"malformed call {snippet(source)!r}: {exc}")
            continue
        calls.append(ToolCall(id=call_id(text, len(calls)), name=name, arguments=arguments))
    return ParsedReply(content="\n".join(content).strip(), calls=tuple(calls), errors=tuple(errors))


def _parse_call(rest: str, by_name: dict[str, ToolMetadata]) -> tuple[str, dict[str, JsonScalar]]:
    colon = _COLON.match(rest)
    if colon is None:
        raise _CallError(f"{MARKER} must be followed by ':' and a tool name")
    name_match = _TOOL_NAME.match(rest, colon.end())
    if name_match is None:
        raise _CallError(f"no tool name after '{MARKER}:'")
    tool = by_name.get(name_match.group(1))
    return name_match.group(1), _parse_arguments(rest[name_match.end() :], tool)


def _parse_arguments(rest: str, tool: ToolMetadata | None) -> dict[str, JsonScalar]:
    args: dict[str, JsonScalar] = {}
    pos = _skip_spaces(rest, 0)
    if pos == len(rest):
        return args
    if rest[pos] != ",":
        raise _CallError(f"expected ',' after the tool name, found {snippet(rest[pos:], 20)!r}")
    pos += 1
    while (pos := _skip_spaces(rest, pos)) < len(rest):
        name_match = _ARG_NAME.match(rest, pos)
        if name_match is None:
            if args or tool is None or len(tool.params) != 1:
                raise _CallError(f"expected name=value, found {snippet(rest[pos:], 20)!r}")
            param: ToolParam | None = tool.params[0]
            name = tool.params[0].name
        else:
            name = name_match.group(1)
            param = tool.param(name) if tool else None
            pos = _skip_spaces(rest, name_match.end())
        if name in args:
            raise _CallError(f"parameter '{name}' given twice")
        args[name], pos = _parse_value(rest, pos, name, param, tool)
        pos = _skip_spaces(rest, pos)
        if pos < len(rest):  # the value parsers stop only at the end or at a ','
            pos += 1
    return args


def _parse_value(
    rest: str, pos: int, name: str, param: ToolParam | None, tool: ToolMetadata | None
) -> tuple[JsonScalar, int]:
    if rest.startswith('"', pos):
        try:
            value, end = _JSON.raw_decode(rest, pos)
        except json.JSONDecodeError as exc:
            raise _CallError(
                f"bad quoted value for '{name}': {exc.msg.removesuffix(' starting at').lower()}"
            ) from None
        after = _skip_spaces(rest, end)
        if after < len(rest) and rest[after] != ",":
            raise _CallError(f"unexpected text after the quoted value of '{name}'")
        return str(value), end
    end = _bare_end(rest, pos, tool)
    bare = rest[pos:end].strip()
    if len(bare) >= 2 and bare[0] == bare[-1] == "'":
        bare = bare[1:-1]
    return (coerce_bare(param, bare) if param else bare), end


def _bare_end(rest: str, pos: int, tool: ToolMetadata | None) -> int:
    if tool is None:
        boundary = _ANY_ARG_BOUNDARY.search(rest, pos)
    else:
        names = "|".join(re.escape(p.name) for p in tool.params) or r"(?!)"
        boundary = re.compile(rf",[ \t]*(?:{names})[ \t]*=").search(rest, pos)
    return boundary.start() if boundary else len(rest)


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def coerce_bare(param: ToolParam, text: str) -> JsonScalar:
    """A bare value as its parameter's JSON type when it reads as one, else the text itself."""
    if param.type == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if param.type == "number":
        if _INTEGER.fullmatch(text):
            return int(text)
        if _NUMBER.fullmatch(text) and math.isfinite(number := float(text)):
            return number
    if param.type == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


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
    text = "" if value is None else value
    return text if is_bare_safe(text) else json.dumps(text, ensure_ascii=False)


def is_bare_safe(text: str) -> bool:
    """Whether `text` reads back unchanged when written without quotes."""
    return (
        text != ""
        and text == text.strip()
        and text[0] != "'"
        and not any(ch in ',"' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)
    )


def example_calls(tool: ToolMetadata, assistant_text: str) -> tuple[ToolCall, ...] | None:
    """The calls in a usage example (written in the directive syntax), or None if it has none or
    a malformed one."""
    parsed = parse_directive(assistant_text, [tool])
    if parsed.errors or not parsed.calls:
        return None
    return parsed.calls
