"""Parameters with a `type_schema` (from WIT types): JSON values checked against the schema
before any wasm runs, canonical compact JSON, and `ToolMetadata.input_schema`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from tool_runner import ArgumentsError, ToolMetadata, ToolParam, UsageCall
from tool_runner.arguments import canonical_arguments
from tool_runner.schema_check import SchemaMismatch, check

POINT = {
    "type": "object",
    "properties": {
        "x": {"type": "integer", "minimum": -128, "maximum": 127},
        "label": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["x"],
    "additionalProperties": False,
}
SHAPE = {
    "type": "object",
    "oneOf": [
        {
            "type": "object",
            "properties": {"tag": {"const": "circle"}, "value": {"type": "number"}},
            "required": ["tag", "value"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"tag": {"const": "dot"}},
            "required": ["tag"],
            "additionalProperties": False,
        },
    ],
}
META = ToolMetadata(
    name="typed",
    description="d",
    version="1",
    world="functions",
    params=(
        ToolParam(
            name="points",
            description="p",
            type="array",
            required=True,
            type_schema={"type": "array", "items": POINT},
        ),
        ToolParam(name="shape", description="s", type="object", required=False, type_schema=SHAPE),
        ToolParam(
            name="letter",
            description="l",
            type="string",
            required=False,
            type_schema={"type": "string", "minLength": 1, "maxLength": 1},
        ),
        ToolParam(
            name="modes",
            description="m",
            type="array",
            required=False,
            type_schema={
                "type": "array",
                "items": {"type": "string", "enum": ["read", "write"]},
                "uniqueItems": True,
            },
        ),
    ),
)


def test_json_values_and_json_text_give_the_same_compact_canonical_text() -> None:
    value = [{"x": 1, "label": "a"}, {"x": -3}]
    from_value = canonical_arguments(META, {"points": value})
    from_text = canonical_arguments(META, {"points": json.dumps(value, indent=2)})
    assert from_value == from_text == {"points": '[{"x":1,"label":"a"},{"x":-3}]'}


def test_a_char_stays_the_string_itself() -> None:
    assert canonical_arguments(META, {"points": [], "letter": "é"})["letter"] == "é"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"points": [{"x": 200}]}, "parameter 'points' at /0/x: expected a value from -128 to 127"),
        ({"points": [{"x": 1.5}]}, "at /0/x: expected an integer, got 1.5"),
        ({"points": [{"x": True}]}, "at /0/x: expected an integer, got True"),
        ({"points": [{}]}, "at /0: missing 'x'"),
        ({"points": [{"x": 1, "y": 2}]}, "at /0/y: unknown field (expected: x, label)"),
        ({"points": [{"x": 1, "label": 3}]}, "at /0/label: expected a string or a null"),
        ({"points": "[1,"}, "parameter 'points' expects array as JSON, got '[1,'"),
        ({"points": {"x": 1}}, "parameter 'points': expected an array, got {'x': 1}"),
        ({"points": [], "shape": {"tag": "square"}}, 'expected {"tag": "circle", ...} or'),
        ({"points": [], "shape": {"tag": "circle", "value": "r"}}, "at /value: expected a number"),
        ({"points": [], "letter": "ab"}, "expected exactly 1 character, got 2"),
        ({"points": [], "letter": ""}, "expected exactly 1 character, got 0"),
        ({"points": [], "modes": ["read", "read"]}, "at /1: 'read' is repeated"),
        ({"points": [], "modes": ["exec"]}, "at /0: expected one of: read, write (got 'exec')"),
        ({"shape": {"tag": "dot"}}, "missing required parameter 'points'"),
    ],
)
def test_a_value_that_does_not_match_is_refused_naming_where(
    args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArgumentsError, match="^.*" + _escape(message)):
        canonical_arguments(META, args)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_deeply_nested_text_is_a_bad_argument_not_a_crash() -> None:
    with pytest.raises(ArgumentsError, match="parameter 'points'"):
        canonical_arguments(META, {"points": "[" * 100_000 + "]" * 100_000})


def test_a_scalar_parameter_refuses_objects_and_arrays() -> None:
    meta = ToolMetadata(
        name="t",
        description="d",
        version="1",
        params=(ToolParam(name="n", description="n", type="integer", required=True),),
    )
    with pytest.raises(ArgumentsError, match="parameter 'n' expects an integer, got \\[1\\]"):
        canonical_arguments(meta, {"n": [1]})


def test_input_schema_is_derived_from_the_parameters_and_survives_a_round_trip() -> None:
    schema = META.input_schema
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["points"]
    assert schema["properties"]["points"] == {"type": "array", "description": "p", "items": POINT}
    assert META.json_schema() == schema
    dumped = META.model_dump(mode="json")
    assert dumped["input_schema"] == schema
    assert ToolMetadata.model_validate_json(json.dumps(dumped)) == META


def test_a_serialized_input_schema_that_disagrees_with_the_parameters_is_refused() -> None:
    dumped = META.model_dump(mode="json")
    dumped["input_schema"]["required"] = []
    with pytest.raises(ValidationError, match="input_schema is not the schema"):
        ToolMetadata.model_validate(dumped)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "object"}, "an object needs a type_schema"),
        ({"type": "array", "type_schema": {"type": "object"}}, "type_schema's type is not array"),
        (
            {"type": "string", "enum": ("a",), "type_schema": {"type": "string"}},
            "constraints belong in type_schema",
        ),
    ],
)
def test_type_schema_must_agree_with_the_type(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ToolParam(name="p", description="d", required=True, **fields)


def test_an_unknown_schema_keyword_is_refused_not_ignored() -> None:
    with pytest.raises(SchemaMismatch, match="unsupported schema keyword 'pattern'"):
        check("x", {"type": "string", "pattern": "y"})


@pytest.mark.parametrize(
    "args",
    [
        {"points": [], "letter": "\ud800"},
        {"points": [{"x": 1, "label": "a\udfffb"}]},
        {"points": '[{"x": 1, "label": "\\ud83d"}]'},  # JSON's escape of a lone surrogate
    ],
)
def test_a_lone_surrogate_is_a_bad_argument(args: dict[str, Any]) -> None:
    with pytest.raises(ArgumentsError, match="is not valid Unicode"):
        canonical_arguments(META, args)


def test_a_surrogate_pair_written_in_json_is_one_character() -> None:
    assert canonical_arguments(META, {"points": [], "letter": "😀"})["letter"] == "😀"


def test_a_usage_call_with_structured_arguments_hashes_by_value() -> None:
    first = UsageCall(name="t", arguments={"p": [1, {"x": 2}], "q": "s"})
    again = UsageCall(name="t", arguments={"q": "s", "p": [1, {"x": 2}]})
    assert first == again and len({first, again}) == 1
