"""Check a JSON value against a parameter's `type_schema` before any wasm runs.

The schemas are the ones `wit_types` derives from WIT types, so the vocabulary is closed and
small: `type`, `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`, `items`,
`prefixItems`, `minItems`/`maxItems`, `uniqueItems`, `properties`, `required`,
`additionalProperties`, `oneOf` and `anyOf`. A keyword outside it is refused (the schema then
came from somewhere else), so nothing passes unchecked. Errors name where in the value the
problem is, as a JSON Pointer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

ANNOTATIONS = frozenset({"description", "title"})
KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
        "properties",
        "required",
        "additionalProperties",
        "oneOf",
        "anyOf",
    }
)


class SchemaMismatch(ValueError):
    """A value does not match a schema: `where` (a JSON Pointer) and what was expected."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where or '/'}: {message}")
        self.where = where
        self.message = message


def check(value: JsonValue, schema: Mapping[str, Any], where: str = "") -> None:
    """Raise SchemaMismatch unless `value` matches `schema` (see the module docstring)."""
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise SchemaMismatch(where, f"unsupported schema keyword {sorted(unknown)[0]!r}")
    if "oneOf" in schema or "anyOf" in schema:
        _alternatives(value, schema, where)
    if "type" in schema and not _has_type(value, schema["type"]):
        raise SchemaMismatch(where, f"expected {_a(schema['type'])}, got {_shown(value)}")
    if "const" in schema and not _same(value, schema["const"]):
        raise SchemaMismatch(where, f"expected {_shown(schema['const'])}, got {_shown(value)}")
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        options = ", ".join(str(option) for option in schema["enum"])
        raise SchemaMismatch(where, f"expected one of: {options} (got {_shown(value)})")
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        _bounds(value, schema, where)
    elif isinstance(value, str):
        _length(len(value), schema, where, "character")
    elif isinstance(value, list):
        _array(value, schema, where)
    elif isinstance(value, dict):
        _object(value, schema, where)


def _alternatives(value: JsonValue, schema: Mapping[str, Any], where: str) -> None:
    options: list[Mapping[str, Any]] = schema.get("oneOf", schema.get("anyOf", []))
    found = [_tag(option) for option in options]
    tags = [tag for tag in found if tag is not None]
    tagged = len(tags) == len(options)
    if tagged and isinstance(value, dict):
        pairs = zip(options, tags, strict=True)
        chosen = [o for o, (key, name) in pairs if _tagged_as(value, key, name)]
        if len(chosen) == 1:
            check(value, chosen[0], where)
            return
    problems = []
    for option in options:
        try:
            check(value, option, where)
        except SchemaMismatch as exc:
            problems.append(exc)
        else:
            return
    if tagged:
        shapes = " or ".join(
            f'{{"tag": "{name}", ...}}' if key == "tag" else f'{{"{key}": ...}}'
            for key, name in tags
        )
    else:
        shapes = " or ".join(_a(option.get("type", "value")) for option in options)
    raise SchemaMismatch(where, f"expected {shapes}, got {_shown(value)}")


def _tag(option: Mapping[str, Any]) -> tuple[str, str] | None:
    """How a tagged case is recognised: ("tag", case name) for `{"tag": "circle", ...}`, or
    (key, "") for an object with one required key (`{"ok": ...}`); None for other options."""
    properties = option.get("properties", {})
    tag = properties.get("tag", {}).get("const")
    if isinstance(tag, str):
        return "tag", tag
    required = option.get("required", [])
    if option.get("type") == "object" and len(required) == 1:
        return required[0], ""
    return None


def _tagged_as(value: dict[str, JsonValue], key: str, name: str) -> bool:
    return value.get("tag") == name if key == "tag" else key in value


def _bounds(value: float, schema: Mapping[str, Any], where: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(value, float) and not math.isfinite(value):
        raise SchemaMismatch(where, f"expected a finite number, got {value!r}")
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None:
        what = f"a value from {low} to {high}"
    else:
        what = f"a value of at least {low}" if low is not None else f"a value of at most {high}"
    raise SchemaMismatch(where, f"expected {what}, got {_shown(value)}")


def _length(size: int, schema: Mapping[str, Any], where: str, what: str) -> None:
    low = schema.get("minLength", schema.get("minItems"))
    high = schema.get("maxLength", schema.get("maxItems"))
    if (low is None or size >= low) and (high is None or size <= high):
        return
    if low == high:
        raise SchemaMismatch(where, f"expected exactly {low} {what}{'s' * (low != 1)}, got {size}")
    if high is None:
        raise SchemaMismatch(where, f"expected at least {low} {what}s, got {size}")
    raise SchemaMismatch(where, f"expected {low or 0} to {high} {what}s, got {size}")


def _array(value: list[JsonValue], schema: Mapping[str, Any], where: str) -> None:
    _length(len(value), schema, where, "item")
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        item_schema = prefix[index] if index < len(prefix) else schema.get("items")
        if item_schema is False:
            raise SchemaMismatch(f"{where}/{index}", "no item expected here")
        if isinstance(item_schema, Mapping):
            check(item, item_schema, f"{where}/{index}")
    if schema.get("uniqueItems"):
        seen: list[JsonValue] = []
        for index, item in enumerate(value):
            if any(_same(item, earlier) for earlier in seen):
                raise SchemaMismatch(f"{where}/{index}", f"{_shown(item)} is repeated")
            seen.append(item)


def _object(value: dict[str, JsonValue], schema: Mapping[str, Any], where: str) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in value]
    if missing:
        raise SchemaMismatch(where, f"missing {', '.join(repr(n) for n in missing)}")
    for name, item in value.items():
        inner = f"{where}/{_pointer(name)}"
        if name in properties:
            check(item, properties[name], inner)
        elif schema.get("additionalProperties", True) is False:
            expected = ", ".join(properties) or "none"
            raise SchemaMismatch(inner, f"unknown field (expected: {expected})")


def _has_type(value: JsonValue, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and math.isfinite(value) and float(value).is_integer()  # type: ignore[arg-type]
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return kind == "object" and isinstance(value, dict)


def _same(a: JsonValue, b: JsonValue) -> bool:
    """JSON equality: booleans are not numbers."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _a(kind: object) -> str:
    text = str(kind)
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
