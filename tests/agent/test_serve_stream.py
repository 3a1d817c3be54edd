"""What a streaming client receives of a model turn (`agent.serve.textgate`): the answer whole,
never a tool call, however the model's text is cut into pieces; and the request checks that
keep a client's functions usable by every call syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.messages import ToolCall
from agent.serve import ChatRequest
from agent.serve.textgate import TextGate, call_opening
from agent.syntax import SYNTAXES, get_syntax
from tool_runner import ToolMetadata, ToolParam

ECHO = ToolMetadata(
    name="Echo",
    description="Echo the value back.",
    version="1",
    params=(ToolParam(name="value", description="Text.", type="string", required=True),),
)
ANSWER = "The capital of France is Paris; it has been since 508."


def _pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in zip(points[:-1], points[1:], strict=True)]


def _stream(gate: TextGate, pieces: list[str], *, answer: bool) -> str:
    return "".join(gate.feed(piece) for piece in pieces) + gate.finish(answer=answer)


@pytest.mark.parametrize("name", SYNTAXES)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_a_call_is_never_streamed(name: str, cuts: list[int]) -> None:
    syntax = get_syntax(name)
    call = syntax.render([ToolCall(id="c1", name="Echo", arguments={"value": "hi"})], [ECHO])
    gate = TextGate(syntax, [ECHO])
    streamed = _stream(gate, _pieces(call, cuts), answer=False)
    assert streamed == ""


@pytest.mark.parametrize("name", SYNTAXES)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_an_answer_is_streamed_whole(name: str, cuts: list[int]) -> None:
    gate = TextGate(get_syntax(name), [ECHO])
    assert _stream(gate, _pieces(ANSWER, cuts), answer=True) == ANSWER


@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_text_before_a_call_may_stream_but_the_call_does_not(cuts: list[int]) -> None:
    syntax = get_syntax("directive")
    preface = "Let me ask the tool for that, it knows.\n"
    call = syntax.render([ToolCall(id="c1", name="Echo", arguments={"value": "hi"})], [ECHO])
    streamed = _stream(TextGate(syntax, [ECHO]), _pieces(preface + call, cuts), answer=False)
    assert preface.startswith(streamed)
    by_character = _stream(TextGate(syntax, [ECHO]), list(preface + call), answer=False)
    # at most the held-back tail of the text before the call stays behind, and no call
    assert preface.startswith(by_character)
    assert len(by_character) >= len(preface) - len(call_opening(syntax, [ECHO]))


def test_without_tools_everything_streams_at_once() -> None:
    gate = TextGate(get_syntax("hermes"), [])
    assert call_opening(get_syntax("hermes"), []) == ""
    assert gate.feed("<tool_call>") == "<tool_call>"


@pytest.mark.parametrize("name", SYNTAXES)
def test_the_held_back_text_is_the_syntaxs_own_opening(name: str) -> None:
    opening = call_opening(get_syntax(name), [ECHO])
    assert opening and "Echo" not in opening
    rendered = get_syntax(name).render([ToolCall(id="c", name="Echo")], [ECHO])
    assert rendered.startswith(opening)


def _request(parameters: dict[str, object]) -> ChatRequest:
    return ChatRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": parameters}}],
        }
    )


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"properties": {"x=y, z": {"type": "string"}}}, "the parameter name 'x=y, z' is not"),
        ({"properties": {"": {"type": "string"}}}, "the parameter name '' is not"),
        ({"properties": {"a": {}}, "required": ["b"]}, "required names 'b', which is not"),
        ({"type": "array"}, "Input should be 'object'"),
    ],
)
def test_function_parameters_that_no_syntax_could_write_are_refused(
    parameters: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _request(parameters)


def test_unknown_json_schema_keywords_are_ignored() -> None:
    request = _request({"properties": {"a": {"type": "string"}}, "$defs": {}, "title": "T"})
    assert request.tools is not None
    assert list(request.tools[0].function.parameters.properties) == ["a"]
