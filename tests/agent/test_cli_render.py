"""The renderer of `agent run`/`agent chat` on its own: what reaches stdout and stderr, the
status line's life, the -v footer."""

from __future__ import annotations

import io
import time

import pytest

from agent.cli.render import HumanRenderer, Spinner, footer
from agent.events import Answer, Completion, StepFinished, StepStarted, Token
from agent.transcript import StepRecord, Transcript


class FakeSpinner(Spinner):
    """Records what the status line was asked to do."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.calls: list[str] = []

    def start(self, label: str) -> None:
        self.calls.append(f"start {label}")

    def stop(self) -> None:
        self.calls.append("stop")


def test_the_status_line_lasts_until_the_first_visible_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spinner = FakeSpinner()
    render = HumanRenderer(stream=True, spinner=spinner)
    render(StepStarted(step=1, prompt="p"))
    render(Token(step=1, text="<think>a", reasoning=True))
    render(Token(step=1, text="b</think>", reasoning=True))
    render(Token(step=1, text="Hello"))
    render(StepFinished(step=1, completion=Completion(text="Hello")))
    render(Answer(text="Hello", steps=1, messages=()))
    assert spinner.calls[:3] == ["start reading the prompt", "start thinking", "stop"]
    out, err = capsys.readouterr()
    assert out == "Hello\n" and err == ""  # streamed once, not printed again


def test_without_streaming_the_answer_is_printed_once_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    render = HumanRenderer(stream=False)
    render(StepStarted(step=1, prompt="p"))
    render(Token(step=1, text="Hel"))
    render(Token(step=1, text="lo"))
    assert capsys.readouterr() == ("", "")
    render(StepFinished(step=1, completion=Completion(text="Hello")))
    render(Answer(text="Hello", steps=1, messages=()))
    assert capsys.readouterr() == ("Hello\n", "")


def test_an_answer_that_was_not_streamed_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    render = HumanRenderer(stream=True)
    render(StepStarted(step=1, prompt="p"))
    render(Token(step=1, text="USE_TOOL: Echo, value=x"))
    render(Answer(text="x (the repeated call's result)", steps=1, messages=()))
    out, _ = capsys.readouterr()
    assert out.endswith("x (the repeated call's result)\n")


def test_the_spinner_draws_and_erases_its_line() -> None:
    stream = io.StringIO()
    spinner = Spinner(stream, interval_s=0.01)
    spinner.start("reading the prompt")
    time.sleep(0.05)
    assert spinner.running
    spinner.stop()
    assert not spinner.running and "reading the prompt… 0.0s" in stream.getvalue()
    assert stream.getvalue().endswith("\r\x1b[K")
    spinner.stop()  # a second stop does nothing


def test_the_footer_is_one_line_with_the_figures() -> None:
    step = StepRecord(
        step=1, text="hi", grammar=False, prompt_tokens=100, cached_tokens=80,
        completion_tokens=11, ttft_s=0.25, total_s=1.25, tokens_per_s=10.0, finish_reason="stop",
    )  # fmt: skip
    transcript = Transcript(
        model="/models/m.gguf",
        load_s=1.5,
        steps=(step,),
        totals={"prompt_tokens": 100, "cached_tokens": 80, "completion_tokens": 11},
    )
    assert footer(transcript, 3.0) == (
        "m.gguf · load 1.50s · 1 step · 0 tool calls · prompt 100 tokens (80 cached) · "
        "11 generated · first token 0.25s · 10.0 tokens/s · total 3.00s"
    )
