"""GBNF for a structured parameter's value, from its JSON Schema (`ToolParam.type_schema`).

    expr = schema_value(b, param.type_schema, name="value-0", compact=False)

The vocabulary is the one tool_runner checks (`tool_runner.schema_check`): `type` (a name or a
list, `null` among them for a nullable value), `enum`, `const`, `minimum`/`maximum`,
`minLength`/`maxLength`, `items`, `prefixItems`, `minItems`/`maxItems`, `properties`, `required`,
`oneOf`/`anyOf`. Values are written as Python's `json.dumps` writes them (`compact`: without the
spaces after `,` and `:`), object members in the schema's order, every required one and each
optional one at most once, no member the schema does not name. Everything stays bounded, so
that a call always ends (`agent.syntax.bound`): arrays hold at most `maxItems` or MAX_ITEMS
items, strings at most `maxLength` or MAX_STRING_CHARS characters, and a schema nested deeper
than MAX_DEPTH, or one without a type, admits a flat JSON scalar. Validation (schema_check)
still checks every value exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.syntax.grammar import (
    MAX_STRING_CHARS,
    GrammarBuilder,
    boolean,
    bounded_integer,
    bounded_number,
    integer,
    literal,
    number,
    typed_value,
)
from tool_runner import ToolParam

MAX_ITEMS = 8
MAX_DEPTH = 4


def _string(b: GrammarBuilder, low: int, high: int) -> str:
    """A JSON string of `low`..`high` characters (escapes count as one); any first character."""
    escape = r'"\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'
    b.rule("json-char", rf'[^"\\\x00-\x1F] | {escape}')
    return f'"\\"" json-char{{{low},{high}}} "\\""'


def _scalar(b: GrammarBuilder) -> str:
    text = _string(b, 0, MAX_STRING_CHARS)
    return b.rule("json-scalar", f'{text} | {number(b)} | {boolean(b)} | "null"')


def _separators(compact: bool) -> tuple[str, str]:
    return ("," if compact else ", "), (":" if compact else ": ")


def _json(value: Any, compact: bool) -> str:
    item, key = _separators(compact)
    return json.dumps(value, ensure_ascii=False, separators=(item, key))


def schema_value(
    b: GrammarBuilder, schema: Mapping[str, Any], *, name: str, compact: bool, depth: int = 0
) -> str:
    """A GBNF expression for one value of `schema` (rules named from `name`)."""
    if depth > MAX_DEPTH:
        return _scalar(b)
    if "const" in schema:
        return literal(_json(schema["const"], compact))
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return "(" + " | ".join(literal(_json(v, compact)) for v in schema["enum"]) + ")"
    options = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(options, list) and options:
        listed = [o for o in options if isinstance(o, Mapping)]
        return _alternatives(b, listed, name=name, compact=compact, depth=depth)
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return _alternatives(
            b, [{**schema, "type": k} for k in kinds], name=name, compact=compact, depth=depth
        )
    return _typed(b, schema, str(kinds) if kinds else "", name=name, compact=compact, depth=depth)


def _alternatives(
    b: GrammarBuilder, schemas: Sequence[Mapping[str, Any]], *, name: str, compact: bool, depth: int
) -> str:
    parts = [
        schema_value(b, s, name=f"{name}-{i}", compact=compact, depth=depth + 1)
        for i, s in enumerate(schemas)
    ]
    return "(" + " | ".join(parts) + ")" if parts else _scalar(b)


def _typed(
    b: GrammarBuilder,
    schema: Mapping[str, Any],
    kind: str,
    *,
    name: str,
    compact: bool,
    depth: int,
) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind == "string":
        shortest = max(0, int(schema.get("minLength", 0)))
        longest = min(MAX_STRING_CHARS, int(schema.get("maxLength", MAX_STRING_CHARS)))
        return _string(b, shortest, max(shortest, longest))
    if kind == "integer":
        return bounded_integer(low, high) if (low, high) != (None, None) else integer(b)
    if kind == "number":
        return bounded_number(b, low, high) if (low, high) != (None, None) else number(b)
    if kind == "boolean":
        return boolean(b)
    if kind == "null":
        return '"null"'
    if kind == "array":
        return _array(b, schema, name=name, compact=compact, depth=depth)
    if kind == "object":
        return _object(b, schema, name=name, compact=compact, depth=depth)
    return _scalar(b)


def _array(
    b: GrammarBuilder, schema: Mapping[str, Any], *, name: str, compact: bool, depth: int
) -> str:
    sep = literal(_separators(compact)[0])
    fixed = schema.get("prefixItems")
    if isinstance(fixed, list) and fixed:  # a tuple: each position its own schema
        items = [
            schema_value(b, s, name=f"{name}-{i}", compact=compact, depth=depth + 1)
            for i, s in enumerate(fixed)
        ]
        return b.rule(name, '"[" ' + f" {sep} ".join(items) + ' "]"')
    item_schema = schema.get("items")
    item = schema_value(
        b,
        item_schema if isinstance(item_schema, Mapping) else {},
        name=f"{name}-of",
        compact=compact,
        depth=depth + 1,
    )
    item_rule = b.rule(f"{name}-item", item)
    shortest = max(0, int(schema.get("minItems", 0)))
    longest = max(shortest, min(MAX_ITEMS, int(schema.get("maxItems", MAX_ITEMS))))
    if longest == 0:
        return literal("[]")
    more = f"({sep} {item_rule}){{{max(shortest - 1, 0)},{longest - 1}}}"
    body = f"{item_rule} {more}"
    return b.rule(name, f'"[" {body} "]"' if shortest else f'"[" ({body})? "]"')


def _object(
    b: GrammarBuilder, schema: Mapping[str, Any], *, name: str, compact: bool, depth: int
) -> str:
    item_sep, key_sep = _separators(compact)
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        # a free-form object: string keys, flat JSON scalars
        key = _string(b, 1, MAX_STRING_CHARS)
        member = b.rule(f"{name}-member", f"{key} {literal(key_sep)} {_scalar(b)}")
        more = f"({literal(item_sep)} {member}){{0,{MAX_ITEMS - 1}}}"
        return b.rule(name, f'"{{" ({member} {more})? "}}"')
    required = set(schema.get("required", []))
    members: list[tuple[str, bool]] = []
    for index, (key, sub) in enumerate(properties.items()):
        value = schema_value(
            b,
            sub if isinstance(sub, Mapping) else {},
            name=f"{name}-{index}",
            compact=compact,
            depth=depth + 1,
        )
        members.append((f"{literal(_json(str(key), compact) + key_sep)} {value}", key in required))
    return b.rule(name, f'"{{" {_members(b, name, members, literal(item_sep))} "}}"')


def _members(b: GrammarBuilder, name: str, members: Sequence[tuple[str, bool]], sep: str) -> str:
    """Members in the schema's order: required ones always, optional ones at most once, `sep`
    between two. Built from the end: `name-after-i` is what may follow once something was
    written (each member led by `sep`), `name-from-i` what may start the object at member i."""
    after, start = '""', '""'
    for index in range(len(members) - 1, -1, -1):
        text, required = members[index]
        led = f"{sep} {text} {after}"
        first = f"{text} {after}"
        after = b.rule(f"{name}-after-{index}", led if required else f"({sep} {text})? {after}")
        start = b.rule(f"{name}-from-{index}", first if required else f"{first} | {start}")
    return start


def param_value(
    b: GrammarBuilder,
    param: ToolParam,
    *,
    string_rule: str,
    write_string: Callable[[str], str],
    compact: bool = False,
) -> str:
    """The grammar of one value of `param`: a structured one from its JSON Schema
    (`schema_grammar`, `compact` JSON in the directive syntax), one of its enum's strings (each
    as `write_string` writes it in the syntax), a number with no more digits (and no sign) than
    its bounds allow, else any value of its type (`typed_value`). Validation checks the exact
    bounds."""
    if param.type_schema is not None:
        digest = hashlib.sha256(
            json.dumps([param.type_schema, compact], sort_keys=True).encode()
        ).hexdigest()[:12]
        return schema_value(b, param.type_schema, name=f"value-{digest}", compact=compact)
    if param.enum:
        return "(" + " | ".join(literal(write_string(value)) for value in param.enum) + ")"
    bounded = param.minimum is not None or param.maximum is not None
    if param.type == "integer" and bounded:
        return bounded_integer(param.minimum, param.maximum)
    if param.type == "number" and bounded:
        return bounded_number(b, param.minimum, param.maximum)
    return typed_value(b, param.type, string_rule=string_rule)
