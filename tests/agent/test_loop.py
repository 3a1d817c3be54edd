"""The agent loop with the library's scripted backend and Python tools (no model, no wasm)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import LoopSettings
from agent.events import (
    Answer,
    Event,
    RunStarted,
    RunStopped,
    StepFinished,
    StepStarted,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.fake import FakeBackend, FakeExecutor
from agent.loop import run_agent
from agent.messages import ChatMessage, JsonScalar, ToolCall
from agent.transcript import TranscriptRecorder
from tests.hypothesis_profiles import examples
from tool_runner import ResultKind, ToolMetadata, ToolParam

ECHO = ToolMetadata(
    name="Echo",
    description="Echoes back the input text",
    version="0.1.0",
    params=(ToolParam(name="value", description="Text to echo", type="string", required=True),),
)
ADD = ToolMetadata(
    name="Add",
    description="Adds two integers",
    version="0.1.0",
    params=(
        ToolParam(name="a", description="first", type="integer", required=True),
        ToolParam(name="b", description="second", type="integer", required=True),
    ),
)


def _add(args: Mapping[str, JsonScalar]) -> str:
    try:
        return str(int(str(args["a"])) + int(str(args["b"])))
    except ValueError:
        raise ValueError("parameter 'a' expects an integer") from None


def scripted(*replies: str) -> FakeBackend:
    """The library's scripted backend with these replies."""
    return FakeBackend(replies)


def python_tools() -> FakeExecutor:
    """Echo and Add as Python functions."""
    return FakeExecutor({ECHO: lambda args: str(args["value"]), ADD: _add})


DIRECTIVE = LoopSettings(syntax="directive", grammar=False)


SEED_PROMPT = "Please echo back 'Something to echo'"


def run(
    backend: FakeBackend,
    executor: FakeExecutor,
    settings: LoopSettings = DIRECTIVE,
    prompt: str | Sequence[ChatMessage] = SEED_PROMPT,
) -> list[Event]:
    return list(run_agent(prompt, backend, executor, settings))


def test_the_seed_example_calls_echo_then_answers_in_a_second_turn() -> None:
    backend = scripted(
        "USE_TOOL: Echo, value=Something to echo", "The echo says: Something to echo"
    )
    executor = python_tools()
    events = run(backend, executor)
    assert executor.calls == [
        ToolCall(id=executor.calls[0].id, name="Echo", arguments={"value": "Something to echo"})
    ]
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert answer.text == "The echo says: Something to echo" and answer.steps == 2
    # the result went back to the model in the second prompt, after the raw first reply
    assert "USE_TOOL: Echo, value=Something to echo" in backend.prompts[1]
    assert backend.prompts[1].startswith(backend.prompts[0] + "USE_TOOL: Echo")
    assert "<|im_start|>tool\nResult of Echo: Something to echo<|im_end|>" in backend.prompts[1]
    roles = [m.role for m in answer.messages]
    assert roles[:2] == ["system", "user"] and roles[2] == "assistant" and roles[-1] == "assistant"


def test_events_come_in_order_and_tokens_stream() -> None:
    backend = scripted("USE_TOOL: Echo, value=hi", "hi")
    events = run(backend, python_tools())
    kinds = [type(e) for e in events]
    assert kinds[:2] == [RunStarted, StepStarted]
    first_finish = kinds.index(StepFinished)
    assert all(k is Token for k in kinds[2:first_finish]) and first_finish > 3
    assert kinds[first_finish + 1 : first_finish + 3] == [ToolCallStarted, ToolCallFinished]
    assert kinds[-1] is Answer
    tokens = "".join(e.text for e in events if isinstance(e, Token) and e.step == 1)
    assert tokens == "USE_TOOL: Echo, value=hi"


def test_multi_step_chain_feeds_each_result_back() -> None:
    backend = scripted("USE_TOOL: Add, a=2, b=3", "USE_TOOL: Echo, value=sum is 5", "The sum is 5.")
    executor = python_tools()
    events = run(backend, executor)
    assert [c.name for c in executor.calls] == ["Add", "Echo"]
    results = [e.result for e in events if isinstance(e, ToolCallFinished)]
    assert [r.output for r in results] == ["5", "sum is 5"]
    assert isinstance(events[-1], Answer) and events[-1].steps == 3
    assert "5" in backend.prompts[1].split("USE_TOOL: Add, a=2, b=3", 1)[1]


def test_several_calls_in_one_reply_all_run_when_parallel_calls_are_on() -> None:
    backend = scripted("USE_TOOL: Echo, value=one\nUSE_TOOL: Echo, value=two", "done")
    executor = python_tools()
    run(backend, executor, DIRECTIVE.model_copy(update={"parallel_calls": True}))
    assert [c.arguments["value"] for c in executor.calls] == ["one", "two"]


def test_a_failing_tool_goes_back_to_the_model() -> None:
    backend = scripted("USE_TOOL: Add, a=x, b=3", "USE_TOOL: Add, a=1, b=3", "4")
    executor = python_tools()
    events = run(backend, executor)
    first = next(e for e in events if isinstance(e, ToolCallFinished))
    assert not first.result.ok
    assert "expects an integer" in backend.prompts[1]
    assert isinstance(events[-1], Answer) and events[-1].text == "4"


def test_an_unknown_tool_is_answered_with_the_available_tools() -> None:
    backend = scripted("USE_TOOL: Shout, value=hi", "USE_TOOL: Echo, value=hi", "hi")
    events = run(backend, python_tools())
    first = next(e for e in events if isinstance(e, ToolCallFinished))
    assert first.result.kind is ResultKind.UNKNOWN_TOOL
    assert "unknown tool 'Shout'" in backend.prompts[1] and "Add, Echo" in backend.prompts[1]
    assert isinstance(events[-1], Answer)


