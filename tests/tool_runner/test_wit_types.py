"""WIT types the built components do not cover, in components written as WAT here: f32 bounds,
a result without payloads, and the types a tool cannot have (refused at load, in one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tool_runner import LoadError, ResultKind, ToolRunner
from tool_runner.wit_types import F32_MAX

CORE = """
  (core module $m
    (func (export "three") (param i32 i32 i32))
    (func (export "two") (param i32 i32))
    (func (export "flag") (param i32) (result i32) local.get 0)
    (func (export "f") (param f32) (result f32) local.get 0))
  (core instance $i (instantiate $m))"""

SIMPLE = f"""(component {CORE}
  (func $flag (param "fail" bool) (result (result)) (canon lift (core func $i "flag")))
  (func $f (param "x" f32) (result f32) (canon lift (core func $i "f")))
  (export "check" (func $flag))
  (export "same" (func $f)))"""

NESTED_OPTION = f"""(component {CORE}
  (func $nested (param "x" (option (option u8))) (canon lift (core func $i "three")))
  (export "nested" (func $nested)))"""

BOOL_OR_INT = f"""(component {CORE}
  (type $v' (variant (case "a" u32) (case "b" bool)))
  (export $v "mixed" (type $v'))
  (func $mixed (param "x" $v) (canon lift (core func $i "two")))
  (export "mixed-case" (func $mixed)))"""


@pytest.fixture
def runner(tmp_path: Path) -> ToolRunner:
    return ToolRunner(cache_dir=tmp_path / "cache")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "types.wat"
    path.write_text(text)
    return path


def test_a_result_without_payloads_and_an_f32(runner: ToolRunner, tmp_path: Path) -> None:
    with runner:
        tools = {tool.name: tool for tool in runner.load_component(_write(tmp_path, SIMPLE))}
        check, same = tools["check"], tools["same"]
        assert check.metadata.input_schema["properties"]["fail"]["type"] == "boolean"
        passed = check.call({"fail": False})
        assert (passed.kind, passed.output) == (ResultKind.SUCCESS, "")
        failed = check.call({"fail": True})
        assert (failed.kind, failed.error) == (ResultKind.TOOL_ERROR, "the tool reported failure")
        x = same.metadata.params[0]
        assert (x.type, x.minimum, x.maximum) == ("number", -F32_MAX, F32_MAX)
        assert same.call({"x": 1.5}).output == "1.5"
        assert same.call({"x": 1e39}).kind is ResultKind.INVALID_ARGUMENTS


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            NESTED_OPTION,
            "function 'nested' cannot be a tool: parameter 'x': an option of an option has no "
            "JSON form",
        ),
        (
            BOOL_OR_INT,
            "function 'mixed-case' cannot be a tool: parameter 'x': a variant: its cases' "
            "payloads (a bool and an integer) cannot be told apart",
        ),
    ],
)
def test_types_without_a_json_form_refuse_the_component(
    runner: ToolRunner, tmp_path: Path, text: str, reason: str
) -> None:
    path = _write(tmp_path, text)
    with runner, pytest.raises(LoadError) as caught:
        runner.load_component(path)
    assert str(caught.value) == f"cannot load {path}: {reason}"


def test_a_component_of_too_many_functions_is_refused(runner: ToolRunner, tmp_path: Path) -> None:
    from tool_runner.functions import MAX_FUNCTIONS

    count = MAX_FUNCTIONS + 1
    exports = "\n".join(
        f'  (func $f{n} (param "x" f32) (result f32) (canon lift (core func $i "f")))\n'
        f'  (export "f{n}" (func $f{n}))'
        for n in range(count)
    )
    path = _write(tmp_path, f"(component {CORE}\n{exports})")
    with runner, pytest.raises(LoadError, match=f"exports {count} functions: at most 256"):
        runner.load_component(path)
