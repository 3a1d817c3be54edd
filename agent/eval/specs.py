"""BFCL function schemas as the agent's tool specs, and the model's calls back in BFCL's form.

    tool = tool_spec(function)                 # a ToolMetadata the syntaxes describe and constrain
    call = bfcl_call(tool_call, function)      # {name: {param: value}}, as BFCL's checker wants it

BFCL's scalar types map onto tool parameter types (`float` is a number, `any` a string); an
array, tuple or dict parameter becomes a structured parameter whose JSON Schema
(`ToolParam.type_schema`) is BFCL's, in JSON Schema's words (`dict` an object, `tuple` and
`array` arrays, `float` a number; `default` and `optional` dropped), so the grammar writes real
JSON arrays and objects (nested ones too) and the prompt shows their shape. BFCL's `enum` lists
go into the description ("One of: ...") and, for string parameters, into the tool spec's
`enum`, which the grammar enforces. A value the model wrote as JSON text is decoded before BFCL
judges it (a parser may read `[1, 2]` in the directive notation as text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from agent.messages import ToolCall
from tool_runner import ParamType, ToolMetadata, ToolParam

SCALAR_TYPES: dict[str, ParamType] = {
    "string": "string",
    "any": "string",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "boolean",
    "bool": "boolean",
}
JSON_TEXT_TYPES = {
    "array": "list",
    "tuple": "list",
    "list": "list",
    "dict": "dict",
    "object": "dict",
}


def _properties(function: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    properties: dict[str, dict[str, Any]] = function.get("parameters", {}).get("properties", {})
    return properties


def _param(name: str, schema: Mapping[str, Any], required: bool) -> ToolParam:
    declared = str(schema.get("type", "string"))
    description = str(schema.get("description", "")).strip()
    if declared in JSON_TEXT_TYPES:
        structured = json_schema(schema)
        return ToolParam(
            name=name,
            description=description,
            type=structured["type"],
            required=required,
            type_schema=structured,
        )
    if "enum" in schema:
        description += " One of: " + ", ".join(str(v) for v in schema["enum"]) + "."
    kind = SCALAR_TYPES.get(declared, "string")
    values = schema.get("enum", [])
    # a string enum also steers decoding: the grammar admits only those values
    enum = tuple(dict.fromkeys(values)) if all(isinstance(v, str) for v in values) else ()
    return ToolParam(
        name=name,
        description=description.strip(),
        type=kind,
        required=required,
        enum=enum if kind == "string" else (),
    )


_KEPT = ("enum", "minimum", "maximum", "minItems", "maxItems", "required")


def json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A BFCL parameter schema in JSON Schema's words, with only the keywords tool_runner
    checks (`description` kept only at the top, where the prompt shows it apart)."""
    declared = str(schema.get("type", ""))
    out: dict[str, Any] = {}
    if declared in JSON_TEXT_TYPES:
        out["type"] = "array" if JSON_TEXT_TYPES[declared] == "list" else "object"
    elif declared in SCALAR_TYPES and declared != "any":
        out["type"] = SCALAR_TYPES[declared]
    for key in _KEPT:
        if key in schema:
            out[key] = schema[key]
    if out.get("type") != "object":
        out.pop("required", None)
    if isinstance(schema.get("items"), Mapping):
        out["items"] = json_schema(schema["items"])
    if isinstance(schema.get("properties"), Mapping):
        out["properties"] = {k: json_schema(v) for k, v in schema["properties"].items()}
    if "enum" in out and out.get("type") not in ("string", None):
        # BFCL spells some enums in another type than the parameter's: keep the type
        out.pop("enum")
    return out


def tool_spec(function: Mapping[str, Any]) -> ToolMetadata:
    """The tool the agent is offered for a BFCL function (no component: BFCL judges the call)."""
    required = set(function.get("parameters", {}).get("required", []))
    params = tuple(
        _param(name, schema, name in required) for name, schema in _properties(function).items()
    )
    return ToolMetadata(
        name=function["name"],
        description=str(function.get("description", "")),
        version="bfcl",
        params=params,
    )


def uses_json_text(function: Mapping[str, Any]) -> bool:
    """Whether a parameter of `function` is an array or object (a structured parameter)."""
    return any(p.get("type") in JSON_TEXT_TYPES for p in _properties(function).values())


def _decoded(value: Any, declared: str) -> Any:
    wanted = list if JSON_TEXT_TYPES[declared] == "list" else dict
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return value
        return decoded if isinstance(decoded, wanted) else value
    return value


def bfcl_call(call: ToolCall, function: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """`call` in BFCL's decoded form (array and object parameters decoded if written as text)."""
    properties = _properties(function) if function is not None else {}
    arguments: dict[str, Any] = {}
    for name, value in call.arguments.items():
        declared = str(properties.get(name, {}).get("type", ""))
        arguments[name] = _decoded(value, declared) if declared in JSON_TEXT_TYPES else value
    return {call.name: arguments}


def as_declared_floats(
    calls: Sequence[Mapping[str, Mapping[str, Any]]], functions: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, dict[str, Any]], ...]:
    """`calls` (BFCL's form) with every integer written where BFCL declares a `float` (nested
    ones too: items of float arrays, members of dicts) read as a float. JSON has one number
    type, and a tool host hands a number parameter to a tool as a double; BFCL's Python type
    check would fail `[1, 3]` for a list of floats. Every runner's calls are read this way."""
    by_name = {f["name"]: f for f in functions}
    out = []
    for call in calls:
        converted: dict[str, dict[str, Any]] = {}
        for name, arguments in call.items():
            properties = _properties(by_name[name]) if name in by_name else {}
            converted[name] = {
                key: _floats(value, properties.get(key, {})) for key, value in arguments.items()
            }
        out.append(converted)
    return tuple(out)


def _floats(value: Any, schema: Mapping[str, Any]) -> Any:
    declared = schema.get("type")
    if declared == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    items, properties = schema.get("items"), schema.get("properties")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [_floats(item, items) for item in value]
    if isinstance(value, dict) and isinstance(properties, Mapping):
        return {k: _floats(v, properties.get(k, {})) for k, v in value.items()}
    return value


def openai_tool(function: Mapping[str, Any]) -> dict[str, Any]:
    """A BFCL function as an OpenAI-style tool with JSON Schema types, as BFCL's own
    `convert_to_tool` makes it for function-calling models (`dict` is an object, `float` a
    number, `tuple` an array, `any` a string); names keep their dots."""
    parameters = json.loads(json.dumps(function.get("parameters", {})))
    parameters["type"] = "object"
    parameters["properties"] = _openapi_types(parameters.get("properties", {}))
    return {
        "type": "function",
        "function": {
            "name": function["name"],
            "description": function.get("description", ""),
            "parameters": parameters,
        },
    }


_OPENAPI: dict[str, str] = {
    **SCALAR_TYPES,
    **{name: "array" if kind == "list" else "object" for name, kind in JSON_TEXT_TYPES.items()},
}


def _openapi_types(properties: dict[str, Any]) -> dict[str, Any]:
    for schema in properties.values():
        schema["type"] = _OPENAPI.get(schema.get("type", "string"), "string")
        if "properties" in schema:
            schema["properties"] = _openapi_types(schema["properties"])
        items = schema.get("items")
        if isinstance(items, dict) and "type" in items:
            items["type"] = _OPENAPI.get(items["type"], "string")
            if "properties" in items:
                items["properties"] = _openapi_types(items["properties"])
            inner = items.get("items")
            if isinstance(inner, dict) and "type" in inner:
                inner["type"] = _OPENAPI.get(inner["type"], "string")
    return properties
