"""The seed's JSON-in/JSON-out world, `superagent:functions` (wit-lib/superagent/function.wit).

A component exporting `superagent:functions/function` is one tool: its name and description
come from `meta()`, its parameters from the metadata's `arguments` text, calls go through
`invoke` with the arguments as one JSON object, and `execution-error.reason` is the tool's error.

`arguments` may be a JSON Schema object (`{"type": "object", "properties": {...}, "required":
[...]}`): a scalar property (type, enum, bounds) is read as `ToolParam.from_wire` reads it, any
other (an array, an object, a string with `maxLength`...) becomes a parameter with that
`type_schema`, in the vocabulary `schema_check` checks values against (anything else is
refused). Or the seed's loose form `{ "endpoint": String }`: names and Rust- or
JSON-style type names (`String`, `i64`, `f64`, `bool`, `integer`, ...), every one required
unless written `Option<T>` or `T?`. Arguments reach the guest typed (integers as JSON numbers,
booleans as `true`/`false`), after the runner validated them against these parameters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tool_runner.arguments import INTEGER
from tool_runner.errors import MetadataError
from tool_runner.metadata import PARAM_TYPES, ParamType, ToolMetadata, ToolParam
from tool_runner.schema_check import ANNOTATIONS, KEYWORDS

if TYPE_CHECKING:  # the parsing and typing here are public and load without wasmtime
    import wasmtime
    from wasmtime import component

FUNCTION_INTERFACE = re.compile(r"^superagent:functions/function(@[0-9]+\.[0-9]+\.[0-9]+)?$")
WORLD_VERSION = "superagent"
"""The version a superagent tool reports (its metadata has none of its own)."""
JsonScalar = str | int | float | bool

# The loose form's type names (case-insensitive), one table for every spelling.
_LOOSE_TYPES: dict[str, ParamType] = {
    **dict.fromkeys(("string", "str", "&str", "text", "char"), "string"),
    **dict.fromkeys(
        ("integer", "int", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize"),
        "integer",
    ),
    **dict.fromkeys(("number", "float", "f32", "f64", "double"), "number"),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
}
_OPTION = re.compile(r"^option\s*<\s*(?P<inner>.+?)\s*>$|^(?P<short>.+?)\s*\?$", re.I)
_LOOSE_ENTRY = re.compile(
    r"""^\s*["']?(?P<name>[A-Za-z_][A-Za-z0-9_-]*)["']?\s*:\s*(?P<type>.+?)\s*$"""
)
_SCHEMA_ROOT_KEYS = {"type", "properties", "required", "additionalProperties", "$schema", "title"}
_IGNORED_PROPERTY_KEYS = ("description", "title")
_SCALAR_KEYS = ("type", "enum", "minimum", "maximum")


def find_function(
    comp: component.Component, engine: wasmtime.Engine
) -> tuple[component.ExportIndex, component.ExportIndex] | None:
    """(meta, invoke) of the `superagent:functions/function` export, or None without one."""
    for name in comp.type.exports(engine):
        if FUNCTION_INTERFACE.match(name):
            interface = comp.get_export_index(name)
            meta = comp.get_export_index("meta", interface)
            invoke = comp.get_export_index("invoke", interface)
            if meta is not None and invoke is not None:
                return meta, invoke
    return None


def read_metadata(path: Path, value: Any) -> ToolMetadata:
    """`meta()`'s record as ToolMetadata; raises MetadataError saying what is unusable."""
    try:
        name, description, arguments = str(value.name), str(value.description), value.arguments
    except AttributeError as exc:
        raise MetadataError(path, f"meta returned an unexpected record ({exc})") from exc
    if not name.strip():
        raise MetadataError(path, "meta returned an empty tool name")
    try:
        params = parse_arguments(str(arguments))
    except ValueError as exc:
        raise MetadataError(path, f"meta's arguments: {exc}") from None
    return ToolMetadata(
        name=name,
        description=description,
        version=WORLD_VERSION,
        params=params,
        world="superagent",
    )


def parse_arguments(text: str) -> tuple[ToolParam, ...]:
    """The parameters an `arguments` description declares (see the module docstring); raises
    ValueError naming what does not read."""
    if not text.strip():
        return ()
    try:
        declared = json.loads(text)
    except (ValueError, RecursionError):
        return _loose(text)
    if not isinstance(declared, dict):
        raise ValueError("expected a JSON object (a JSON Schema, or name: type pairs)")
    if "properties" in declared or declared.get("type") == "object":
        return schema_params(declared)
    return tuple(_loose_param(str(name), kind) for name, kind in declared.items())


def schema_params(schema: dict[str, Any]) -> tuple[ToolParam, ...]:
    """The parameters of a JSON Schema object (see the module docstring); raises ValueError."""
    if schema.get("type", "object") != "object":
        raise ValueError('the schema\'s "type" must be "object"')
    unknown = sorted(set(schema) - _SCHEMA_ROOT_KEYS - {"description"})
    if unknown:
        raise ValueError(f"unsupported schema keyword {unknown[0]!r}")
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    if not isinstance(properties, dict):
        raise ValueError('"properties" must be an object')
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError('"required" must be a list of names')
    missing = sorted(set(required) - set(properties))
    if missing:
        raise ValueError(f"required parameter {missing[0]!r} is not among the properties")
    params = []
    for name, fragment in properties.items():
        if not isinstance(fragment, dict):
            raise ValueError(f"parameter {name!r}: its schema must be an object")
        description = fragment.get("description", "")
        if not isinstance(description, str):
            raise ValueError(f"parameter {name!r}: description must be a string")
        wire = {k: v for k, v in fragment.items() if k not in _IGNORED_PROPERTY_KEYS}
        if set(wire) <= set(_SCALAR_KEYS) and wire.get("type") in PARAM_TYPES:
            params.append(_param(name, description, json.dumps(wire), name in required))
        else:
            params.append(_structured(name, description, wire, name in required))
    return tuple(params)


