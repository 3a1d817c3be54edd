"""The grammars of every call syntax: valid for llama.cpp, they admit exactly well-formed calls to
known tools (plus, in "auto" mode, a plain answer), and whatever they admit parses cleanly."""

from __future__ import annotations

import json
import math
import random
from functools import cache
from pathlib import Path

import pytest
from gbnf_walk import Grammar
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_samples import CALCULATOR, CLOCK, DATETIME, ECHO, FILES, TOOLS
from test_grammar_gbnf import llama_cpp_accepts
from test_syntax_properties import tool_calls

from agent.errors import GrammarError
from agent.messages import JsonScalar, ToolCall
from agent.syntax import SYNTAXES, get_syntax
from agent.syntax.base import ParsedReply, ToolChoice
from agent.syntax.grammar import MAX_CALLS, GrammarBuilder, number
from tests.hypothesis_profiles import examples
from tool_runner import ToolMetadata

CHOICES: tuple[ToolChoice, ...] = ("auto", "required")
TOOL_SETS = [TOOLS, (ECHO,), (CLOCK,), (FILES, DATETIME)]
PROFILE = settings(max_examples=examples(60))


@cache
def grammar_for(
    name: str, choice: ToolChoice, tools: tuple[ToolMetadata, ...] = TOOLS, max_calls: int = 1
) -> Grammar:
    return Grammar(get_syntax(name).grammar(tools, tool_choice=choice, max_calls=max_calls))


def _typed(value: JsonScalar, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, bool)


def assert_well_formed(parsed: ParsedReply, tools: tuple[ToolMetadata, ...]) -> None:
    """No errors, and every call names a known tool with every required parameter, only declared
    ones, each of its declared type."""
    assert parsed.errors == ()
    by_name = {tool.name: tool for tool in tools}
    for call in parsed.calls:
        tool = by_name[call.name]
        declared = {p.name: p for p in tool.params}
        assert set(call.arguments) <= set(declared)
        assert {p.name for p in tool.params if p.required} <= set(call.arguments)
        for key, value in call.arguments.items():
            assert _typed(value, declared[key].type), (call, key)


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("choice", CHOICES)
def test_grammars_validate_and_build_fast(name: str, choice: ToolChoice) -> None:
    for tools in TOOL_SETS:
        get_syntax(name).grammar(tools, tool_choice=choice)  # validated inside


def test_llama_cpp_accepts_every_grammar(tiny_model_path: Path) -> None:
    grammars = [
        get_syntax(name).grammar(tools, tool_choice=choice)
        for name in SYNTAXES
        for choice in CHOICES
        for tools in TOOL_SETS
    ]
    grammars += [get_syntax(name).grammar([]) for name in SYNTAXES]
    assert all(llama_cpp_accepts(tiny_model_path, grammars))


@pytest.mark.parametrize("name", SYNTAXES)
def test_no_tools(name: str) -> None:
    syntax = get_syntax(name)
    assert Grammar(syntax.grammar([])).matches("Hello there.")
    with pytest.raises(GrammarError, match="no tools"):
        syntax.grammar([], tool_choice="required")


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("choice", CHOICES)
@PROFILE
@given(
    calls=st.lists(tool_calls(max_chars=30), min_size=1, max_size=MAX_CALLS),
    lead=st.sampled_from(["", " ", "\n"]),
)
def test_grammar_admits_the_canonical_calls(
    name: str, choice: ToolChoice, calls: list[ToolCall], lead: str
) -> None:
    if name == "llama3":
        calls = calls[:1]  # Llama 3 templates take one call per turn
    text = lead + get_syntax(name).render(calls, TOOLS)
    assert grammar_for(name, choice, max_calls=MAX_CALLS).matches(text), text
    one = lead + get_syntax(name).render(calls[:1], TOOLS)
    assert grammar_for(name, choice).matches(one), one


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("choice", CHOICES)
def test_one_call_per_reply_by_default(name: str, choice: ToolChoice) -> None:
    call = ToolCall(id="1", name="Echo", arguments={"value": "a"})
    two = get_syntax(name).render([call, call], TOOLS)
    assert grammar_for(name, choice).matches(get_syntax(name).render([call], TOOLS))
    assert not grammar_for(name, choice).matches(two), two
    if name != "llama3":  # Llama 3 templates take one call per turn, always
        assert grammar_for(name, choice, max_calls=MAX_CALLS).matches(two), two


