"""Structured parameters in every syntax's grammar: JSON Schema (arrays, objects, tuples, enums,
bounds, nullable) becomes GBNF that admits the values the schema allows, written as the syntax
writes them, refuses the shapes it does not, and stays bounded."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from gbnf_walk import Grammar
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.messages import ToolCall
from agent.syntax import SYNTAXES, get_syntax
from agent.syntax.bound import max_utf8_bytes
from agent.syntax.grammar import GrammarBuilder
from agent.syntax.schema_grammar import MAX_ITEMS, schema_value
from tests.hypothesis_profiles import examples
from tool_runner import ArgumentsError, ToolMetadata, ToolParam, canonical_arguments

CONDITIONS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "field": {"type": "string"},
            "op": {"type": "string", "enum": ["<", ">=", "="]},
            "value": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        },
        "required": ["field", "op"],
    },
    "maxItems": 3,
}
POINT: dict[str, Any] = {
    "type": "array",
    "prefixItems": [{"type": "number"}, {"type": "integer", "minimum": 0, "maximum": 99}],
}
LOOSE: dict[str, Any] = {"type": "object"}
PERCENT: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 100}


def _grammar(schema: dict[str, Any], *, compact: bool = False) -> Grammar:
    b = GrammarBuilder()
    b.rule("root", schema_value(b, schema, name="v", compact=compact))
    return Grammar(b.build())


def _text(value: Any, *, compact: bool = False) -> str:
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, ensure_ascii=False, separators=separators)


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (
            CONDITIONS,
            [
                [],
                [{"field": "age", "op": ">="}],
                [
                    {"field": "a", "op": "=", "value": 1.5, "tags": ["x", "y"]},
                    {"field": "b", "op": "<"},
                ],
                [{"field": "", "op": "<", "value": None}],
            ],
            [
                [{"op": "<", "field": "a"}],  # members in the schema's order only
                [{"field": "a"}],  # a required member missing
                [{"field": "a", "op": "!="}],  # not in the enum
                [{"field": "a", "op": "<", "other": 1}],  # a member the schema does not name
                [{"field": "a", "op": "<", "tags": ["1", "2", "3"]}],  # over maxItems
                [{"field": "a", "op": "<"}] * 4,
            ],
        ),
        (POINT, [[48.85, 2], [-1e-07, 99]], [[1.5], [1.5, 2, 3], [1.5, 100], [1.5, -1]]),
        (LOOSE, [{}, {"a": 1, "b": "x", "c": None, "d": True}], [{"a": [1]}, {"a": {"b": 1}}]),
        (PERCENT, [0, 99.5, 100, 12.25], [-1, 1000, -0.5, 1e-05]),
        ({"type": "string", "maxLength": 3}, ["", "abc"], ["abcd"]),
        ({"enum": [1, "one", None]}, [1, "one", None], [2, "two"]),
        ({"type": ["integer", "null"]}, [-3, None], [1.5, "null"]),
    ],
)
def test_the_grammar_admits_what_the_schema_allows(
    schema: dict[str, Any], good: list[Any], bad: list[Any], compact: bool
) -> None:
    grammar = _grammar(schema, compact=compact)
    for value in good:
        assert grammar.matches(_text(value, compact=compact)), value
    for value in bad:
        assert not grammar.matches(_text(value, compact=compact)), value


@pytest.mark.parametrize("schema", [CONDITIONS, POINT, LOOSE, PERCENT])
def test_structured_grammars_are_bounded_and_their_samples_validate(schema: dict[str, Any]) -> None:
    """What a random model writes under the grammar ends, and validation (tool_runner's schema
    check) accepts it, number bounds aside (the grammar bounds digits, not values)."""
    b = GrammarBuilder()
    b.rule("root", schema_value(b, schema, name="v", compact=False))
    gbnf = b.build()
    assert max_utf8_bytes(gbnf) is not None
    param = ToolParam(
        name="p", description="p", type=schema["type"], required=True, type_schema=schema
    )
    tool = ToolMetadata(name="T", description="t", version="1", params=(param,))
    grammar, rng = Grammar(gbnf), random.Random(7)
    for _ in range(30):
        text = grammar.sample(rng, max_chars=20000)
        assert text is not None
        value = json.loads(text)
        if schema is PERCENT:
            continue
        try:
            canonical_arguments(tool, {"p": value})
        except ArgumentsError as exc:  # a \udXXX escape alone is no Unicode: refused apart
            assert "surrogate" in str(exc), (text, exc)


def _tool(schema: dict[str, Any]) -> ToolMetadata:
    params = (
        ToolParam(
            name="where", description="w", type=schema["type"], required=True, type_schema=schema
        ),
        ToolParam(name="label", description="l", type="string", required=False),
    )
    return ToolMetadata(name="Query", description="q", version="1", params=params)


@st.composite
def conditions(draw: st.DrawFn) -> list[dict[str, Any]]:
    items = []
    for _ in range(draw(st.integers(0, 3))):
        item: dict[str, Any] = {
            "field": draw(st.text(max_size=12)),
            "op": draw(st.sampled_from(["<", ">=", "="])),
        }
        if draw(st.booleans()):
            item["value"] = draw(st.none() | st.integers(-999, 999) | st.floats(-1e6, 1e6))
        if draw(st.booleans()):
            item["tags"] = draw(st.lists(st.text(max_size=5), max_size=2))
        items.append(item)
    return items


@settings(max_examples=examples(60), deadline=None)
@given(value=conditions(), syntax_name=st.sampled_from(SYNTAXES))
def test_structured_calls_round_trip_in_every_syntax(
    value: list[dict[str, Any]], syntax_name: str
) -> None:
    """A call with a nested value, written by the syntax, is admitted by its grammar and reads
    back equal."""
    syntax, tool = get_syntax(syntax_name), _tool(CONDITIONS)
    call = ToolCall(id="a1b2c3d4e", name="Query", arguments={"where": value})
    text = syntax.render([call], [tool])
    assert Grammar(syntax.grammar([tool], tool_choice="required")).matches(text), text
    parsed = syntax.parse(text, [tool])
    assert parsed.errors == ()
    (got,) = parsed.calls
    where = got.arguments["where"]
    assert (json.loads(where) if isinstance(where, str) else where) == value


def test_the_prompt_shows_a_structured_parameters_shape() -> None:
    prompt = get_syntax("json").system_prompt([_tool(CONDITIONS)])
    assert "where (array of {field, op, value?, tags?}): w" in prompt
    assert MAX_ITEMS >= 3
