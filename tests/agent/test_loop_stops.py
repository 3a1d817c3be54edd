"""How a run ends: one call per reply by default, repeated calls that are not run again, replies
cut off by max_tokens, the tools offered; and what `agent run` exits with (scripted backend)."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from syntax_samples import ECHO

from agent.cli import main
from agent.config import LoopSettings
from agent.errors import ConfigError
from agent.events import (
    Answer,
    CallRepeated,
    Completion,
    Event,
    RunStopped,
    StepFinished,
    ToolCallFinished,
)
from agent.fake import FakeBackend, FakeExecutor, FakeLoader
from agent.loop import offered_tools, run_agent
from agent.messages import JsonScalar
from agent.transcript import TranscriptRecorder
from tool_runner import ResultKind, ToolMetadata

FAIL = ToolMetadata(name="Fail", description="Always fails", version="0.1.0")
DIRECTIVE = LoopSettings(syntax="directive", grammar=False)
DIRECTIVE_FLAGS = ("--syntax", "directive")  # the same, on the command line


def _fail(args: Mapping[str, JsonScalar]) -> str:
    raise ValueError("it broke")


def tools() -> FakeExecutor:
    return FakeExecutor({ECHO: lambda args: f"echo:{args['value']}", FAIL: _fail})


def run(replies: list[str], settings: LoopSettings = DIRECTIVE) -> tuple[list[Event], FakeExecutor]:
    executor = tools()
    return list(run_agent("hi", FakeBackend(replies), executor, settings)), executor


class CutOff(FakeBackend):
    """A scripted backend whose every reply ran into max_tokens."""

    def stream_prompt(  # type: ignore[override]
        self, prompt: object, *, grammar: str | None = None
    ) -> Generator[str, None, Completion]:
        completion = yield from super().stream_prompt(prompt, grammar=grammar)  # type: ignore[arg-type]
        return completion.model_copy(update={"finish_reason": "length"})


def test_one_call_per_reply_by_default_the_first() -> None:
    events, executor = run(["USE_TOOL: Echo, value=one\nUSE_TOOL: Echo, value=two", "done"])
    assert [c.arguments for c in executor.calls] == [{"value": "one"}]
    (step,) = [e for e in events if isinstance(e, StepFinished) and e.calls]
    assert [c.arguments["value"] for c in step.calls] == ["one"]


def test_parallel_calls_run_identical_calls_once() -> None:
    settings = DIRECTIVE.model_copy(update={"parallel_calls": True})
    reply = "USE_TOOL: Echo, value=a\nUSE_TOOL: Echo, value=b\nUSE_TOOL: Echo, value=a"
    events, executor = run([reply, "done"], settings)
    assert [c.arguments["value"] for c in executor.calls] == ["a", "b"]
    assert isinstance(events[-1], Answer)


def test_a_repeated_call_is_not_run_again_and_a_second_repeat_ends_with_its_result() -> None:
    events, executor = run(["USE_TOOL: Echo, value=x"] * 3 + ["never asked"])
    assert len(executor.calls) == 1
    repeats = [e for e in events if isinstance(e, CallRepeated)]
    assert [(e.step, e.repeats, e.ends_run) for e in repeats] == [(2, 1, False), (3, 2, True)]
    last = events[-1]
    assert isinstance(last, Answer) and last.text == "echo:x" and last.steps == 3
    # the model was told, with the earlier result, and the history ends with an assistant turn
    notes = [m.content for m in last.messages if m.role == "tool"]
    assert "echo:x" in notes[1] and "not run again" in notes[1]
    assert last.messages[-1].role == "assistant" and last.messages[-1].content == "echo:x"


def test_a_failing_call_repeated_twice_stops_without_an_answer() -> None:
    events, executor = run(["USE_TOOL: Fail"] * 3)
    assert len(executor.calls) == 1
    last = events[-1]
    assert isinstance(last, RunStopped) and last.reason == "repeated_call"
    assert "Fail" in last.message


def test_only_consecutive_repeats_count() -> None:
    replies = ["USE_TOOL: Echo, value=x", "USE_TOOL: Echo, value=y", "USE_TOOL: Echo, value=x"]
    events, executor = run([*replies, "done"])
    assert [c.arguments["value"] for c in executor.calls] == ["x", "y", "x"]
    assert not any(isinstance(e, CallRepeated) for e in events)


def test_same_values_of_other_types_are_other_calls() -> None:
    settings = LoopSettings(syntax="json", grammar=False)
    replies = ['{"tool": "Echo", "arguments": {"value": 1}}']
    replies.append('{"tool": "Echo", "arguments": {"value": true}}')
    events, executor = run([*replies, "done"], settings)
    assert len(executor.calls) == 2


def test_a_reply_cut_off_by_max_tokens_stops_the_run_and_runs_no_call() -> None:
    executor = tools()
    backend = CutOff(["USE_TOOL: Echo, value=half"])
    events = list(run_agent("hi", backend, executor, DIRECTIVE))
    last = events[-1]
    assert isinstance(last, RunStopped) and last.reason == "max_tokens"
    assert "cut off by max_tokens" in last.message
    assert executor.calls == [] and not any(isinstance(e, ToolCallFinished) for e in events)
    assert last.messages[-1].role == "assistant" and last.messages[-1].tool_calls == ()


def test_the_transcript_records_repeats_and_the_stop_reason() -> None:
    recorder = TranscriptRecorder()
    for event in run(["USE_TOOL: Fail"] * 3)[0]:
        recorder.add(event)
    transcript = recorder.transcript()
    assert transcript.answer is None and transcript.stop_reason == "repeated_call"
    assert [c.repeated for s in transcript.steps for c in s.calls] == [False, True, True]


def test_only_the_tools_asked_for_are_offered() -> None:
    settings = DIRECTIVE.model_copy(update={"tools": ("Echo",)})
    backend = FakeBackend(["USE_TOOL: Fail", "done"])
    executor = tools()
    events = list(run_agent("hi", backend, executor, settings))
    assert "Fail" not in backend.prompts[0].split("<|im_start|>user")[0]
    result = next(e.result for e in events if isinstance(e, ToolCallFinished))
    assert result.kind == ResultKind.UNKNOWN_TOOL and executor.calls == []


def test_an_unknown_tool_name_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown tool 'Nope' .*the tools are: Echo, Fail\)"):
        offered_tools(tools().specs(), ("Echo", "Nope"))


# -- agent run / chat ------------------------------------------------------------------------


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


def invoke(*args: str | Path, fake: FakeBackend, input: str | None = None) -> Result:
    return CliRunner().invoke(
        main, [str(a) for a in args], input=input, catch_exceptions=False, obj=FakeLoader(fake)
    )


def test_run_exits_4_when_the_reply_is_cut_off(echo: Path) -> None:
    result = invoke("run", "-p", "hi", "-c", echo, fake=CutOff(["a long answer that"]))
    assert result.exit_code == 4, result.output
    assert result.output.splitlines()[-1].startswith("Agent stopped: the model's reply was cut off")
    assert "max_tokens" in result.output
    result = invoke("run", "-p", "hi", "-c", echo, "--json", fake=CutOff(["a long answer that"]))
    transcript = json.loads(result.output)
    assert result.exit_code == 4 and transcript["stop_reason"] == "max_tokens"
    assert "cut off by max_tokens" in transcript["stopped"]


def test_run_ends_a_repeated_call_with_its_result(echo: Path) -> None:
    fake = FakeBackend(["USE_TOOL: Echo, value=x"] * 3)
    result = invoke("run", *DIRECTIVE_FLAGS, "-p", "hi", "-c", echo, fake=fake)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines.count("Execution result: x") == 1
    assert "Repeated call to Echo (same arguments as the step before): not run again" in lines
    assert lines[-2:] == [
        "The model repeated the call to Echo again: its last result is the answer",
        "x",
    ]


def test_chat_goes_on_after_a_turn_that_stopped(echo: Path) -> None:
    fake = CutOff(["cut", "also cut"])
    result = invoke("chat", "-c", echo, input="one\ntwo\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert result.output.count("Agent stopped:") == 2 and "Bye." in result.output
    assert "cut" in fake.prompts[1]  # the second turn continues the first


def test_run_tools_and_parallel_calls_flags(echo: Path) -> None:
    result = invoke(
        "run", *DIRECTIVE_FLAGS, "-p", "hi", "-c", echo, "--tools", "Echo,Nope", fake=FakeBackend()
    )
    assert result.exit_code == 2
    assert "unknown tool 'Nope' in --tools (the tools are: Echo)" in result.output
    fake = FakeBackend(["USE_TOOL: Echo, value=a\nUSE_TOOL: Echo, value=b", "done"])
    result = invoke(
        "run",
        *DIRECTIVE_FLAGS,
        "-p",
        "hi",
        "-c",
        echo,
        "--parallel-calls",
        "--tools",
        "Echo",
        fake=fake,
    )
    assert result.exit_code == 0 and result.output.count("Execution result:") == 2
