"""JSON values to component values and back, by the WIT type (the shapes `wit_types` describes).

`lower(value, ty)` takes a JSON value that matched the type's schema and builds what wasmtime-py
passes to the guest; `lift(value, ty)` turns what the guest returned into JSON. wasmtime-py
represents a variant, option or result as a bare payload when the Python classes of its cases
do not overlap ("untagged"), else as `Variant(tag, payload)`; both directions follow the same
rule (`is_tagged`), and a type whose untagged cases Python cannot tell apart (a bool and an
integer payload: `bool` is an `int`) is refused by `check_cases`. A non-finite float a guest
returns has no JSON form and lifts to null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import JsonValue
from wasmtime import component

Cases = Sequence[tuple[str, Any | None]]
INTEGER_RANGES: dict[type, tuple[int, int]] = {
    component.U8: (0, 2**8 - 1),
    component.U16: (0, 2**16 - 1),
    component.U32: (0, 2**32 - 1),
    component.U64: (0, 2**64 - 1),
    component.S8: (-(2**7), 2**7 - 1),
    component.S16: (-(2**15), 2**15 - 1),
    component.S32: (-(2**31), 2**31 - 1),
    component.S64: (-(2**63), 2**63 - 1),
}
"""The inclusive range of each WIT integer type."""


class LoweringError(ValueError):
    """A JSON value that does not fit the WIT type (the schema check should have caught it)."""


def cases_of(ty: Any) -> list[tuple[str, Any | None]]:
    """The (name, payload type or None) cases of a variant, option or result type."""
    if isinstance(ty, component.OptionType):
        return [("none", None), ("some", ty.payload)]
    if isinstance(ty, component.ResultType):
        return [("ok", ty.ok), ("err", ty.err)]
    return list(ty.cases)


def _classes(payload: Any | None) -> set[type]:
    found: set[type] = set()
    if payload is None:
        found.add(object)
    else:
        payload.add_classes(found)
    return found


def is_tagged(cases: Cases) -> bool:
    """Whether wasmtime-py represents these cases as `Variant(tag, payload)` (some two cases'
    payload classes overlap) rather than as the bare payload."""
    seen: set[type] = set()
    for _, payload in cases:
        classes = _classes(payload)
        if classes & seen:
            return True
        seen |= classes
    return False


def check_cases(cases: Cases) -> str | None:
    """Why an untagged set of cases cannot be told apart by the payload's class, or None."""
    if is_tagged(cases):
        return None
    sets = [_classes(payload) - {object} for _, payload in cases]
    for index, classes in enumerate(sets):
        for other in sets[:index]:
            if any(issubclass(a, b) or issubclass(b, a) for a in classes for b in other):
                return "its cases' payloads (a bool and an integer) cannot be told apart"
    return None


def lower(value: JsonValue, ty: Any) -> Any:
    """The wasmtime-py value of JSON `value` for WIT type `ty`; raises LoweringError."""
    try:
        return _lower(value, ty)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        if isinstance(exc, LoweringError):
            raise
        raise LoweringError(f"the value does not fit the WIT type ({exc})") from None


def _lower(value: Any, ty: Any) -> Any:
    if isinstance(ty, component.Bool):
        if not isinstance(value, bool):
            raise LoweringError(f"expected a boolean, got {value!r}")
        return value
    if isinstance(ty, component.F32 | component.F64):
        return float(value)
    if isinstance(ty, component.Char | component.String | component.EnumType):
        if not isinstance(value, str):
            raise LoweringError(f"expected a string, got {value!r}")
        if isinstance(ty, component.Char) and len(value) != 1:
            raise LoweringError(f"expected one character, got {len(value)}")
        # no UTF-8 form: lowering fails, and for a char wasmtime's C API aborts the process
        value.encode("utf-8")
        if isinstance(ty, component.EnumType) and value not in ty.names:
            raise LoweringError(f"{value!r} is not one of the enum's cases")
        return value
    if type(ty) in INTEGER_RANGES:
        return _integer(value, INTEGER_RANGES[type(ty)])
    if isinstance(ty, component.ListType):
        items = [_lower(item, ty.element) for item in value]
        return bytes(items) if isinstance(ty.element, component.U8) else items
    if isinstance(ty, component.TupleType):
        return tuple(_lower(item, t) for item, t in zip(value, ty.elements, strict=True))
    if isinstance(ty, component.RecordType):
        record = component.Record()
        for name, field in ty.fields:
            item = value.get(name)
            setattr(record, name, None if item is None else _lower(item, field))
        return record
    if isinstance(ty, component.FlagsType):
        unknown = set(value) - set(ty.names)
        if unknown:
            raise LoweringError(f"unknown flag {sorted(unknown)[0]!r}")
        return set(value)
    if isinstance(ty, component.OptionType):
        return None if value is None else _lower(value, ty.payload)
    return _lower_case(value, ty)


def _integer(value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LoweringError(f"expected an integer, got {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise LoweringError(f"expected an integer, got {value!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise LoweringError(f"{value} is out of range {bounds[0]}..{bounds[1]}")
    return int(value)


def _lower_case(value: Any, ty: Any) -> Any:
    """A variant (`{"tag": name, "value": payload}`) or result (`{"ok": v}` / `{"err": e}`)."""
    cases = cases_of(ty)
    if isinstance(ty, component.ResultType):
        tag = "ok" if "ok" in value else "err"
        payload_value = value[tag]
    else:
        tag = value["tag"]
        payload_value = value.get("value")
    payload_type = dict(cases)[tag]
    payload = None if payload_type is None else _lower(payload_value, payload_type)
    if is_tagged(cases):
        return component.Variant(tag, payload)
    return payload


def lift(value: Any, ty: Any) -> JsonValue:
    """The JSON form of what the guest returned, `value` of WIT type `ty`."""
    if isinstance(ty, component.F32 | component.F64):
        return value if math.isfinite(value) else None
    if isinstance(ty, component.ListType):
        return [lift(item, ty.element) for item in value]
    if isinstance(ty, component.TupleType):
        return [lift(item, t) for item, t in zip(value, ty.elements, strict=True)]
    if isinstance(ty, component.RecordType):
        return {name: lift(getattr(value, name), field) for name, field in ty.fields}
    if isinstance(ty, component.FlagsType):
        return [name for name in ty.names if name in value]
    if isinstance(ty, component.OptionType):
        return None if value is None else lift(value, ty.payload)
    if isinstance(ty, component.VariantType | component.ResultType):
        tag, payload = lift_case(value, ty)
        if isinstance(ty, component.ResultType):
            return {tag: payload}
        return {"tag": tag} if dict(cases_of(ty))[tag] is None else {"tag": tag, "value": payload}
    return value  # type: ignore[no-any-return]  # bool, integers, char, string, enum


def lift_case(value: Any, ty: Any) -> tuple[str, JsonValue]:
    """(case name, lifted payload or None) of a variant or result value."""
    cases = cases_of(ty)
    if is_tagged(cases):
        tag, raw = value.tag, value.payload
    else:
        tag = next(name for name, payload in cases if _is_case(value, payload))
        raw = value
    payload_type = dict(cases)[tag]
    return tag, None if payload_type is None else lift(raw, payload_type)


def _is_case(value: Any, payload: Any | None) -> bool:
    if payload is None:
        return value is None
    return isinstance(value, tuple(_classes(payload)))
