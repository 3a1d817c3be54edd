"""Any component becomes typed tools: components built here in C and Python that export plain
functions load as one tool per function, with JSON Schemas derived from their WIT types, names
and descriptions from their WIT docs, and calls that lower JSON and lift results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typed_components import inventory_path, shop_path  # noqa: F401 - fixtures

from tool_runner import LoadError, Policy, ResultKind, Tool, ToolRunner, UnknownWorldError
from tool_runner.toolset import ToolSet

U32 = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
S32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}


@pytest.fixture(scope="module")
def typed_runner(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ToolRunner(policy=Policy()) as runner:  # the tests' shared cache, as tool-runner
        yield runner


@pytest.fixture(scope="module")
def inventory(typed_runner: ToolRunner, inventory_path: Path) -> dict[str, Tool]:  # noqa: F811
    return {tool.name: tool for tool in typed_runner.load_component(inventory_path)}


@pytest.fixture(scope="module")
def shop(typed_runner: ToolRunner, shop_path: Path) -> dict[str, Tool]:  # noqa: F811
    return {tool.name: tool for tool in typed_runner.load_component(shop_path)}


def test_each_exported_function_is_a_tool_qualified_only_when_names_clash(
    inventory: dict[str, Tool], shop: dict[str, Tool]
) -> None:
    assert list(inventory) == ["describe", "pieces", "total", "or-default", "stock_describe"]
    assert list(shop) == ["greet", "sum-points", "describe", "divide", "find", "centre"]
    assert {tool.world for tool in inventory.values()} == {"functions"}
    assert inventory["pieces"].metadata.version == "0.2.0"


def test_descriptions_come_from_the_components_wit_docs(inventory: dict[str, Tool]) -> None:
    described = {name: tool.metadata.description for name, tool in inventory.items()}
    assert described == {
        "describe": "The library's version.",
        "pieces": "Total pieces in an item (a box holds 12, a pallet 480).",
        "total": "The sum of the values; an error for an empty list.",
        "or-default": "The value, or the fallback when it is absent.",
        "stock_describe": "Is this the same name as the shop's? It is not (no clash here).",
    }


def test_a_function_without_docs_is_described_from_its_name(shop: dict[str, Tool]) -> None:
    assert shop["find"].metadata.description == (
        "Calls find of test:typed/shop@1.0.0: A little shop of shapes."
    )
    assert shop["sum-points"].metadata.description == "Sum the coordinates of the points."


def test_schemas_derive_from_the_wit_types(inventory: dict[str, Tool]) -> None:
    assert inventory["pieces"].metadata.input_schema == {
        "type": "object",
        "properties": {
            "it": {
                "type": "object",
                "description": "record",
                "properties": {
                    "sku": U32,
                    "count": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "unit": {"type": "string", "enum": ["piece", "box", "pallet"]},
                },
                "required": ["sku", "count", "unit"],
                "additionalProperties": False,
            }
        },
        "required": ["it"],
        "additionalProperties": False,
    }
    total = inventory["total"].metadata.input_schema["properties"]["values"]
    assert total == {"type": "array", "description": "list<s32>", "items": S32}
    optional = inventory["or-default"].metadata
    assert optional.input_schema["required"] == ["fallback"]
    assert optional.input_schema["properties"]["value"] == {"description": "option<u32>"} | {
        "type": "integer",
        "minimum": 0,
        "maximum": 2**32 - 1,
    }


def test_the_python_components_compound_types(shop: dict[str, Tool]) -> None:
    describe = shop["describe"].metadata.input_schema["properties"]
    assert describe["c"] == {
        "type": "string",
        "description": "enum",
        "enum": ["red", "green", "blue"],
    }
    assert describe["p"]["items"] == {"type": "string", "enum": ["read", "write", "exec"]}
    assert describe["p"]["uniqueItems"] is True
    assert describe["letter"] == {
        "type": "string",
        "description": "char",
        "minLength": 1,
        "maxLength": 1,
    }
    cases = describe["s"]["oneOf"]
    assert [case["properties"]["tag"]["const"] for case in cases] == ["circle", "rect", "dot"]
    assert cases[1]["properties"]["value"] == {
        "type": "array",
        "prefixItems": [U32, U32],
        "items": False,
        "minItems": 2,
        "maxItems": 2,
    }
    assert cases[2]["required"] == ["tag"]
    point = shop["centre"].metadata.input_schema["properties"]["p"]
    assert point["required"] == ["x", "y"]
    assert point["properties"]["label"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_c_calls_lower_records_enums_options_lists_and_lift_results(
    inventory: dict[str, Tool],
) -> None:
    pieces = inventory["pieces"].call({"it": {"sku": 7, "count": 3, "unit": "box"}})
    assert (pieces.kind, pieces.output) == (ResultKind.SUCCESS, "36")
    assert inventory["total"].call({"values": "[1, -5, 2147483647]"}).output == "2147483643"
    empty = inventory["total"].call({"values": []})
    assert (empty.kind, empty.error) == (ResultKind.TOOL_ERROR, "no values to add")
    assert inventory["or-default"].call({"value": 4, "fallback": 9}).output == "4"
    assert inventory["or-default"].call({"fallback": 9}).output == "9"
    assert inventory["or-default"].call({"value": None, "fallback": 9}).output == "9"
    item = {"sku": 1234, "count": 0, "unit": "pallet"}
    assert inventory["stock_describe"].call({"it": item}).output == "sku 1234: 0 pallet"
    assert inventory["describe"].call({}).output == "inventory 0.2.0"


def test_python_calls_round_trip_every_compound_type(shop: dict[str, Tool]) -> None:
    points = [{"x": 1, "y": 2}, {"x": 3, "y": 4, "label": "a"}]
    assert shop["sum-points"].call({"points": points}).output == "10"
    rect = {"c": "green", "p": ["exec", "read"], "s": {"tag": "rect", "value": [2, 3]}}
    assert shop["describe"].call(rect | {"letter": "z"}).output == "green [exec,read] rect 2x3 z"
    dot = {"c": "red", "p": [], "s": {"tag": "dot"}, "letter": "é"}
    assert shop["describe"].call(dot).output == "red [] dot é"
    circle = {"c": "blue", "p": ["write"], "s": {"tag": "circle", "value": 1.5}, "letter": "o"}
    assert shop["describe"].call(circle).output == "blue [write] circle r=1.5 o"
    assert shop["divide"].call({"a": 7, "b": 2}).output == "3.5"
    by_zero = shop["divide"].call({"a": 7, "b": 0})
    assert (by_zero.kind, by_zero.error) == (ResultKind.TOOL_ERROR, "division by zero")
    assert shop["find"].call({"items": ["a", "b"], "needle": "b"}).output == "1"
    assert shop["find"].call({"items": ["a"]}).output == ""
    centre = shop["centre"].call({"p": {"x": 10, "y": 4, "label": "mid"}})
    assert json.loads(centre.output or "") == {"x": 5, "y": 2, "label": "MID"}
    no_label = shop["centre"].call({"p": {"x": 1, "y": 1}})
    assert json.loads(no_label.output or "") == {"x": 0, "y": 0, "label": None}
    assert shop["greet"].call({"name": "Bo", "times": 2}).output == "hello Bo hello Bo"


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("pieces", {"it": {"sku": 1, "count": 1, "unit": "crate"}}, "at /unit: expected one of"),
        ("pieces", {"it": {"sku": -1, "count": 1, "unit": "box"}}, "at /sku: expected a value"),
        ("pieces", {"it": {"sku": 1, "count": 70000, "unit": "box"}}, "from 0 to 65535"),
        ("pieces", {"it": {"sku": 1, "unit": "box"}}, "parameter 'it': missing 'count'"),
        ("total", {"values": [1, "2"]}, "at /1: expected an integer"),
        ("total", {"values": "1, 2"}, "expects array as JSON"),
        ("or-default", {"value": 2**32, "fallback": 1}, "parameter 'value' expects a value from"),
    ],
)
def test_bad_arguments_are_refused_before_any_wasm_runs(
    inventory: dict[str, Tool], tool: str, args: dict[str, Any], message: str
) -> None:
    result = inventory[tool].call(args)
    assert result.kind is ResultKind.INVALID_ARGUMENTS
    assert message in (result.error or "")
    assert result.elapsed_ms < 50  # nothing was instantiated


def test_a_lone_surrogate_never_reaches_wasmtime(shop: dict[str, Tool]) -> None:
    """wasmtime's C API aborts the whole process lowering a surrogate `char`: refused first."""
    letter = shop["describe"].call({"c": "red", "p": [], "s": {"tag": "dot"}, "letter": "\ud800"})
    name = shop["greet"].call({"name": "a\udc00", "times": 1})
    for result in (letter, name):
        assert result.kind is ResultKind.INVALID_ARGUMENTS
        assert "is not valid Unicode (it holds a lone surrogate)" in (result.error or "")
    assert shop["greet"].call({"name": "😀", "times": 1}).output == "hello 😀"