# Floats whose repr the grammar once refused (0.026249641134428008 needs 18 fraction digits), and
# the extremes of what repr writes: the smallest subnormal, the largest double, a negative zero,
# a small exponent form and a 17-significant-digit sum.
EDGE_FLOATS = [
    0.026249641134428008,
    5e-324,
    -5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    -0.0,
    1e-07,
    0.1 + 0.2,
    0.00012345678901234567,
    1e16,
    2.2250738585072014e-308,
    123456789012345.67,
]


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("value", EDGE_FLOATS, ids=repr)
def test_grammar_admits_every_float_repr_writes(name: str, value: float) -> None:
    call = ToolCall(id="x", name="DateTime", arguments={"op": "now", "scale": value})
    text = get_syntax(name).render([call], TOOLS)
    assert grammar_for(name, "required").matches(text), text
    assert get_syntax(name).parse(text, TOOLS).calls[0].arguments["scale"] == value


@cache
def _number_grammar() -> Grammar:
    builder = GrammarBuilder()
    builder.rule("root", number(builder))
    return Grammar(builder.build())


@pytest.mark.parametrize(
    "text", ["1.7976931348623159e308", "1.8e308", "2e+308", "9e308", "1e309", "-1e999"]
)
def test_number_grammar_refuses_what_overflows(text: str) -> None:
    assert not math.isfinite(float(text))
    assert not _number_grammar().matches(text)


@pytest.mark.parametrize("text", ["1.7976931348623158e308", "1e-999", "9.9e307", "0.5e308"])
def test_number_grammar_admits_finite_edges(text: str) -> None:
    assert math.isfinite(float(text))
    assert _number_grammar().matches(text)


@PROFILE
@given(seed=st.integers(0, 2**32 - 1))
def test_every_number_the_grammar_makes_is_finite(seed: int) -> None:
    text = _number_grammar().sample(random.Random(seed))
    assert text is not None and math.isfinite(float(text)), text


@PROFILE
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_number_grammar_admits_any_finite_float(value: float) -> None:
    assert _number_grammar().matches(repr(value)), repr(value)
    assert _number_grammar().matches(json.dumps(value)), value


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("choice", CHOICES)
@PROFILE
@given(seed=st.integers(0, 2**32 - 1))
def test_whatever_the_grammar_admits_parses_cleanly(
    name: str, choice: ToolChoice, seed: int
) -> None:
    text = grammar_for(name, choice).sample(random.Random(seed))
    if text is None:  # an "auto" plain answer that went on and on
        assert choice == "auto"
        return
    parsed = get_syntax(name).parse(text, TOOLS)
    assert_well_formed(parsed, TOOLS)
    if choice == "required":
        assert 1 <= len(parsed.calls) <= MAX_CALLS
        assert parsed.content == ""


ANSWERS = [
    "The answer is 42.",
    "Unfortunately I cannot do that.",  # starts like USE_TOOL
    "Use the tool? No need: Paris.",
    "<b>bold</b> and a list:\n- one\n- two",
    "42",
]


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("answer", ANSWERS)
def test_auto_mode_admits_plain_answers(name: str, answer: str) -> None:
    if name in ("llama3", "json") and answer.startswith("<"):
        answer = "Here: " + answer  # a leading "<" could open <|python_tag|>
    assert grammar_for(name, "auto").matches(answer)
    assert not grammar_for(name, "required").matches(answer)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("directive", "I will call it. USE_TOOL Echo, value=x"),
        ("directive", "Calling USE_TOOL: Weather, city=Paris now"),
        ("hermes", "Let me check.\n<tool_call>\n{...}\n</tool_call>"),
        ("mistral", "ok [TOOL_CALLS] [...]"),
        ("llama3", '{"answer": 1}'),
        ("llama3", '<|python_tag|>{"name": "Echo"}'),
        ("json", "```json\n{}\n```"),
    ],
)
def test_auto_mode_text_cannot_hide_a_malformed_call(name: str, text: str) -> None:
    assert not grammar_for(name, "auto").matches(text)


