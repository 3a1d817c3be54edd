"""Property-based tests of every call syntax: parsing never raises, and writing then reading a
call gives it back."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_samples import TOOLS

from agent.messages import JsonScalar, ToolCall
from agent.syntax import SYNTAXES, get_syntax
from agent.syntax.base import ParsedReply
from tests.hypothesis_profiles import examples
from tool_runner import ToolMetadata, ToolParam

PROFILE = settings(max_examples=examples(150))


def value_for(param: ToolParam, *, max_chars: int = 40) -> st.SearchStrategy[JsonScalar]:
    """Values of the parameter's declared type (strings of any characters)."""
    if param.type == "integer":
        return st.integers(min_value=-(10**15), max_value=10**15)
    if param.type == "number":
        floats = st.floats(allow_nan=False, allow_infinity=False)
        return st.integers(-(10**6), 10**6) | floats
    if param.type == "boolean":
        return st.booleans()
    return st.text(max_size=max_chars)


@st.composite
def tool_calls(draw: st.DrawFn, *, max_chars: int = 40) -> ToolCall:
    """A call to one of the sample tools with well-typed arguments."""
    tool: ToolMetadata = draw(st.sampled_from(TOOLS))
    args: dict[str, JsonScalar] = {}
    for param in tool.params:
        if param.required or draw(st.booleans()):
            args[param.name] = draw(value_for(param, max_chars=max_chars))
    return ToolCall(id="x", name=tool.name, arguments=args)


def _same(left: JsonScalar, right: JsonScalar) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        return (
            isinstance(left, int | float)
            and isinstance(right, int | float)
            and not isinstance(left, bool)
            and not isinstance(right, bool)
            and math.isclose(left, right, rel_tol=0, abs_tol=0)
        )
    return type(left) is type(right) and left == right


def assert_same_calls(parsed: ParsedReply, calls: list[ToolCall]) -> None:
    assert parsed.errors == ()
    assert [c.name for c in parsed.calls] == [c.name for c in calls]
    for got, want in zip(parsed.calls, calls, strict=True):
        assert got.arguments.keys() == want.arguments.keys()
        for key, value in want.arguments.items():
            assert _same(got.arguments[key], value), (key, got.arguments[key], value)


@pytest.mark.parametrize("name", SYNTAXES)
@PROFILE
@given(text=st.text())
def test_parse_never_raises_on_arbitrary_text(name: str, text: str) -> None:
    parsed = get_syntax(name).parse(text, TOOLS)
    assert all("\n" not in error for error in parsed.errors)


MARKERS = ["USE_TOOL", "USE_TOOL:", "<tool_call>", "</tool_call>", "[TOOL_CALLS]", "<|python_tag|>"]
NEAR_SYNTAX = st.lists(
    st.sampled_from([*MARKERS, "{", "}", "[", "]", '"', "\\", ",", "=", ":", "\n", " ", "'"])
    | st.text(max_size=5),
    max_size=30,
).map("".join)


@pytest.mark.parametrize("name", SYNTAXES)
@PROFILE
@given(text=NEAR_SYNTAX)
def test_parse_never_raises_on_text_near_the_syntax(name: str, text: str) -> None:
    get_syntax(name).parse(text, TOOLS)


@pytest.mark.parametrize("name", SYNTAXES)
@PROFILE
@given(
    calls=st.lists(tool_calls(), min_size=1, max_size=3),
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 5), st.text(max_size=3))),
)
def test_parse_never_raises_on_mutated_calls(
    name: str, calls: list[ToolCall], cuts: list[tuple[int, int, str]]
) -> None:
    syntax = get_syntax(name)
    text = syntax.render(calls, TOOLS)
    for at, length, insert in cuts:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + length :]
    syntax.parse(text, TOOLS)


@pytest.mark.parametrize("name", SYNTAXES)
@PROFILE
@given(calls=st.lists(tool_calls(), min_size=1, max_size=3))
def test_render_then_parse_gives_the_calls_back(name: str, calls: list[ToolCall]) -> None:
    syntax = get_syntax(name)
    parsed = syntax.parse(syntax.render(calls, TOOLS), TOOLS)
    assert_same_calls(parsed, calls)
    assert parsed.content == ""
    assert len({c.id for c in parsed.calls}) == len(calls)


@PROFILE
@given(value=st.text(), prefix=st.text(alphabet=st.characters(exclude_characters="\n")))
def test_directive_keeps_any_echo_value(value: str, prefix: str) -> None:
    syntax = get_syntax("directive")
    line = syntax.render([ToolCall(id="x", name="Echo", arguments={"value": value})], TOOLS)
    parsed = syntax.parse(f"{prefix} {line}" if "USE_TOOL" not in prefix else line, TOOLS)
    assert [c.arguments for c in parsed.calls] == [{"value": value}]
