"""Schemas that steer decoding: every syntax's grammar admits only a parameter's enum values, and
for a bounded integer no sign or digits its bounds rule out."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from gbnf_walk import Grammar
from test_grammar_gbnf import llama_cpp_accepts

from agent.messages import JsonScalar, ToolCall
from agent.syntax import SYNTAXES, get_syntax
from tool_runner import ToolMetadata, ToolParam

TOOL = ToolMetadata(
    name="DateTime",
    description="Dates",
    version="0.1.0",
    params=(
        ToolParam(
            name="op",
            description="what to do",
            type="string",
            required=True,
            enum=("now", "days_between", "a, b"),
        ),
        ToolParam(
            name="n", description="count", type="integer", required=False, minimum=1, maximum=500
        ),
        ToolParam(name="k", description="any", type="integer", required=False, maximum=5),
    ),
)


@cache
def grammar(name: str) -> Grammar:
    return Grammar(get_syntax(name).grammar([TOOL], tool_choice="required"))


def text(name: str, **arguments: JsonScalar) -> str:
    return get_syntax(name).render([ToolCall(id="1", name="DateTime", arguments=arguments)], [TOOL])


@pytest.mark.parametrize("name", SYNTAXES)
def test_only_the_enum_values_are_admitted(name: str) -> None:
    for value in TOOL.params[0].enum:
        assert grammar(name).matches(text(name, op=value)), text(name, op=value)
    for value in ("2**100", "NOW", "now ", "days"):
        assert not grammar(name).matches(text(name, op=value)), text(name, op=value)


@pytest.mark.parametrize("name", SYNTAXES)
def test_a_bounded_integer_has_no_sign_and_no_more_digits_than_its_bounds(name: str) -> None:
    for n in (1, 9, 500, 999):  # 999: three digits are admitted, validation refuses it
        assert grammar(name).matches(text(name, op="now", n=n))
    for n in (0, -1, 1000):
        assert not grammar(name).matches(text(name, op="now", n=n)), n
    assert grammar(name).matches(text(name, op="now", k=-12345))  # no lower bound: a sign


@pytest.mark.parametrize("name", SYNTAXES)
def test_what_the_grammar_admits_parses_to_the_enum_value(name: str) -> None:
    parsed = get_syntax(name).parse(text(name, op="a, b", n=7), [TOOL])
    assert parsed.errors == () and parsed.calls[0].arguments == {"op": "a, b", "n": 7}


def test_llama_cpp_accepts_the_constrained_grammars(tiny_model_path: Path) -> None:
    grammars = [
        get_syntax(name).grammar([TOOL], tool_choice=choice)
        for name in SYNTAXES
        for choice in ("auto", "required")
    ]
    assert all(llama_cpp_accepts(tiny_model_path, grammars))


@pytest.mark.parametrize("name", SYNTAXES)
def test_a_placeholder_cannot_be_copied_raw_but_its_escape_is_admitted(name: str) -> None:
    echo = ToolMetadata(
        name="Echo",
        description="e",
        version="0.1.0",
        params=(ToolParam(name="value", description="v", type="string", required=True),),
    )
    grammar = Grammar(get_syntax(name).grammar([echo], tool_choice="required"))
    canonical = get_syntax(name).render(
        [ToolCall(id="1", name="Echo", arguments={"value": "<value>"})], [echo]
    )
    assert "\\u003cvalue>" in canonical and grammar.matches(canonical)
    assert not grammar.matches(canonical.replace("\\u003c", "<"))
    if name == "directive":
        assert not grammar.matches("USE_TOOL: Echo, value=<value>")
    parsed = get_syntax(name).parse(canonical, [echo])
    assert parsed.calls[0].arguments == {"value": "<value>"}  # the value itself is intact