def _structured(name: str, description: str, schema: dict[str, Any], required: bool) -> ToolParam:
    """A parameter whose values are checked against `schema` (`ToolParam.type_schema`)."""
    if schema.get("type") not in (*PARAM_TYPES, "array", "object"):
        raise ValueError(
            f'parameter {name!r}: give its "type" (string, integer, number, '
            "boolean, array or object)"
        )
    _check_vocabulary(name, schema)
    try:
        return ToolParam(
            name=name,
            description=description,
            type=schema["type"],
            required=required,
            type_schema=schema,
        )
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ValueError(f"parameter {name!r}: {reason}") from None


def _check_vocabulary(name: str, schema: Any, depth: int = 0) -> None:
    """Refuse keywords the value checks do not know, at any depth (none passes unchecked)."""
    if depth > 32:
        raise ValueError(f"parameter {name!r}: the schema nests too deeply")
    if not isinstance(schema, dict):
        raise ValueError(f"parameter {name!r}: a schema must be an object")
    unknown = sorted(set(schema) - KEYWORDS - ANNOTATIONS)
    if unknown:
        raise ValueError(f"parameter {name!r}: unsupported schema keyword {unknown[0]!r}")
    nested: list[Any] = []
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            nested.append(schema[key])
    for key in ("prefixItems", "oneOf", "anyOf"):
        nested.extend(schema.get(key) or [])
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError(f'parameter {name!r}: "properties" must be an object')
    nested.extend(properties.values())
    for inner in nested:
        _check_vocabulary(name, inner, depth + 1)


def _param(name: str, description: str, wire: str, required: bool) -> ToolParam:
    if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        raise ValueError(f"parameter name {name!r} is not an identifier")
    try:
        return ToolParam.from_wire(name, description, wire, required)
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None


def _loose(text: str) -> tuple[ToolParam, ...]:
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError("neither JSON nor the { name: Type } form")
    params = []
    for entry in _split_top_level(body[1:-1]):
        if not entry.strip():
            continue
        match = _LOOSE_ENTRY.match(entry)
        if match is None:
            raise ValueError(f"cannot read {entry.strip()!r} (expected name: Type)")
        params.append(_loose_param(match["name"], match["type"]))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ValueError("a parameter name is repeated")
    return tuple(params)


def _split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside <...> (so `Option<Map<K, V>>` stays one entry)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _loose_param(name: str, kind: object) -> ToolParam:
    if not isinstance(kind, str):
        raise ValueError(f"parameter {name!r}: its type must be a type name such as String")
    spelled = kind.strip().strip("\"'")
    option = _OPTION.match(spelled)
    required = option is None
    if option is not None:
        spelled = option["inner"] or option["short"]
    param_type = _LOOSE_TYPES.get(spelled.lower())
    if param_type is None:
        known = "String, i64, f64, bool (or string, integer, number, boolean)"
        raise ValueError(f"parameter {name!r}: unsupported type {spelled!r} (expected {known})")
    return _param(name, "", param_type, required)


def typed_arguments(params: tuple[ToolParam, ...], canonical: dict[str, str]) -> dict[str, Any]:
    """The canonical (validated) argument strings as JSON values of their parameters' types."""
    types = {p.name: p.type for p in params}
    structured = {p.name for p in params if p.type_schema is not None}
    typed: dict[str, Any] = {}
    for name, text in canonical.items():
        kind = types.get(name, "string")
        if name in structured and kind != "string":  # canonical: compact JSON text
            typed[name] = json.loads(text)
        elif kind == "integer":
            typed[name] = int(text)
        elif kind == "number":  # canonical: an integral number is written as an integer
            typed[name] = int(text) if INTEGER.fullmatch(text) else float(text)
        elif kind == "boolean":
            typed[name] = text == "true"
        else:
            typed[name] = text
    return typed


def lower_input(params: tuple[ToolParam, ...], canonical: dict[str, str]) -> str:
    """`invoke`'s argument: the arguments as one JSON object."""
    return json.dumps(typed_arguments(params, canonical), ensure_ascii=False)


def lift_output(value: Any) -> tuple[bool, str]:
    """(ok, text) from `invoke`'s `result<string, execution-error>`: wasmtime lifts it untagged
    (the cases' types differ), the string for `ok`, the record for `err`."""
    tag = getattr(value, "tag", None)
    if tag is not None:  # a tagged lift (a Variant), should the cases' types ever collide
        value = value.payload if tag == "err" else str(value.payload or "")
    if isinstance(value, str):
        return True, value
    reason = getattr(value, "reason", None)
    return False, str(reason) if reason else "the function reported an error without a reason"
