"""Reasoning models (`<think>…</think>`): kept out of the answer and of call parsing, decoding
constrained only after the reasoning, shown only with --verbose."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from gbnf_walk import Grammar
from syntax_samples import ECHO
from test_grammar_gbnf import llama_cpp_accepts

from agent.cli.render import HumanRenderer
from agent.config import LoopSettings
from agent.events import Answer, Completion, StepFinished, Token
from agent.fake import FakeBackend, FakeExecutor
from agent.loop import run_agent
from agent.messages import JsonScalar
from agent.reasoning import NO_REASONING, Reasoning
from agent.syntax import get_syntax
from agent.transcript import TranscriptRecorder

QWEN3 = (Path(__file__).parent / "templates" / "qwen3.jinja").read_text()
THINK = Reasoning()
CALL = '<tool_call>\n{"name": "Echo", "arguments": {"value": "hi"}}\n</tool_call>'


def echo(args: Mapping[str, JsonScalar]) -> str:
    return str(args["value"])


def test_templates_that_handle_think_tags_reason() -> None:
    assert Reasoning.detect(QWEN3) == THINK
    assert Reasoning.detect(None) is NO_REASONING and Reasoning.detect("{{ x }}") is NO_REASONING
    assert THINK.opened_by("<｜Assistant｜><think>\n") and not THINK.opened_by(
        "<think>\n\n</think>"
    )


@pytest.mark.parametrize(
    ("text", "opened", "expected"),
    [
        ("<think>\nhm\n</think>\n\nanswer", False, ("hm", "answer")),
        ("  <think>a <tool_call> b</think>reply", False, ("a <tool_call> b", "reply")),
        ("no reasoning <think>x</think>", False, ("", "no reasoning <think>x</think>")),
        ("still thinking", True, ("still thinking", "")),
        ("<think>cut off", False, ("cut off", "")),
        ("hm</think>\nanswer", True, ("hm", "answer")),
    ],
)
def test_a_reply_splits_into_reasoning_and_reply(
    text: str, opened: bool, expected: tuple[str, str]
) -> None:
    assert THINK.split(text, opened=opened) == expected
    assert NO_REASONING.split(text, opened=False) == ("", text)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
@pytest.mark.parametrize("opened", [False, True])
def test_streamed_pieces_are_marked_as_they_come(size: int, opened: bool) -> None:
    text = ("" if opened else " <think>") + "\nhm </thin k\n</think>\n\nthe <think> reply"
    stream = THINK.stream(opened=opened)
    marked = [m for i in range(0, len(text), size) for m in stream.feed(text[i : i + size])]
    marked += stream.finish()
    assert "".join(t for t, _ in marked) == text
    thought = "".join(t for t, reasoning in marked if reasoning)
    assert "".join(t for t, reasoning in marked if not reasoning) == "the <think> reply"
    assert thought.strip().endswith("</think>")


def test_a_reply_that_does_not_reason_streams_as_reply() -> None:
    stream = THINK.stream(opened=False)
    assert stream.feed("<th") == []  # it may still become the tag
    assert stream.feed("e answer") == [("<the answer", False)]
    assert NO_REASONING.stream(opened=False).feed("<th") == [("<th", False)]


@pytest.mark.parametrize("opened", [False, True])
def test_the_grammar_constrains_only_after_the_reasoning(opened: bool) -> None:
    plain = get_syntax("hermes").grammar([ECHO], tool_choice="required")
    lazy = Grammar(THINK.constrain(plain, opened=opened))
    head = "" if opened else "<think>"
    assert lazy.matches(f"{head}\nI could write <tool_call> {{oops</think>\n\n{CALL}")
    assert lazy.matches(f"{head}</think>{CALL}")
    assert not lazy.matches(f"{head}\nhm</think>\n\n<tool_call>\n{{oops")
    assert not lazy.matches(f"{head}\nhm</think> x </think>{CALL}")
    assert lazy.matches(CALL) != opened  # an opened block must be closed first
    assert (
        THINK.constrain(plain, opened=False) != plain
        and NO_REASONING.constrain(plain, opened=False) == plain
    )


def test_the_loop_keeps_reasoning_out_of_calls_and_answer() -> None:
    thought = "<think>\nThe user wants <tool_call> Echo.\n</think>\n\n"
    backend = FakeBackend([thought + CALL, "<think>\ndone\n</think>\n\nIt said hi."])
    backend.chat_template = QWEN3
    events = list(
        run_agent("Echo hi", backend, FakeExecutor({ECHO: echo}), LoopSettings(grammar=True))
    )
    steps = [e for e in events if isinstance(e, StepFinished)]
    assert [len(s.calls) for s in steps] == [1, 0] and steps[0].errors == ()
    assert steps[0].reasoning == "The user wants <tool_call> Echo." and steps[1].reasoning == "done"
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.text == "It said hi."
    reply = "".join(e.text for e in events if isinstance(e, Token) and not e.reasoning)
    assert reply == CALL + "It said hi."
    assert all(g is not None and g.startswith('root ::= ("<think>"') for g in backend.grammars)
    # the next prompt holds the reasoning turn as the model wrote it, then the result
    assert backend.prompts[1].startswith(backend.prompts[0] + thought + CALL)
    recorder = TranscriptRecorder()
    for event in events:
        recorder.add(event)
    assert [s.reasoning for s in recorder.transcript().steps] == [steps[0].reasoning, "done"]


@pytest.mark.parametrize("verbose", [False, True])
def test_reasoning_is_shown_only_when_verbose(
    verbose: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    render = HumanRenderer(stream=True, verbosity=2 if verbose else 0)
    render(Token(step=1, text="<think>secret</think>\n", reasoning=True))
    render(Token(step=1, text="Hello"))
    render(StepFinished(step=1, completion=Completion(text="Hello"), reasoning="secret"))
    out, err = capsys.readouterr()
    assert out == "Hello\n"
    assert ("secret" in err) == verbose


def test_llama_cpp_builds_the_lazy_grammars(tiny_model_path: Path) -> None:
    plain = get_syntax("directive").grammar([ECHO])
    lazy = [THINK.constrain(plain, opened=opened) for opened in (False, True)]
    assert llama_cpp_accepts(tiny_model_path, lazy) == [True, True]
