"""Calling a component export with its type read once: a `Signature` per export.

wasmtime-py's `component.Func.__call__` asks the C API for the function's type on every call and
walks every value type again while converting (each record's fields, each list's element, each
result's cases: a C call apiece), which costs more than the call itself. A `Signature` does that
walk once, when the export is first called, and keeps plain Python converters: a lowering
function per parameter (Python value -> `wasmtime_component_val_t`) and a lifting function for the
result. Types are engine-level (they outlive the store they were read in), so one signature
serves every instance of the component.

The values produced are exactly wasmtime-py's (`Record`, `Variant`, tuples, sets, `bytes` for
`list<u8>`, an untagged option or variant as its payload), so a caller cannot tell which path
ran. A type this module does not convert (resources, futures, streams, maps, error contexts) makes
`Signature.of` return None, and the caller uses wasmtime-py's own call.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from ctypes import byref
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component
from wasmtime.component._enter import enter_wasm

Val = Any  # ffi.wasmtime_component_val_t: a view into C memory
Lower = Callable[[Any, Val], None]
Lift = Callable[[Val], Any]

_K = {name: getattr(ffi, f"WASMTIME_COMPONENT_{name}").value for name in (
    "BOOL", "S8", "U8", "S16", "U16", "S32", "U32", "S64", "U64", "F32", "F64", "CHAR",
    "STRING", "LIST", "RECORD", "TUPLE", "VARIANT", "ENUM", "OPTION", "RESULT", "FLAGS",
)}  # fmt: skip
_SCALARS: dict[type, tuple[str, str, type]] = {
    component.Bool: ("BOOL", "boolean", bool),
    component.S8: ("S8", "s8", int),
    component.U8: ("U8", "u8", int),
    component.S16: ("S16", "s16", int),
    component.U16: ("U16", "u16", int),
    component.S32: ("S32", "s32", int),
    component.U32: ("U32", "u32", int),
    component.S64: ("S64", "s64", int),
    component.U64: ("U64", "u64", int),
    component.F32: ("F32", "f32", float),
    component.F64: ("F64", "f64", float),
}


class Unsupported(Exception):
    """A value type this module leaves to wasmtime-py."""


class Signature:
    """How to lower the parameters of one export and lift its result, read from its type once."""

    def __init__(self, params: Sequence[Lower], result: Lift | None) -> None:
        self.params = tuple(params)
        self.result = result

    @classmethod
    def of(cls, func_type: component.FuncType) -> Signature | None:
        """The signature of `func_type`, or None when a type needs wasmtime-py's converters."""
        try:
            params = [_lowerer(ty) for _name, ty in func_type.params]
            result = func_type.result
            return cls(params, _lifter(result) if result is not None else None)
        except Unsupported:
            return None

    def call(self, func: component.Func, store: wasmtime.Store, args: Sequence[Any]) -> Any:
        """Call `func` in `store` with `args`; raises what wasmtime-py's call raises (traps as
        WasmtimeError, a wrong Python value as TypeError or ValueError)."""
        count = len(self.params)
        if len(args) != count:
            raise TypeError(f"wrong number of parameters: given {len(args)}, expected {count}")
        vals = (ffi.wasmtime_component_val_t * count)()
        lowered = 0
        try:
            for lower, arg in zip(self.params, args, strict=True):
                lower(arg, vals[lowered])
                lowered += 1
            result = ffi.wasmtime_component_val_t()
            has_result = self.result is not None
            context = store._context()
            enter_wasm(
                lambda: ffi.wasmtime_component_func_call(
                    byref(func._func),
                    context,
                    vals,
                    count,
                    byref(result) if has_result else None,
                    1 if has_result else 0,
                )
            )
            if self.result is None:
                return None
            try:
                return self.result(result)
            finally:
                ffi.wasmtime_component_val_delete(byref(result))
        finally:
            for index in range(lowered):
                ffi.wasmtime_component_val_delete(byref(vals[index]))


def _name_vec(text: str) -> Any:
    """A C-owned copy of `text` as a `wasm_name_t`."""
    return _copied_vec(_utf8(text))


def _utf8(text: str) -> tuple[int, Any]:
    """`text` as UTF-8 in a ctypes buffer, with its size (to copy from, again and again)."""
    data = text.encode("utf-8")
    return len(data), (ctypes.c_ubyte * len(data)).from_buffer_copy(data)