def test_load_refuses_a_component_of_several_tools_naming_them(
    typed_runner: ToolRunner,
    inventory_path: Path,  # noqa: F811
) -> None:
    with pytest.raises(LoadError, match="exports 5 functions as tools .*pieces.*: load_component"):
        typed_runner.load(inventory_path)


RESOURCE = """(component
  (type $r (resource (rep i32)))
  (core module $m
    (func (export "make") (result i32) i32.const 7)
    (func (export "plain") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (export $re "counter" (type $r))
  (func $plain (param "n" u32) (result u32) (canon lift (core func $i "plain")))
  (func $make (result (own $re)) (canon lift (core func $i "make")))
  (export "plain" (func $plain))
  (export "make-counter" (func $make)))
"""
NOTHING = '(component (type $t (enum "a" "b")) (export "t" (type $t)))'


def test_a_function_returning_a_resource_refuses_the_component_in_one_line(
    typed_runner: ToolRunner, tmp_path: Path
) -> None:
    path = tmp_path / "resource.wat"
    path.write_text(RESOURCE)
    with pytest.raises(LoadError) as caught:
        typed_runner.load_component(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith(
        "function 'make-counter' cannot be a tool: its result: a resource handle has no JSON form"
    )


def test_a_component_exporting_no_function_is_an_unknown_world(
    typed_runner: ToolRunner, tmp_path: Path
) -> None:
    path = tmp_path / "nothing.wat"
    path.write_text(NOTHING)
    with pytest.raises(UnknownWorldError):
        typed_runner.load_component(path)


def test_a_toolset_serves_every_tool_of_a_component(
    typed_runner: ToolRunner,
    inventory_path: Path,  # noqa: F811
) -> None:
    tools = ToolSet(typed_runner, files=[inventory_path])
    assert [tool.name for tool in tools.tools()] == sorted(
        ["describe", "pieces", "total", "or-default", "stock_describe"]
    )
    total = tools.tool("total")
    assert total is not None
    assert total.call({"values": [2, 3]}).output == "5"


def _tool_runner(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("tool-runner")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_tool_runner_lists_the_tools_with_their_schemas(inventory_path: Path) -> None:  # noqa: F811
    done = _tool_runner("-c", str(inventory_path), "--list", "--json", "--in-process")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["tools"]
    assert [tool["name"] for tool in listed] == [
        "describe",
        "pieces",
        "total",
        "or-default",
        "stock_describe",
    ]
    assert listed[1]["input_schema"]["properties"]["it"]["properties"]["unit"]["enum"] == [
        "piece",
        "box",
        "pallet",
    ]


def test_tool_runner_calls_a_typed_tool_with_json_arguments_in_a_worker(
    shop_path: Path,  # noqa: F811
) -> None:
    point = '[{"x": 2, "y": 3, "label": null}, {"x": -1, "y": 1}]'
    done = _tool_runner(
        "-c", str(shop_path), "-t", "sum-points", "--json", "--arg", f"points={point}"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == "5"
    failed = _tool_runner(
        "-c", str(shop_path), "--tool", "divide", "--json", "--a", "1", "--b", "0"
    )
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["error"] == "division by zero"


def test_tool_runner_asks_which_tool_and_refuses_bad_json_in_one_line(
    inventory_path: Path,  # noqa: F811
) -> None:
    several = _tool_runner("-c", str(inventory_path), "--in-process", "--arg", "values=[1]")
    assert several.returncode == 2
    assert several.stderr == (
        "tool-runner: error: the component has 5 tools, choose one with --tool: describe, "
        "pieces, total, or-default, stock_describe\n"
    )
    bad = _tool_runner("-c", str(inventory_path), "--in-process", "-t", "pieces", "--it", "{")
    assert bad.returncode == 2
    assert bad.stderr == (
        "tool-runner: error: invalid arguments: parameter 'it' expects object as JSON, got '{'\n"
    )
    unknown = _tool_runner("-c", str(inventory_path), "--in-process", "-t", "nope", "--list")
    assert unknown.returncode == 0  # --list does not need a tool
    missing = _tool_runner("-c", str(inventory_path), "--in-process", "-t", "nope")
    assert "no tool 'nope' in the component" in missing.stderr


def test_lowering_checks_the_wit_type_itself_not_only_the_schema(
    inventory: dict[str, Tool], shop: dict[str, Tool]
) -> None:
    """Defence in depth: what the schema check would refuse never reaches wasmtime either."""
    from tool_runner.values import LoweringError

    pieces, describe = inventory["pieces"], shop["describe"]
    crate = {"it": '{"sku": 1, "count": 1, "unit": "crate"}'}
    with pytest.raises(LoweringError, match="'crate' is not one of the enum's cases"):
        pieces._binding.lower(crate, pieces.metadata.params)
    bogus = {"c": "red", "p": '["bogus"]', "s": '{"tag": "dot"}', "letter": "x"}
    with pytest.raises(LoweringError, match="unknown flag 'bogus'"):
        describe._binding.lower(bogus, describe.metadata.params)
    wide = {"it": '{"sku": 1, "count": 65536, "unit": "box"}'}
    with pytest.raises(LoweringError, match="out of range 0..65535"):
        pieces._binding.lower(wide, pieces.metadata.params)


def test_a_tools_directory_hot_loads_every_tool_of_a_component(
    typed_runner: ToolRunner,
    inventory_path: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    tools = ToolSet(typed_runner, directory=tmp_path)
    assert tools.tools() == ()
    (tmp_path / "inventory.wasm").write_bytes(inventory_path.read_bytes())
    assert tools.refresh() == []
    assert len(tools.tools()) == 5 and tools.tool("stock_describe") is not None
    clash = tmp_path / "zz-again.wasm"  # the same tool names again: refused whole, in one line
    clash.write_bytes(inventory_path.read_bytes())
    (problem,) = tools.refresh()
    assert "zz-again.wasm" in problem and "tool name 'describe' is already used" in problem
    assert len(tools.tools()) == 5
    (tmp_path / "inventory.wasm").unlink()
    clash.unlink()
    assert tools.refresh() == [] and tools.tools() == ()
