"""Loading components: both tool worlds, one-line load errors, load_dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime
from toolspec import Param
from wat_components import HOSTILE, Spec, component_wat

from tool_runner import (
    CompileError,
    ComponentNotFoundError,
    CoreModuleError,
    LoadError,
    MetadataError,
    NotWasmError,
    ResultKind,
    ToolRunner,
    UnknownWorldError,
    UnsatisfiedImportsError,
)


def test_llm_agent_world_component(runner: ToolRunner, echo_path: Path) -> None:
    tool = runner.load(echo_path)
    assert (tool.name, tool.world, tool.path) == ("Echo", "llm-agent", echo_path)
    assert tool.metadata.version == "0.1.0"
    assert [(p.name, p.type, p.required) for p in tool.metadata.params] == [
        ("value", "string", True)
    ]
    assert tool.json_schema()["required"] == ["value"]
    assert tool.call({"value": "Hello"}).output == "Hello"


def test_seed_world_component(
    runner: ToolRunner, seed_echo_path: Path, write_component: Callable[[Spec, str], Path]
) -> None:
    tool = runner.load(seed_echo_path)
    assert (tool.name, tool.world, tool.metadata.world) == ("Echo", "seed", "seed")
    assert tool.call({"value": "Hello"}).output == "Hello"
    seed_hostile = runner.load(write_component(_seed(HOSTILE), "seed-hostile"))
    assert seed_hostile.metadata.usage[0].assistant == '{"mode": "loop"}'  # from `assistent`
    failed = seed_hostile.call({"mode": "Error", "arg": "nope"})
    assert (failed.kind, failed.error) == (ResultKind.TOOL_ERROR, "nope")


def _seed(spec: Spec) -> Spec:
    return Spec(**{**spec.__dict__, "world": "seed"})


def test_typed_parameters_reach_the_guest_in_canonical_form(
    runner: ToolRunner, write_component: Callable[[Spec, str], Path]
) -> None:
    spec = Spec(
        name="typed",
        params=(
            Param("count", "c", "integer"),
            Param("ratio", "r", "number", required=False),
            Param("flag", "f", "boolean", required=False),
        ),
        behaviour="join",
    )
    tool = runner.load(write_component(spec, "typed"))
    result = tool.call({"flag": "YES", "count": "0012", "ratio": 2.50})
    assert result.output == "count=12\nratio=2.5\nflag=true\n"


def _write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def test_missing_path(runner: ToolRunner, tmp_path: Path) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        runner.load(tmp_path / "nope.wasm")
    assert str(info.value) == f"cannot load {tmp_path / 'nope.wasm'}: no such file"
    with pytest.raises(ComponentNotFoundError, match="not a regular file"):
        runner.load(tmp_path)


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ("hello, world", NotWasmError, "not a WebAssembly file"),
        (b"\x89PNG\r\n\x1a\n\0\0", NotWasmError, "not a WebAssembly file (no \\0asm header)"),
        ("(component (bogus))", NotWasmError, "invalid WAT text: "),
        (b"\0asm\x0d\x00", NotWasmError, "truncated WebAssembly header"),
        (b"\0asm\x01\x00\x00\x00", CoreModuleError, "core WebAssembly module, not a component"),
        ("(module)", CoreModuleError, "wasm-tools component new"),
        (b"\0asm\x0d\x00\x01\x00\xff\xff", CompileError, "cannot load"),
    ],
)
def test_files_that_are_not_components(
    runner: ToolRunner, tmp_path: Path, content: bytes | str, error: type[LoadError], message: str
) -> None:
    path = _write(tmp_path, "bad.wasm", content)
    with pytest.raises(error) as info:
        runner.load(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.path == path


def test_component_exporting_no_tool_world_and_no_function_lists_its_exports(
    runner: ToolRunner, tmp_path: Path
) -> None:
    wat = """(component
      (type $t (enum "a" "b"))
      (export "kind" (type $t))
      (type $u (record (field "x" u8)))
      (export "point" (type $u)))"""
    with pytest.raises(UnknownWorldError) as info:
        runner.load(_write(tmp_path, "other.wat", wat))
    assert info.value.exports == ("kind", "point")
    assert "(it exports: kind, point)" in str(info.value)


def test_component_exporting_plain_functions_is_one_tool_per_function(
    runner: ToolRunner, tmp_path: Path
) -> None:
    wat = """(component
      (core module $m (func (export "f") (result i32) (i32.const 1)))
      (core instance $i (instantiate $m))
      (func $f (result u32) (canon lift (core func $i "f")))
      (export "answer" (func $f))
      (export "question" (func $f)))"""
    path = _write(tmp_path, "other.wat", wat)
    tools = runner.load_component(path)
    assert [(tool.name, tool.world) for tool in tools] == [
        ("answer", "functions"),
        ("question", "functions"),
    ]
    assert tools[0].call().output == "1"
    with pytest.raises(LoadError, match="exports 2 functions as tools \\(answer, question\\)"):
        runner.load(path)


def test_imports_the_sandbox_does_not_provide_are_named(
    runner: ToolRunner, write_component: Callable[[Spec, str], Path]
) -> None:
    extra = """
      (import "acme:evil/thing" (instance (export "boom" (func))))
      (import "wasi:http/outgoing-handler@0.2.0" (instance (export "noop" (func))))"""
    with pytest.raises(UnsatisfiedImportsError) as info:
        runner.load(write_component(Spec(extra_imports=extra), "greedy"))
    assert info.value.imports == (
        "acme:evil/thing",
        "wasi:http/outgoing-handler@0.2.0 (not granted: tools reach the network through "
        "llm-agent:tool/host)",
    )


def test_unsupported_parameter_type_is_a_metadata_error(
    runner: ToolRunner, write_component: Callable[[Spec, str], Path]
) -> None:
    spec = Spec(params=(Param("items", "a list", "array"),))
    with pytest.raises(MetadataError) as info:
        runner.load(write_component(spec, "array-param"))
    assert "parameter 'items' has unsupported type 'array'" in str(info.value)


def test_a_json_schema_fragment_narrows_a_parameter(
    runner: ToolRunner, write_component: Callable[[Spec, str], Path]
) -> None:
    params = (
        Param("value", "what to echo"),
        Param("op", "what to do", required=False, enum=("now", "add")),
        Param("n", "how many", "integer", False, minimum=1, maximum=9),
    )
    tool = runner.load(write_component(Spec(params=params), "narrowed"))
    _, op, n = tool.metadata.params
    assert op.type == "string" and op.enum == ("now", "add")
    assert n.type == "integer" and (n.minimum, n.maximum) == (1, 9)
    assert tool.call({"value": "x", "op": " ADD", "n": 3}).output == "x"  # the enum's spelling
    assert tool.call({"value": "x", "op": "later"}).error == (
        "parameter 'op' expects one of: now, add (got 'later')"
    )
    assert tool.call({"value": "x", "n": 10}).kind is ResultKind.INVALID_ARGUMENTS


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ('{"type": "string", "enum": [1, 2]}', "enum must be a list of strings"),
        ('{"type": "integer", "enum": ["a"]}', "only a string parameter takes an enum"),
        ('{"type": "string", "minimum": 1}', "only numbers take a minimum or maximum"),
        ('{"type": "number", "minimum": 2, "maximum": 1}', "minimum is above maximum"),
        ('{"type": "array"}', 'a type fragment needs "type"'),
        ('{"type": "string", "pattern": "x"}', "unsupported type keyword 'pattern'"),
        ('{"type": "string"', "its type is not valid JSON"),
    ],
)
def test_a_bad_type_fragment_is_a_metadata_error(
    runner: ToolRunner, write_component: Callable[[Spec, str], Path], wire: str, message: str
) -> None:
    spec = Spec(params=(Param("p", "a param", wire),))
    with pytest.raises(MetadataError) as info:
        runner.load(write_component(spec, "bad-fragment"))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_load_dir_sorts_by_tool_name_and_rejects_duplicates(
    runner: ToolRunner, tmp_path: Path
) -> None:
    for file, name in (("a.wasm", "zeta"), ("b.wasm", "alpha")):
        (tmp_path / file).write_bytes(wasmtime.wat2wasm(component_wat(Spec(name=name))))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [t.name for t in runner.load_dir(tmp_path)] == ["alpha", "zeta"]
    (tmp_path / "c.wasm").write_bytes(wasmtime.wat2wasm(component_wat(Spec(name="alpha"))))
    with pytest.raises(LoadError, match="tool name 'alpha' is already used by"):
        runner.load_dir(tmp_path)
    with pytest.raises(LoadError, match="not a directory"):
        runner.load_dir(tmp_path / "missing")