def test_a_malformed_call_is_fed_back_not_raised() -> None:
    backend = scripted("USE_TOOL: Echo value=hi", "USE_TOOL: Echo, value=ok", "ok")
    events = run(backend, python_tools())
    step1 = next(e for e in events if isinstance(e, StepFinished))
    assert step1.errors and not step1.calls
    feedback = backend.prompts[1][len(backend.prompts[0]) :]
    assert "expected ','" in feedback and "Available tools: Add" in feedback
    assert isinstance(events[-1], Answer) and events[-1].text == "ok"


def test_a_call_missing_a_required_parameter_gets_an_error_result() -> None:
    backend = scripted("USE_TOOL: Echo", "USE_TOOL: Echo, value=ok", "ok")
    events = run(backend, python_tools())
    first = next(e for e in events if isinstance(e, ToolCallFinished))
    assert first.result.kind is ResultKind.INVALID_ARGUMENTS
    assert "missing required parameter 'value'" in backend.prompts[1]


def test_the_step_limit_ends_with_a_message() -> None:
    backend = scripted(*[f"USE_TOOL: Echo, value={n}" for n in range(3)])
    executor = python_tools()
    events = run(backend, executor, LoopSettings(syntax="directive", grammar=False, max_steps=3))
    last = events[-1]
    assert isinstance(last, RunStopped) and last.reason == "step_limit"
    assert "3 steps" in last.message and "--max-steps" in last.message
    assert len(executor.calls) == 3 and not backend.replies


def test_grammar_is_on_by_default_for_the_directive_syntax_and_required_only_first() -> None:
    backend = scripted("USE_TOOL: Echo, value=hi", "hi")
    settings = LoopSettings(syntax="directive", tool_choice="required")
    events = run(backend, python_tools(), settings)
    first, second = backend.grammars
    assert first is not None and second is not None and first != second
    assert all(e.grammar for e in events if isinstance(e, StepStarted))


def test_no_grammar_when_disabled_or_when_there_are_no_tools() -> None:
    backend = scripted("plain answer")
    run(backend, python_tools(), DIRECTIVE)
    assert backend.grammars == [None]


def test_auto_syntax_follows_the_chat_template() -> None:
    backend = scripted(
        '<tool_call>{"name": "Echo", "arguments": {"value": "hi"}}</tool_call>', "hi"
    )
    backend.chat_template = "{% if tools %}<tool_call>{% endif %}{{ messages }}"
    executor = python_tools()
    run(backend, executor, LoopSettings())
    assert executor.calls and executor.calls[0].arguments == {"value": "hi"}


def test_a_conversation_continues_with_its_own_system_prompt() -> None:
    history = [
        ChatMessage(role="system", content="CUSTOM SYSTEM"),
        ChatMessage(role="user", content="hello"),
        ChatMessage(role="assistant", content="hi there"),
        ChatMessage(role="user", content="echo x"),
    ]
    backend = scripted("USE_TOOL: Echo, value=x", "x")
    events = run(backend, python_tools(), prompt=history)
    assert backend.prompts[0].startswith(
        "<|im_start|>system\nCUSTOM SYSTEM<|im_end|>\n<|im_start|>user\nhello<|im_end|>"
    )
    answer = events[-1]
    assert isinstance(answer, Answer) and list(answer.messages[:4]) == history


def test_the_transcript_records_calls_results_and_figures() -> None:
    backend = scripted("USE_TOOL: Echo, value=Something to echo", "Something to echo")
    recorder = TranscriptRecorder(model="fake")
    for event in run(backend, python_tools()):
        recorder.add(event)
    transcript = recorder.transcript()
    assert transcript.answer == "Something to echo" and transcript.stopped is None
    assert len(transcript.steps) == 2
    call = transcript.steps[0].calls[0]
    assert call.name == "Echo" and call.arguments == {"value": "Something to echo"}
    assert call.result.output == "Something to echo"
    assert transcript.steps[1].cached_tokens == len(backend.prompts[0])
    assert transcript.totals["tool_calls"] == 1
    assert transcript.messages[-1].content == "Something to echo"


@pytest.mark.parametrize("max_steps", [1, 2])
def test_the_transcript_of_a_stopped_run(max_steps: int) -> None:
    backend = scripted(*["USE_TOOL: Echo, value=a"] * max_steps)
    recorder = TranscriptRecorder()
    settings = LoopSettings(syntax="directive", grammar=False, max_steps=max_steps)
    for event in run(backend, python_tools(), settings):
        recorder.add(event)
    transcript = recorder.transcript()
    assert transcript.answer is None and transcript.stopped is not None
    assert len(transcript.steps) == max_steps


@settings(max_examples=examples(150))
@given(
    replies=st.lists(
        st.one_of(
            st.text(max_size=80),
            st.builds(lambda v: f"USE_TOOL: Echo, value={v}", st.text(max_size=30)),
            st.builds(
                lambda n, v: f"USE_TOOL: {n}, a={v}", st.text(max_size=10), st.text(max_size=10)
            ),
            st.sampled_from(
                ["USE_TOOL:", 'USE_TOOL: Echo, value="', "<tool_call>{", "[TOOL_CALLS]"]
            ),
        ),
        min_size=3,
        max_size=3,
    ),
    syntax=st.sampled_from(["directive", "hermes", "llama3", "mistral", "json"]),
)
def test_the_loop_survives_any_model_output(replies: list[str], syntax: str) -> None:
    backend = scripted(*replies)
    settings = LoopSettings(syntax=syntax, grammar=False, max_steps=3)  # type: ignore[arg-type]
    events = run(backend, python_tools(), settings)
    assert isinstance(events[-1], (Answer, RunStopped))