def _copied_vec(encoded: tuple[int, Any]) -> Any:
    """A C-owned copy of an `_utf8` buffer as a `wasm_name_t` (wasmtime frees it)."""
    vec = ffi.wasm_byte_vec_t()
    ffi.wasm_byte_vec_new(byref(vec), encoded[0], encoded[1])
    return vec


def _text(vec: Any) -> str:
    return ctypes.string_at(vec.data, vec.size).decode("utf-8")


def _lowerer(ty: Any) -> Lower:  # noqa: C901 - one branch per value type
    scalar = _SCALARS.get(type(ty))
    if scalar is not None:
        return _lower_scalar(*scalar)
    if isinstance(ty, component.Char):

        def lower_char(value: Any, c: Val) -> None:
            if not isinstance(value, str) or len(value) != 1:
                raise TypeError("expected a one-character string")
            c.kind = _K["CHAR"]
            c.of.character = ord(value)

        return lower_char
    if isinstance(ty, (component.String, component.EnumType)):
        kind, field = (
            ("STRING", "string") if isinstance(ty, component.String) else ("ENUM", "enumeration")
        )
        return _lower_text(_K[kind], field)
    if isinstance(ty, component.ListType):
        element = ty.element
        if isinstance(element, component.U8):
            return _lower_bytes()
        return _lower_list(_lowerer(element))
    if isinstance(ty, component.RecordType):
        return _lower_record([(name, _lowerer(field)) for name, field in ty.fields])
    if isinstance(ty, component.TupleType):
        return _lower_tuple([_lowerer(element) for element in ty.elements])
    if isinstance(ty, (component.VariantType, component.OptionType, component.ResultType)):
        return _lower_variant_like(ty)
    if isinstance(ty, component.FlagsType):
        return _lower_flags()
    raise Unsupported(type(ty).__name__)


def _lower_scalar(kind: str, field: str, python: type) -> Lower:
    code = _K[kind]

    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, python) or (python is int and isinstance(value, bool)):
            raise TypeError(f"expected {python.__name__}, got {type(value).__name__}")
        c.kind = code
        setattr(c.of, field, value)

    return lower


def _lower_text(code: int, field: str) -> Lower:
    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        setattr(c.of, field, _name_vec(value))
        c.kind = code

    return lower


def _lower_bytes() -> Lower:
    code = _K["LIST"]

    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"expected bytes, got {type(value).__name__}")
        raw = ffi.wasmtime_component_vallist_t()
        ffi.wasmtime_component_vallist_new_uninit(byref(raw), len(value))
        data = raw.data
        for index, byte in enumerate(value):
            data[index].kind = _K["U8"]
            data[index].of.u8 = byte
        c.of.list = raw
        c.kind = code

    return lower


def _fill(data: Any, items: Sequence[Any], lowerers: Sequence[Lower], entry_val: bool) -> None:
    """Lower `items` into the uninitialised `data`; on failure make every slot valid (a false
    bool) so that the container can be deleted, then re-raise."""
    done = 0
    try:
        for lower, item in zip(lowerers, items, strict=True):
            slot = data[done]
            lower(item, slot.val if entry_val else slot)
            done += 1
    except BaseException:
        for index in range(done, len(items)):
            slot = data[index].val if entry_val else data[index]
            slot.kind = _K["BOOL"]
            slot.of.boolean = False
        raise


def _lower_list(element: Lower) -> Lower:
    code = _K["LIST"]

    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, list):
            raise TypeError(f"expected list, got {type(value).__name__}")
        raw = ffi.wasmtime_component_vallist_t()
        ffi.wasmtime_component_vallist_new_uninit(byref(raw), len(value))
        try:
            _fill(raw.data, value, [element] * len(value), entry_val=False)
        except BaseException:
            ffi.wasmtime_component_vallist_delete(byref(raw))
            raise
        c.of.list = raw
        c.kind = code

    return lower


def _lower_record(fields: list[tuple[str, Lower]]) -> Lower:
    code = _K["RECORD"]
    lowerers = [lower for _name, lower in fields]
    names = [name for name, _lower in fields]
    encoded = [_utf8(name) for name in names]  # the field names, encoded once per signature

    def lower(value: Any, c: Val) -> None:
        items = [getattr(value, name) for name in names]  # AttributeError before any C memory
        raw = ffi.wasmtime_component_valrecord_t()
        ffi.wasmtime_component_valrecord_new_uninit(byref(raw), len(fields))
        data = raw.data
        for index, name in enumerate(encoded):
            data[index].name = _copied_vec(name)
        try:
            _fill(data, items, lowerers, entry_val=True)
        except BaseException:
            ffi.wasmtime_component_valrecord_delete(byref(raw))
            raise
        c.of.record = raw
        c.kind = code

    return lower


