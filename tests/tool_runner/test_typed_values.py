"""Property: any JSON value that matches a typed tool's input schema crosses into the real
components and back. Arguments are drawn from the derived schemas themselves (every integer
range to its ends, chars beyond the BMP, empty and long lists, every variant case and flag
set), so the schema, the check before the call, lowering and lifting must agree with wasmtime
and the guests."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typed_components import inventory_path, shop_path  # noqa: F401 - fixtures

from tests.hypothesis_profiles import examples
from tool_runner import ResultKind, Tool, ToolRunner


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the schemas `wit_types` derives (its closed vocabulary)."""
    if "oneOf" in schema or "anyOf" in schema:
        return st.one_of(
            [from_schema(option) for option in schema.get("oneOf", schema.get("anyOf"))]
        )
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(
            low, high, allow_nan=False, allow_infinity=False, width=32 if low is not None else 64
        )
    if kind == "string":
        size = schema.get("maxLength")
        return st.text(min_size=schema.get("minLength", 0), max_size=size if size else 20)
    if kind == "array":
        return _array(schema)
    return _object(schema)


def _array(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if "prefixItems" in schema:
        return st.tuples(*(from_schema(item) for item in schema["prefixItems"])).map(list)
    items = from_schema(schema["items"])
    if schema.get("uniqueItems"):
        return st.lists(items, unique=True, max_size=6)
    return st.lists(items, max_size=6)


def _object(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    required = set(schema.get("required", []))
    members = {name: from_schema(item) for name, item in schema.get("properties", {}).items()}
    return st.fixed_dictionaries(
        {k: v for k, v in members.items() if k in required},
        optional={k: v for k, v in members.items() if k not in required},
    )


def arguments(tool: Tool) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for `tool` drawn from its own input schema (a described property's
    `description` is not part of the value)."""
    schema = tool.metadata.input_schema
    properties = {
        name: {k: v for k, v in item.items() if k != "description"}
        for name, item in schema["properties"].items()
    }
    return _object(schema | {"properties": properties})


@pytest.fixture(scope="module")
def tools(inventory_path: Path, shop_path: Path) -> Iterator[dict[str, Tool]]:  # noqa: F811
    with ToolRunner() as runner:
        found = runner.load_component(inventory_path) + runner.load_component(shop_path)
        yield {tool.name: tool for tool in found}


EXPECTED_ERRORS = {("total", "no values to add"), ("divide", "division by zero")}


@pytest.mark.parametrize(
    "name", ["pieces", "total", "or-default", "stock_describe", "sum-points", "describe",
             "divide", "find", "centre", "greet"],
)  # fmt: skip
def test_every_value_the_schema_admits_is_accepted_and_comes_back(
    tools: dict[str, Tool], name: str
) -> None:
    tool = tools[name]

    @settings(max_examples=examples(40))
    @given(arguments(tool))
    def calls(args: dict[str, Any]) -> None:
        result = tool.call(args)
        if result.kind is ResultKind.TOOL_ERROR:
            assert (name, result.error) in EXPECTED_ERRORS
            return
        assert result.kind is ResultKind.SUCCESS, (args, result.error)
        if name == "centre":
            point = json.loads(result.output or "")
            assert point == {
                "x": args["p"]["x"] // 2,
                "y": args["p"]["y"] // 2,
                "label": None if args["p"].get("label") is None else args["p"]["label"].upper(),
            }
        if name == "sum-points":
            assert result.output == str(sum(p["x"] + p["y"] for p in args["points"]))
        if name == "find":
            items, needle = args["items"], args.get("needle")
            found = items.index(needle) if needle is not None and needle in items else None
            assert result.output == ("" if found is None else str(found))

    calls()
