r"""The seed's call notation, `USE_TOOL: Echo, value=Something to echo`: reading one call.

Tools write the `assistant` side of their usage examples in it (see `wit-lib/tool/tool.wit`), so
the runner reads those into structured calls when it loads a component (`example_calls`); the
agent's directive syntax teaches models the same notation and reads their replies with
`read_call`. The rules, chosen so that the seed's bug (`'Something to echo'` read as
`Something`) cannot happen:

- A call is `USE_TOOL`, optional spaces, `:`, the tool name (`[A-Za-z_][A-Za-z0-9_.-]*`), then
  `, name=value` for each argument (spaces around `,` and `=` are ignored), up to the end of the
  line.
- A value in double quotes is a JSON string: `\"`, `\\`, `\n`, `\uXXXX` ... are decoded, commas
  are plain characters. Nothing but spaces may follow the closing quote before the next `,`.
- Any other value is bare: it runs to the end of the line, unless `, <param>=` follows where
  `<param>` is one of the tool's own parameters (any identifier for an unknown tool). It is
  stripped of surrounding whitespace, and of one pair of surrounding single quotes (`'like this'`,
  as small models often write). A bare value of an integer, number or boolean parameter that
  reads as one becomes that JSON type; everything else stays a string.
- A tool with exactly one parameter also takes its value without `name=`:
  `USE_TOOL: Echo, Something to echo`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from tool_runner.arguments import canonical_arguments, read_integer
from tool_runner.errors import ArgumentsError, CallNotationError
from tool_runner.metadata import ArgValue, ToolMetadata, ToolParam, UsageCall

MARKER = "USE_TOOL"
_COLON = re.compile(r"[ \t]*:")
_TOOL_NAME = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_.\-]*)")
_ARG_NAME = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_\-]*)[ \t]*=")
_ANY_ARG_BOUNDARY = re.compile(r",[ \t]*[A-Za-z_][A-Za-z0-9_\-]*[ \t]*=")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JSON = json.JSONDecoder()


def read_call(rest: str, tools: Mapping[str, ToolMetadata]) -> tuple[str, dict[str, ArgValue]]:
    """The tool name and arguments of the call whose text after `USE_TOOL` is `rest` (one line);
    `tools` by name decide where bare values end and their types. Raises CallNotationError."""
    colon = _COLON.match(rest)
    if colon is None:
        raise CallNotationError(f"{MARKER} must be followed by ':' and a tool name")
    name_match = _TOOL_NAME.match(rest, colon.end())
    if name_match is None:
        raise CallNotationError(f"no tool name after '{MARKER}:'")
    tool = tools.get(name_match.group(1))
    return name_match.group(1), _arguments(rest[name_match.end() :], tool)


def example_calls(tool: ToolMetadata, assistant: str) -> tuple[UsageCall, ...]:
    """The calls to `tool` in a usage example's assistant text, or () when it holds none, or one
    that does not read, names another tool or does not fit the tool's parameters (an example
    that would teach a model a wrong call is not offered as one)."""
    calls = []
    for line in assistant.splitlines():
        at = line.find(MARKER)
        if at < 0:
            continue
        try:
            name, arguments = read_call(line[at + len(MARKER) :], {tool.name: tool})
            canonical_arguments(tool, arguments)
        except (CallNotationError, ArgumentsError):
            return ()
        if name != tool.name:
            return ()
        calls.append(UsageCall(name=name, arguments=arguments))
    return tuple(calls)


def _arguments(rest: str, tool: ToolMetadata | None) -> dict[str, ArgValue]:
    args: dict[str, ArgValue] = {}
    pos = _skip_spaces(rest, 0)
    if pos == len(rest):
        return args
    if rest[pos] != ",":
        raise CallNotationError(f"expected ',' after the tool name, found {_snippet(rest[pos:])!r}")
    pos += 1
    while (pos := _skip_spaces(rest, pos)) < len(rest):
        name_match = _ARG_NAME.match(rest, pos)
        if name_match is None:
            if args or tool is None or len(tool.params) != 1:
                raise CallNotationError(f"expected name=value, found {_snippet(rest[pos:])!r}")
            param: ToolParam | None = tool.params[0]
            name = tool.params[0].name
        else:
            name = name_match.group(1)
            param = tool.param(name) if tool else None
            pos = _skip_spaces(rest, name_match.end())
        if name in args:
            raise CallNotationError(f"parameter '{name}' given twice")
        args[name], pos = _value(rest, pos, name, param, tool)
        pos = _skip_spaces(rest, pos)
        if pos < len(rest):  # a value ends only at the end or at a ','
            pos += 1
    return args


def _value(
    rest: str, pos: int, name: str, param: ToolParam | None, tool: ToolMetadata | None
) -> tuple[ArgValue, int]:
    if rest.startswith('"', pos):
        try:
            value, end = _JSON.raw_decode(rest, pos)
        except json.JSONDecodeError as exc:
            reason = exc.msg.removesuffix(" starting at").lower()
            raise CallNotationError(f"bad quoted value for '{name}': {reason}") from None
        after = _skip_spaces(rest, end)
        if after < len(rest) and rest[after] != ",":
            raise CallNotationError(f"unexpected text after the quoted value of '{name}'")
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


def _snippet(text: str, limit: int = 20) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def coerce_bare(param: ToolParam, text: str) -> ArgValue:
    """A bare value as its parameter's JSON type when it reads as one, else the text itself (an
    integer too long to be an argument stays text, which validation refuses)."""
    if param.type in ("integer", "number") and (whole := read_integer(text)) is not None:
        return whole
    number_text = param.type == "number" and _NUMBER.fullmatch(text)
    if number_text and math.isfinite(number := float(text)):
        return number
    if param.type == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text
