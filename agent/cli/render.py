"""How `agent run` / `agent chat` show a run to a person.

stdout carries the answer only, once: streamed token by token when `stream` (stdout is a
terminal), else printed whole when the run ends, so `agent run ... > answer.txt` holds just the
answer. Everything else goes to stderr, where a person on a terminal sees it in order:

    USE_TOOL: Echo, value=Something to echo          <- a step that called a tool
    Executing tool: Echo, params: 1
      - value: Something to echo
    Execution result: Something to echo
    Something to echo                                <- the answer (stdout)

`quiet` drops that progress; verbosity 1 (`-v`) adds a one-line timing footer, 2 (`-vv`) the
prompts, a reasoning model's thinking and per-step figures. All text passes
`tool_runner.for_terminal` first: a tool result or a reply cannot set the window title, write the
clipboard or overwrite earlier lines. `Spinner` is the status line shown on stderr (a terminal
only) while a prompt is read, until the first token.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

import click

from agent.events import (
    Answer,
    CallRepeated,
    Event,
    RunStopped,
    StepFinished,
    StepStarted,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.transcript import Transcript
from tool_runner import for_terminal


def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print untrusted text (model replies, tool results, prompts) with its terminal control
    characters made visible, so none of it can drive the terminal."""
    click.echo(for_terminal(text), nl=nl, err=err)