def _lower_tuple(elements: list[Lower]) -> Lower:
    code = _K["TUPLE"]

    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, tuple) or len(value) != len(elements):
            raise TypeError(f"expected a tuple of {len(elements)}")
        raw = ffi.wasmtime_component_valtuple_t()
        ffi.wasmtime_component_valtuple_new_uninit(byref(raw), len(elements))
        try:
            _fill(raw.data, value, elements, entry_val=False)
        except BaseException:
            ffi.wasmtime_component_valtuple_delete(byref(raw))
            raise
        c.of.tuple = raw
        c.kind = code

    return lower


def _lower_variant_like(ty: Any) -> Lower:
    # Everything but the payload is what wasmtime-py does; it walks the cases on every call.
    [_lowerer(case) for _name, case in ty._cases() if case is not None]  # Unsupported early

    def lower(value: Any, c: Val) -> None:
        ty.convert_to_c(None, value, ctypes.pointer(c))

    return lower


def _lower_flags() -> Lower:
    def lower(value: Any, c: Val) -> None:
        if not isinstance(value, set) or not all(isinstance(name, str) for name in value):
            raise TypeError("expected a set of strings")
        raw = ffi.wasmtime_component_valflags_t()
        ffi.wasmtime_component_valflags_new_uninit(byref(raw), len(value))
        for index, name in enumerate(value):
            raw.data[index] = _name_vec(name)
        c.of.flags = raw
        c.kind = _K["FLAGS"]

    return lower


def _lifter(ty: Any) -> Lift:  # noqa: C901 - one branch per value type
    scalar = _SCALARS.get(type(ty))
    if scalar is not None:
        field = scalar[1]
        return lambda c: getattr(c.of, field)
    if isinstance(ty, component.Char):
        return lambda c: chr(c.of.character)
    if isinstance(ty, component.String):
        return lambda c: _text(c.of.string)
    if isinstance(ty, component.EnumType):
        return lambda c: _text(c.of.enumeration)
    if isinstance(ty, component.ListType):
        element = ty.element
        if isinstance(element, component.U8):
            return lambda c: bytes(c.of.list.data[i].of.u8 for i in range(c.of.list.size))
        lift = _lifter(element)
        return lambda c: [lift(c.of.list.data[i]) for i in range(c.of.list.size)]
    if isinstance(ty, component.RecordType):
        return _lift_record([(name, _lifter(field)) for name, field in ty.fields])
    if isinstance(ty, component.TupleType):
        lifts = [_lifter(element) for element in ty.elements]
        return lambda c: tuple(lift(c.of.tuple.data[i]) for i, lift in enumerate(lifts))
    if isinstance(ty, component.FlagsType):
        return lambda c: {_text(c.of.flags.data[i]) for i in range(c.of.flags.size)}
    if isinstance(ty, (component.VariantType, component.OptionType, component.ResultType)):
        return _lift_variant_like(ty)
    raise Unsupported(type(ty).__name__)


def _lift_record(fields: list[tuple[str, Lift]]) -> Lift:
    def lift(c: Val) -> Any:
        record = component.Record()
        data = c.of.record.data
        for index, (name, lift_field) in enumerate(fields):
            setattr(record, name, lift_field(data[index].val))
        return record

    return lift


def _lift_variant_like(ty: Any) -> Lift:
    cases = {name: (_lifter(case) if case is not None else None) for name, case in ty._cases()}
    tagged = bool(ty._tagged())

    def payload(tag: str, pointer: Any) -> Any:
        lift = cases[tag]
        value = lift(pointer.contents) if lift is not None else None
        return component.Variant(tag, value) if tagged else value

    if isinstance(ty, component.ResultType):
        return lambda c: payload("ok" if c.of.result.is_ok else "err", c.of.result.val)
    if isinstance(ty, component.OptionType):
        return lambda c: payload("some", c.of.option) if c.of.option else payload("none", None)
    return lambda c: payload(_text(c.of.variant.discriminant), c.of.variant.val)
