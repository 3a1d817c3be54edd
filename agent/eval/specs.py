"""BFCL function schemas as the agent's tool specs, and the model's calls back in BFCL's form.

    tool = tool_spec(function)                 # a ToolMetadata the syntaxes describe and constrain
    call = bfcl_call(tool_call, function)      # {name: {param: value}}, as BFCL's checker wants it

A tool parameter is a string, integer, number or boolean (`tool_runner.ToolParam`). BFCL's
scalar types map onto those (`float` is a number, `any` a string); an array, tuple or dict
parameter cannot be expressed yet, so it becomes a string parameter whose description asks for
JSON text, and the text the model writes is decoded back into a list or dict before BFCL judges
it (a value that does not decode stays a string and fails BFCL's type check). `uses_json_text`
says which cases needed that. BFCL's `enum` lists go into the description ("One of: ...") and,
for string parameters, into the tool spec's `enum`, which the grammar enforces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    if "enum" in schema:
        description += " One of: " + ", ".join(str(v) for v in schema["enum"]) + "."
    if declared in JSON_TEXT_TYPES:
        kind = "an array" if JSON_TEXT_TYPES[declared] == "list" else "an object"
        description += f" Write it as JSON text ({kind})."
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
    """Whether a parameter of `function` is an array or object passed as JSON text."""
    return any(p.get("type") in JSON_TEXT_TYPES for p in _properties(function).values())


def _decoded(value: Any, declared: str) -> Any:
    wanted = list if JSON_TEXT_TYPES[declared] == "list" else dict
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, wanted) else value
    return value


def bfcl_call(call: ToolCall, function: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """`call` in BFCL's decoded form, array and object parameters decoded from their JSON text."""
    properties = _properties(function) if function is not None else {}
    arguments: dict[str, Any] = {}
    for name, value in call.arguments.items():
        declared = str(properties.get(name, {}).get("type", ""))
        arguments[name] = _decoded(value, declared) if declared in JSON_TEXT_TYPES else value
    return {call.name: arguments}


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