class Spinner:
    """A status line on stderr (`⠋ reading the prompt… 1.2s`) redrawn by a thread until
    `stop()`, which erases it. Only for a terminal: the caller decides."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: TextIO, *, interval_s: float = 0.1) -> None:
        self._stream = stream
        self._interval_s = interval_s
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the line is shown."""
        return self._thread is not None

    def start(self, label: str) -> None:
        """Show `label` with a turning wheel and the seconds since (restarts a running one)."""
        self.stop()
        self._stopping.clear()
        started = time.monotonic()

        def draw() -> None:
            frame = 0
            while not self._stopping.wait(self._interval_s if frame else 0):
                elapsed = time.monotonic() - started
                with self._lock:
                    wheel = self.FRAMES[frame % len(self.FRAMES)]
                    self._stream.write(f"\r{wheel} {label}… {elapsed:.1f}s\x1b[K")
                    self._stream.flush()
                frame += 1

        self._thread = threading.Thread(target=draw, name="agent-spinner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Erase the line (nothing when it is not shown)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join()
        with self._lock:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


class HumanRenderer:
    """Renders events as they arrive (see the module docstring)."""

    def __init__(
        self,
        *,
        stream: bool,
        quiet: bool = False,
        verbosity: int = 0,
        spinner: Spinner | None = None,
    ) -> None:
        self.stream = stream
        self.quiet = quiet
        self.verbosity = verbosity
        self.spinner = spinner
        self._at_line_start = True
        self._last_prompt = ""
        self._streamed = ""  # this step's reply as shown on stdout
        self._label = ""  # what the status line says while it is shown

    def _still(self) -> None:
        self._label = ""
        if self.spinner is not None:
            self.spinner.stop()

    def _progress(self, text: str) -> None:
        if not self.quiet:
            echo(text, err=True)

    def __call__(self, event: Event) -> None:
        """Show one event."""
        if isinstance(event, StepStarted):
            self._step_started(event)
            return
        if isinstance(event, Token) and event.reasoning and self.verbosity < 2:
            self._thinking()  # a reasoning model's thinking is shown with -vv only
            return
        self._still()
        if isinstance(event, Token) and event.reasoning:
            echo(event.text, nl=False, err=True)
        elif isinstance(event, Token):
            self._streamed += event.text
            if self.stream:
                echo(event.text, nl=False)
                self._at_line_start = event.text.endswith("\n")
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, ToolCallStarted):
            call = event.call
            self._progress(f"Executing tool: {call.name}, params: {len(call.arguments)}")
            for name, value in call.arguments.items():
                self._progress(f"  - {name}: {value}")
        elif isinstance(event, ToolCallFinished):
            result = event.result
            if result.ok:
                self._progress(f"Execution result: {result.text}")
            else:
                self._progress(f"Execution failed ({result.kind.value}): {result.text}")
        elif isinstance(event, CallRepeated):
            self._repeated(event)
        elif isinstance(event, Answer):
            self._answer(event)
        elif isinstance(event, RunStopped):
            echo(f"Agent stopped: {event.message}", err=True)

    def _thinking(self) -> None:
        """Hidden reasoning is coming: the status line says so (instead of a still screen)."""
        if self.spinner is not None and self._label != "thinking":
            self._label = "thinking"
            self.spinner.start(self._label)

    def interrupted(self) -> None:
        """The run was cancelled (Ctrl-C): end the line in progress."""
        self._still()
        self._newline()

    def _newline(self) -> None:
        if not self._at_line_start:
            echo()
            self._at_line_start = True

    def _answer(self, event: Answer) -> None:
        answer = event.text.strip()
        if self.stream and answer and answer in self._streamed:
            return  # shown as it was generated
        echo(event.text)

    def _repeated(self, event: CallRepeated) -> None:
        name = event.call.name
        if not event.ends_run:
            self._progress(
                f"Repeated call to {name} (same arguments as the step before): not run again"
            )
        elif event.result.ok:
            self._progress(
                f"The model repeated the call to {name} again: its last result is the answer"
            )

    def _step_started(self, event: StepStarted) -> None:
        self._streamed = ""
        if self.verbosity >= 2:
            previous = self._last_prompt
            if previous and event.prompt.startswith(previous):
                added = event.prompt[len(previous) :]
                echo(f"Prompt (step {event.step}, added): {added}", err=True)
            else:
                echo(f"Prompt: {event.prompt}", err=True)
        self._last_prompt = event.prompt
        if self.spinner is not None:
            self._label = "reading the prompt"
            self.spinner.start(self._label)

    def _step_finished(self, event: StepFinished) -> None:
        self._newline()
        self._last_prompt += event.completion.text
        if (event.calls or event.errors) and not self.stream:
            self._progress(self._streamed.strip())  # the call, as the model wrote it
        for error in event.errors:
            self._progress(f"Malformed tool call: {error}")
        if self.verbosity >= 2:
            c = event.completion
            echo(
                f"[step {event.step}] prompt {c.prompt_tokens} tokens ({c.cached_tokens} cached), "
                f"generated {c.completion_tokens} ({c.finish_reason}), "
                f"first token {c.ttft_s * 1000:.0f} ms, {c.tokens_per_s:.1f} tokens/s"
                + (", grammar" if event.grammar else ""),
                err=True,
            )


def footer(transcript: Transcript, wall_s: float) -> str:
    """The one-line timing summary `-v` prints after a run."""
    steps = transcript.steps
    totals = transcript.totals
    generated = int(totals.get("completion_tokens", 0))
    generation_s = sum(max(s.total_s - s.ttft_s, 0.0) for s in steps)
    speed = (generated - len(steps)) / generation_s if generation_s > 0 else 0.0
    calls = int(totals.get("tool_calls", 0))
    parts = [transcript.model.rsplit("/", 1)[-1] or "model"]
    if transcript.load_s is not None:
        parts.append(f"load {transcript.load_s:.2f}s")
    parts += [
        f"{len(steps)} step{'s' if len(steps) != 1 else ''}",
        f"{calls} tool call{'s' if calls != 1 else ''}",
        f"prompt {int(totals.get('prompt_tokens', 0))} tokens "
        f"({int(totals.get('cached_tokens', 0))} cached)",
        f"{generated} generated",
    ]
    if steps:
        parts.append(f"first token {steps[0].ttft_s:.2f}s")
    if speed > 0:
        parts.append(f"{speed:.1f} tokens/s")
    parts.append(f"total {wall_s:.2f}s")
    return " · ".join(parts)


__all__ = ["HumanRenderer", "Spinner", "echo", "footer"]
