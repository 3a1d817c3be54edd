"""JSON Schemas (2020-12) for WIT value types, read with wasmtime's component type introspection.

    bool                  {"type": "boolean"}
    s8 ... u64            {"type": "integer", "minimum": ..., "maximum": ...}  (the type's range)
    f32, f64              {"type": "number"} (f32 bounded by its largest finite value)
    char                  {"type": "string", "minLength": 1, "maxLength": 1}  (one code point)
    string                {"type": "string"}
    list<T>               {"type": "array", "items": T}
    tuple<A, B>           {"type": "array", "prefixItems": [A, B], "items": false, min/maxItems 2}
    record                {"type": "object", "properties": ..., "required": [fields not options],
                           "additionalProperties": false}
    option<T> (a field)   {"anyOf": [T, {"type": "null"}]}, and the field is optional
    enum                  {"type": "string", "enum": [cases]}
    flags                 {"type": "array", "items": {"type": "string", "enum": [...]},
                           "uniqueItems": true}
    variant               {"type": "object", "oneOf": [{"tag": {"const": case}, "value": T}...]}
    result<T, E>          {"type": "object", "oneOf": [{"ok": T}, {"err": E}]} (null when absent)

A parameter of type option<T> is an optional parameter of type T (absent or null: none).
Resources (own/borrow), futures, streams and error-context have no JSON form: `UnsupportedType`
names them. `values.py` lowers and lifts values by the same rules.
"""

from __future__ import annotations

from typing import Any

from wasmtime import component

from tool_runner.metadata import ToolParam
from tool_runner.values import INTEGER_RANGES, cases_of, check_cases

F32_MAX = 3.4028234663852886e38
_NO_JSON = {
    component.OwnType: "a resource handle",
    component.BorrowType: "a borrowed resource handle",
    component.FutureType: "a future",
    component.StreamType: "a stream",
    component.ErrorContext: "an error-context",
}


class UnsupportedType(ValueError):
    """A WIT type with no JSON form (resources, futures, streams, error-context, option of
    option); the message says which."""


def value_schema(ty: Any) -> dict[str, Any]:
    """The JSON Schema of one value of WIT type `ty`; raises UnsupportedType."""
    for kind, what in _NO_JSON.items():
        if isinstance(ty, kind):
            raise UnsupportedType(f"{what} has no JSON form")
    if isinstance(ty, component.Bool):
        return {"type": "boolean"}
    if type(ty) in INTEGER_RANGES:
        low, high = INTEGER_RANGES[type(ty)]
        return {"type": "integer", "minimum": low, "maximum": high}
    if isinstance(ty, component.F32):
        return {"type": "number", "minimum": -F32_MAX, "maximum": F32_MAX}
    if isinstance(ty, component.F64):
        return {"type": "number"}
    if isinstance(ty, component.Char):
        return {"type": "string", "minLength": 1, "maxLength": 1}
    if isinstance(ty, component.String):
        return {"type": "string"}
    return _compound_schema(ty)


def _compound_schema(ty: Any) -> dict[str, Any]:
    if isinstance(ty, component.VariantType | component.ResultType | component.OptionType):
        problem = check_cases(cases_of(ty))
        if problem is not None:
            raise UnsupportedType(f"a {wit_spelling(ty)}: {problem}")
    if isinstance(ty, component.ListType):
        return {"type": "array", "items": value_schema(ty.element)}
    if isinstance(ty, component.TupleType):
        items = [value_schema(element) for element in ty.elements]
        size = len(items)
        return {
            "type": "array",
            "prefixItems": items,
            "items": False,
            "minItems": size,
            "maxItems": size,
        }
    if isinstance(ty, component.RecordType):
        return _record_schema(ty.fields)
    if isinstance(ty, component.OptionType):
        return {"anyOf": [option_payload_schema(ty), {"type": "null"}]}
    if isinstance(ty, component.EnumType):
        return {"type": "string", "enum": list(ty.names)}
    if isinstance(ty, component.FlagsType):
        names = {"type": "string", "enum": list(ty.names)}
        return {"type": "array", "items": names, "uniqueItems": True}
    if isinstance(ty, component.VariantType):
        return {"type": "object", "oneOf": [_case_schema(n, p) for n, p in ty.cases]}
    if isinstance(ty, component.ResultType):
        cases = [_keyed_schema("ok", ty.ok), _keyed_schema("err", ty.err)]
        return {"type": "object", "oneOf": cases}
    raise UnsupportedType(f"the type {type(ty).__name__} is not supported")


