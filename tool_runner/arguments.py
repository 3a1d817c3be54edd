"""Validate a caller's arguments against a tool's metadata and put them in canonical form.

Runs before any wasm: unknown names, missing required parameters and values that do not parse
as the declared type are rejected with a message that names the parameter and what was
expected. Canonical forms: integers in decimal, booleans `true`/`false`, numbers as Python's
`repr(float)` or the integer form when integral, strings unchanged. Integers have at most
`MAX_INTEGER_DIGITS` digits: a longer one (which Python would refuse to convert past 4,300
digits) is a bad argument like any other, never an exception.

A parameter with a `type_schema` (a WIT record, list, variant...) takes a JSON value, or its JSON
text (as `--arg NAME=JSON` gives it), checked against the schema (`schema_check`); its canonical
form is compact JSON text (a `char`, a string-typed schema, stays the string itself).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from tool_runner.errors import ArgumentsError
from tool_runner.metadata import ArgValue, ToolMetadata, ToolParam
from tool_runner.schema_check import SchemaMismatch, check

INTEGER = re.compile(r"[+-]?[0-9]+")  # with fullmatch: a decimal integer, as text
MAX_INTEGER_DIGITS = 1000
_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def canonical_arguments(metadata: ToolMetadata, args: Mapping[str, ArgValue]) -> dict[str, str]:
    """Return the arguments as canonical strings in parameter order; raises ArgumentsError."""
    known = {p.name for p in metadata.params}
    unknown = sorted(name for name in args if name not in known)
    if unknown:
        expected = ", ".join(p.name for p in metadata.params) or "no parameters"
        raise ArgumentsError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)} (expected: {expected})"
        )
    missing = [p.name for p in metadata.params if p.required and args.get(p.name) is None]
    if missing:
        raise ArgumentsError(
            f"missing required parameter{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(n) for n in missing)
        )
    canonical: dict[str, str] = {}
    for param in metadata.params:
        value = args.get(param.name)
        if value is not None:
            canonical[param.name] = _unicode(param, canonical_value(param, value))
    return canonical


def _unicode(param: ToolParam, text: str) -> str:
    """`text` when it is valid Unicode; a lone surrogate (which JSON's `\ud800` escape can
    write) has no UTF-8 form, and lowering it into a component fails (for a `char`, wasmtime's
    C API aborts the process), so it is a bad argument here; raises ArgumentsError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ArgumentsError(
            f"parameter {param.name!r} is not valid Unicode (it holds a lone surrogate)"
        ) from None
    return text


def canonical_value(param: ToolParam, value: ArgValue) -> str:
    """One value in canonical form for `param`'s type, within its enum or bounds; raises
    ArgumentsError."""
    if value is None:
        raise ArgumentsError(f"parameter {param.name!r} has no value")
    if param.type_schema is not None:
        return _structured(param, param.type_schema, value)
    if isinstance(value, list | dict):
        raise _expected(param, f"a{'n' * (param.type == 'integer')} {param.type}", value)
    if param.type == "string":
        text = _string(param, value)
        return _enum_value(param, text) if param.enum else text
    if param.type == "integer":
        return _within_bounds(param, _integer(param, value))
    if param.type == "number":
        return _within_bounds(param, _number(param, value))
    return _boolean(param, value)


def _structured(param: ToolParam, schema: Mapping[str, object], value: ArgValue) -> str:
    """Compact JSON text of `value` (JSON text is read first) when it matches the parameter's
    `type_schema`; raises ArgumentsError naming where it does not."""
    if isinstance(value, str) and param.type in ("array", "object"):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise _expected(param, f"{param.type} as JSON", value) from None
    try:
        check(value, schema)
    except SchemaMismatch as exc:
        where = f" at {exc.where}" if exc.where else ""
        raise ArgumentsError(f"parameter {param.name!r}{where}: {exc.message}") from None
    except RecursionError:
        raise ArgumentsError(f"parameter {param.name!r}: the value nests too deeply") from None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _enum_value(param: ToolParam, text: str) -> str:
    """The enum's own spelling of `text` (matched exactly, else ignoring case and surrounding
    spaces); raises ArgumentsError listing the values."""
    if text in param.enum:
        return text
    folded = [value for value in param.enum if value.casefold() == text.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise ArgumentsError(
        f"parameter {param.name!r} expects one of: {', '.join(param.enum)} (got {shown!r})"
    )


def _within_bounds(param: ToolParam, text: str) -> str:
    """`text` (a canonical number) when it is within `param`'s bounds; raises ArgumentsError."""
    low, high = param.minimum, param.maximum
    number = int(text) if INTEGER.fullmatch(text) else float(text)
    if (low is None or number >= low) and (high is None or number <= high):
        return text
    if low is not None and high is not None:
        what = f"a value from {low} to {high}"
    else:
        what = f"a value of at least {low}" if low is not None else f"a value of at most {high}"
    raise _expected(param, what, number)


def read_integer(text: str) -> int | None:
    """A decimal integer written as `text` (sign allowed), or None when it is not one or has
    more than MAX_INTEGER_DIGITS digits."""
    if not INTEGER.fullmatch(text) or len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        return None
    return int(text)


def _decimal(param: ToolParam, value: int) -> str:
    if abs(value) >= _INTEGER_LIMIT:
        raise ArgumentsError(
            f"parameter {param.name!r} expects at most {MAX_INTEGER_DIGITS} digits, got a longer "
            "integer"
        )
    return str(value)


def _string(param: ToolParam, value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _format_number(value)
    return _decimal(param, value) if isinstance(value, int) else value


def _integer(param: ToolParam, value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        raise _expected(param, "an integer", value)
    if isinstance(value, int):
        return _decimal(param, value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        raise _expected(param, "an integer", value)
    text = value.strip()
    if INTEGER.fullmatch(text):
        whole = read_integer(text)
        if whole is None:
            raise _expected(param, f"an integer of at most {MAX_INTEGER_DIGITS} digits", text)
        return str(whole)
    try:
        number = float(text)
    except ValueError:
        raise _expected(param, "an integer", value) from None
    if math.isfinite(number) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    raise _expected(param, "an integer", value)


def _number(param: ToolParam, value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        raise _expected(param, "a number", value)
    if isinstance(value, int):
        return _decimal(param, value)
    if isinstance(value, str):
        text = value.strip()
        whole = read_integer(text)
        if whole is not None:
            return str(whole)
        try:
            value = float(text.replace("_", "#"))
        except ValueError:
            raise _expected(param, "a number", text) from None
    if not math.isfinite(value):
        raise _expected(param, "a finite number", value)
    return _format_number(value)


def _boolean(param: ToolParam, value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value in (0, 1):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return "true"
        if text in _FALSE:
            return "false"
    raise _expected(param, "a boolean (true or false)", value)


def _format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _expected(param: ToolParam, what: str, value: object) -> ArgumentsError:
    if isinstance(value, int) and abs(value) >= _INTEGER_LIMIT:  # repr would raise
        shown = f"an integer of more than {MAX_INTEGER_DIGITS} digits"
    else:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return ArgumentsError(f"parameter {param.name!r} expects {what}, got {shown}")