@pytest.mark.parametrize("name", ["directive", "hermes", "mistral"])
def test_auto_mode_admits_text_then_calls(name: str) -> None:
    call = get_syntax(name).render([ToolCall(id="x", name="Echo", arguments={"value": "v"})], TOOLS)
    assert grammar_for(name, "auto").matches("Sure, echoing.\n" + call)
    assert not grammar_for(name, "required").matches("Sure, echoing.\n" + call)


def _bad_calls() -> list[tuple[str, ToolCall]]:
    return [
        ("unknown tool", ToolCall(id="x", name="Weather", arguments={"city": "Paris"})),
        ("missing required", ToolCall(id="x", name="Echo", arguments={})),
        ("undeclared param", ToolCall(id="x", name="Echo", arguments={"value": "a", "loud": True})),
        ("wrong type", ToolCall(id="x", name="DateTime", arguments={"op": "add", "days": "two"})),
        ("wrong type", ToolCall(id="x", name="DateTime", arguments={"op": "add", "exact": 1})),
        ("wrong type", ToolCall(id="x", name="Calculator", arguments={"expression": 7})),
        ("too long", ToolCall(id="x", name="Echo", arguments={"value": "x" * 300})),
    ]


@pytest.mark.parametrize("name", SYNTAXES)
@pytest.mark.parametrize("choice", CHOICES)
@pytest.mark.parametrize(("why", "call"), _bad_calls())
def test_grammar_refuses_bad_calls(name: str, choice: ToolChoice, why: str, call: ToolCall) -> None:
    text = get_syntax(name).render([call], TOOLS)
    if name == "directive" and call.arguments.get("expression") == 7:
        # directive values have no quotes to tell 7 from "7": it is read as the string "7"
        assert get_syntax(name).parse(text, TOOLS).calls[0].arguments == {"expression": "7"}
        return
    assert not grammar_for(name, choice).matches(text), why


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("directive", "USE_TOOL: Echo, value=a\nextra text"),
        ("directive", "USE_TOOL: Echo, value=a, b"),  # a bare value has no comma
        ("directive", "USE_TOOL: Echo, value='quoted'"),
        ("directive", "USE_TOOL: DateTime, zone=UTC, op=now"),  # not canonical order
        ("hermes", '<tool_call>\n{"name": "Echo", "arguments": {"value": "a\nb"}}\n</tool_call>'),
        ("hermes", '<tool_call>\n{"name":"Echo","arguments":{"value":"a"}}\n</tool_call>'),
        (
            "llama3",
            '{"name": "Echo", "parameters": {"value": "a"}}\n{"name": "Clock", "parameters": {}}',
        ),
        ("mistral", "[TOOL_CALLS][]"),
        ("json", '{"tool": "Echo", "arguments": {"value": "a"}} done'),
    ],
)
def test_grammar_refuses_non_canonical_text(name: str, text: str) -> None:
    assert not grammar_for(name, "required").matches(text)
    assert not grammar_for(name, "auto").matches(text)


def test_directive_examples_from_the_issue() -> None:
    grammar = grammar_for("directive", "required", (ECHO, CALCULATOR), MAX_CALLS)
    assert grammar.matches("USE_TOOL: Echo, value=Something to echo")
    assert grammar.matches(' USE_TOOL: Echo, value="quoted, with commas \\"and\\" escapes"')
    assert grammar.matches("USE_TOOL: Echo, value=a\nUSE_TOOL: Calculator, expression=2+3*4")
    assert not grammar.matches("USE_TOOL: Echo, value=Something to echo\n")
