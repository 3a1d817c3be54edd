"""JSON tool calls, shared by the native syntaxes: lenient reading, canonical writing, grammar.

Reading accepts what models really write: the call object or a list of them, the name under
`name`, `tool` or an OpenAI-style `function` object, the arguments under `arguments` or
`parameters`, as an object or as a string holding JSON, text after the JSON. Writing and the
grammar use one canonical form: `{"<name key>": "Echo", "<args key>": {"value": "x"}}`, with
Python's `json.dumps` spacing, arguments in canonical order (required, then optional).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.messages import JsonScalar, ToolCall, is_plain_id
from agent.syntax.base import call_id, snippet
from agent.syntax.grammar import (
    GrammarBuilder,
    canonical_params,
    json_string,
    json_text,
    literal,
    object_members,
    rule_name,
)
from agent.syntax.schema_grammar import param_value
from tool_runner import ToolMetadata, read_integer


def _json_integer(text: str) -> int | str:
    """An integer as JSON wrote it; one too long to be an argument stays text (which validation
    then refuses), where `int()` would raise past 4,300 digits."""
    value = read_integer(text)
    return text if value is None else value


_DECODER = json.JSONDecoder(parse_int=_json_integer)
NAME_KEYS = ("name", "tool", "tool_name")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")


class JsonCallError(ValueError):
    """A JSON call that cannot be used; the message names the problem."""


def decode_json(text: str, pos: int) -> tuple[object, int]:
    """Decode one JSON value at `pos`; returns (value, end); raises JsonCallError."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise JsonCallError(f"invalid JSON ({exc.msg}) in {snippet(text[pos:], 60)!r}") from None
    except RecursionError:
        raise JsonCallError("JSON nested too deeply") from None


def is_call_object(value: object) -> bool:
    """Whether a decoded JSON value looks like a call (an object naming a tool or function)."""
    if not isinstance(value, dict):
        return False
    return any(key in value for key in NAME_KEYS) or isinstance(value.get("function"), dict)


def call_objects(value: object) -> list[object]:
    """A decoded value as a list of would-be call objects (a single object or a list)."""
    return list(value) if isinstance(value, list) else [value]


def to_call(value: object, *, reply_text: str, index: int) -> ToolCall:
    """A decoded call object as a ToolCall; raises JsonCallError naming what is wrong."""
    if not isinstance(value, dict):
        raise JsonCallError(f"a call must be a JSON object, got {type(value).__name__}")
    written_id = value.get("id")  # the model's own id (Mistral's), which its results must quote
    function = value.get("function")
    if isinstance(function, dict) and not any(key in value for key in NAME_KEYS):
        value = function
    name = next((value[key] for key in NAME_KEYS if key in value), None)
    if not isinstance(name, str) or not name.strip():
        raise JsonCallError('a call needs the tool name as a string under "name"')
    raw_args: object = next((value[key] for key in ARGUMENT_KEYS if key in value), {})
    return ToolCall(
        id=written_id if is_plain_id(written_id) else call_id(reply_text, index),
        name=name.strip(),
        arguments=_arguments(name, raw_args),
    )


def _arguments(tool_name: str, raw: object) -> dict[str, JsonScalar]:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return {}
        try:
            raw = _DECODER.decode(text)
        except (ValueError, RecursionError):
            raise JsonCallError(f"the arguments of {tool_name} are not a JSON object") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise JsonCallError(f"the arguments of {tool_name} must be a JSON object")
    # any JSON value: structured parameters take arrays and objects, and validation (before
    # any tool runs) refuses a value that does not fit its parameter
    return {str(key): item for key, item in raw.items()}


def arguments_json(call: ToolCall, tool: ToolMetadata | None) -> str:
    """The canonical JSON object of a call's arguments (canonical order, None left out)."""
    order = [p.name for p in canonical_params(tool)] if tool else []
    order += [name for name in call.arguments if name not in order]
    members = ", ".join(
        f"{json.dumps(name, ensure_ascii=False)}: {_value_json(value)}"
        for name in order
        if (value := call.arguments.get(name)) is not None
    )
    return f"{{{members}}}"


def call_json(call: ToolCall, tool: ToolMetadata | None, *, name_key: str, args_key: str) -> str:
    """The canonical JSON text of one call (arguments as `arguments_json` writes them)."""
    head = f"{json.dumps(name_key)}: {json.dumps(call.name, ensure_ascii=False)}"
    return f"{{{head}, {json.dumps(args_key)}: {arguments_json(call, tool)}}}"


def _value_json(value: JsonScalar) -> str:
    """One argument value as the grammar writes it (strings by `json_text`)."""
    return json_text(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def calls_json(
    calls: Sequence[ToolCall], tools: Sequence[ToolMetadata], *, name_key: str, args_key: str
) -> list[str]:
    """The canonical JSON text of each call."""
    by_name = {tool.name: tool for tool in tools}
    return [
        call_json(call, by_name.get(call.name), name_key=name_key, args_key=args_key)
        for call in calls
    ]


def call_object_rule(
    b: GrammarBuilder,
    tools: Sequence[ToolMetadata],
    *,
    name_key: str,
    args_key: str,
    id_member: str = "",
) -> str:
    """Rule `call-object`: the canonical JSON object of a call to one of `tools`; `id_member`
    (GBNF, e.g. an optional `"id"` member) may follow the arguments."""
    string = json_string(b)
    alternatives = []
    for index, tool in enumerate(tools):
        members = {
            p.name: f"{literal(json.dumps(p.name, ensure_ascii=False) + ': ')} "
            f"{param_value(b, p, string_rule=string, write_string=json_text)}"
            for p in tool.params
        }
        args = object_members(
            b, rule_name("args", index), canonical_params(tool), members, separator=", "
        )
        name = json.dumps(tool.name, ensure_ascii=False)
        head = literal(f"{name}, {json.dumps(args_key)}: {{")
        alternatives.append(b.rule(rule_name("call", index), f'{head} {args} "}}"'))
    opening = literal(f"{{{json.dumps(name_key)}: ")
    return b.rule("call-object", f'{opening} ({" | ".join(alternatives)}) {id_member} "}}"')