def option_payload_schema(ty: Any) -> dict[str, Any]:
    """The schema of an option's payload; raises UnsupportedType for an option of an option
    (`none` and `some(none)` would both be JSON null)."""
    if isinstance(ty.payload, component.OptionType):
        raise UnsupportedType("an option of an option has no JSON form")
    return value_schema(ty.payload)


def _record_schema(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: value_schema(ty) for name, ty in fields},
        "required": [name for name, ty in fields if not isinstance(ty, component.OptionType)],
        "additionalProperties": False,
    }


def _case_schema(name: str, payload: Any | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"tag": {"const": name}}
    if payload is not None:
        properties["value"] = value_schema(payload)
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _keyed_schema(key: str, payload: Any | None) -> dict[str, Any]:
    value = value_schema(payload) if payload is not None else {"type": "null"}
    return {
        "type": "object",
        "properties": {key: value},
        "required": [key],
        "additionalProperties": False,
    }


def tool_param(name: str, ty: Any) -> ToolParam:
    """The ToolParam of a function parameter `name: ty` (an option<T> is an optional T), its
    description the WIT type's spelling; raises UnsupportedType."""
    required = not isinstance(ty, component.OptionType)
    schema = value_schema(ty) if required else option_payload_schema(ty)
    description = wit_spelling(ty)
    kind = schema["type"]
    rest = {key: value for key, value in schema.items() if key != "type"}
    if kind in ("integer", "number") and set(rest) <= {"minimum", "maximum"}:
        return ToolParam(name=name, description=description, type=kind, required=required, **rest)
    if kind == "string" and set(rest) <= {"enum"}:
        enum = tuple(rest.get("enum", ()))
        return ToolParam(
            name=name, description=description, type=kind, required=required, enum=enum
        )
    if kind == "boolean":
        return ToolParam(name=name, description=description, type=kind, required=required)
    return ToolParam(
        name=name, description=description, type=kind, required=required, type_schema=schema
    )


def wit_spelling(ty: Any) -> str:
    """A short WIT spelling of `ty` for descriptions: `u8`, `list<record>`, `option<string>`
    (records, enums, flags and variants by their kind: the schema spells them out)."""
    simple = {
        component.Bool: "bool",
        component.F32: "f32",
        component.F64: "f64",
        component.Char: "char",
        component.String: "string",
    } | {kind: kind.__name__.lower() for kind in INTEGER_RANGES}
    if type(ty) in simple:
        return simple[type(ty)]
    if isinstance(ty, component.ListType):
        return f"list<{wit_spelling(ty.element)}>"
    if isinstance(ty, component.OptionType):
        return f"option<{wit_spelling(ty.payload)}>"
    if isinstance(ty, component.TupleType):
        return f"tuple<{', '.join(wit_spelling(e) for e in ty.elements)}>"
    if isinstance(ty, component.ResultType):
        ok = wit_spelling(ty.ok) if ty.ok is not None else "_"
        err = wit_spelling(ty.err) if ty.err is not None else "_"
        return f"result<{ok}, {err}>"
    named = {
        component.RecordType: "record",
        component.EnumType: "enum",
        component.FlagsType: "flags",
        component.VariantType: "variant",
    }
    return named.get(type(ty), type(ty).__name__)
