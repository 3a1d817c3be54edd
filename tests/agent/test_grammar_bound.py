"""A call step can never be cut off: every grammar that admits only calls has a finite length in
bytes (`agent.syntax.bound`), and the loop asks for that many tokens."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from gbnf_walk import Grammar
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_samples import ECHO, TOOLS

from agent.config import LoopSettings
from agent.events import StepFinished
from agent.fake import FakeBackend, FakeExecutor
from agent.loop import run_agent
from agent.messages import JsonScalar, ToolCall
from agent.syntax import SYNTAXES, get_syntax
from agent.syntax.bound import max_utf8_bytes, reply_token_budget
from agent.syntax.grammar import MAX_STRING_CHARS
from tests.hypothesis_profiles import examples


@pytest.mark.parametrize(
    ("gbnf", "longest"),
    [
        ('root ::= "ab" | [a-z]{0,3}', 3),
        ('root ::= "\u00e9" [\\x00-\\x7F]?', 3),  # é is two bytes
        ("root ::= x x\nx ::= [^a]", 8),  # a negated class may be any code point: four bytes
        ('root ::= "\U0001f600" .', 8),
        ('root ::= "a" "b"? ("c" | "dd")', 4),
        ('root ::= "a"*', None),
        ('root ::= "a"+', None),
        ('root ::= x\nx ::= "a" x | "b"', None),  # recursion
    ],
)
def test_longest_text_of_small_grammars(gbnf: str, longest: int | None) -> None:
    assert max_utf8_bytes(gbnf) == longest
    assert reply_token_budget(gbnf) == (None if longest is None else longest + 1)


@pytest.mark.parametrize("syntax_name", SYNTAXES)
def test_required_grammars_are_bounded_and_auto_ones_are_not(syntax_name: str) -> None:
    syntax = get_syntax(syntax_name)
    assert reply_token_budget(syntax.grammar(TOOLS, tool_choice="required")) is not None
    # the plain-text answer of "auto" has no end but the model's
    assert reply_token_budget(syntax.grammar(TOOLS, tool_choice="auto")) is None


@pytest.mark.parametrize("syntax_name", SYNTAXES)
@pytest.mark.parametrize("char", ["a", "\u00e9", "\u4e2d", "\U0001f600", "\n", "<"])
def test_the_longest_calls_fit_the_bound(syntax_name: str, char: str) -> None:
    """Calls whose every string is as long as the grammar allows, of 1- to 4-byte characters
    (a line break and '<' are escaped): admitted, and no longer than the bound."""
    syntax = get_syntax(syntax_name)
    gbnf = syntax.grammar(TOOLS, tool_choice="required")
    grammar, bound = Grammar(gbnf), max_utf8_bytes(gbnf)
    assert bound is not None
    for tool in TOOLS:
        arguments = {
            p.name: char * MAX_STRING_CHARS
            if p.type == "string"
            else {"integer": -(10**15) + 1, "number": -1.7976931348623157e308, "boolean": False}[
                p.type
            ]
            for p in tool.params
        }
        text = syntax.render([ToolCall(id="a1b2c3d4e", name=tool.name, arguments=arguments)], TOOLS)
        assert grammar.matches(text), text[:200]
        assert len(text.encode()) <= bound


@settings(max_examples=examples(40), deadline=None)
@given(seed=st.integers(0, 2**32 - 1), syntax_name=st.sampled_from(SYNTAXES))
def test_every_sampled_call_fits_the_bound(seed: int, syntax_name: str) -> None:
    """Random walks through the required grammar (the way a random model writes) never run past
    the bound, and always end."""
    gbnf = get_syntax(syntax_name).grammar(TOOLS, tool_choice="required")
    bound = max_utf8_bytes(gbnf)
    assert bound is not None
    text = Grammar(gbnf).sample(random.Random(seed), max_chars=bound + 1)
    assert text is not None
    assert len(text.encode()) <= bound


def _echo(arguments: Mapping[str, JsonScalar]) -> str:
    return str(arguments["value"])


@pytest.mark.parametrize("syntax_name", ["directive", "json", "hermes"])
def test_the_loop_gives_a_required_call_step_the_grammars_budget(syntax_name: str) -> None:
    syntax = get_syntax(syntax_name)
    call = syntax.render([ToolCall(id="a1b2c3d4e", name="Echo", arguments={"value": "x"})], [ECHO])
    backend = FakeBackend([call, "done"])
    settings = LoopSettings(syntax=syntax_name, grammar=True, tool_choice="required", max_steps=2)
    events = list(run_agent("echo x", backend, FakeExecutor({ECHO: _echo}), settings))
    first = next(e for e in events if isinstance(e, StepFinished))
    assert first.calls and first.calls[0].arguments == {"value": "x"}
    grammars = backend.grammars
    assert grammars[0] is not None and grammars[1] is not None
    # step 1 (required): the grammar's bound, far above any usual max_tokens; step 2 ("auto", free
    # text allowed): the backend's own limit
    assert backend.limits == [reply_token_budget(grammars[0]), None]
    assert backend.limits[0] is not None and backend.limits[0] > MAX_STRING_CHARS
