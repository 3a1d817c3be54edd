"""How `agent run` / `agent chat` show a run to a person, in the seed's style.

    USE_TOOL: Echo, value=Something to echo          <- the model's text, streamed
    Executing tool: Echo, params: 1
      - value: Something to echo
    Execution result: Something to echo
    Agent response: Something to echo

Model text and results go to stdout; with `verbose`, prompts, a reasoning model's thinking and
per-step figures go to stderr. All of it passes `tool_runner.for_terminal` first: a tool result or
a reply cannot set the window title, write the clipboard or overwrite earlier lines.
"""

from __future__ import annotations

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
from tool_runner import for_terminal


def _echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print untrusted text (model replies, tool results, prompts) with its terminal control
    characters made visible, so none of it can drive the terminal."""
    click.echo(for_terminal(text), nl=nl, err=err)


class HumanRenderer:
    """Renders events as they arrive. `show_answer=False` (chat) does not repeat the answer."""

    def __init__(self, *, verbose: bool = False, show_answer: bool = True) -> None:
        self.verbose = verbose
        self.show_answer = show_answer
        self._at_line_start = True
        self._last_prompt = ""

    def _newline(self) -> None:
        if not self._at_line_start:
            _echo()
            self._at_line_start = True

    def __call__(self, event: Event) -> None:
        """Show one event."""
        if isinstance(event, StepStarted):
            self._step_started(event)
        elif isinstance(event, Token) and event.reasoning:
            if self.verbose:  # a reasoning model's thinking: shown only with --verbose
                _echo(event.text, nl=False, err=True)
        elif isinstance(event, Token):
            _echo(event.text, nl=False)
            self._at_line_start = event.text.endswith("\n")
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, ToolCallStarted):
            call = event.call
            _echo(f"Executing tool: {call.name}, params: {len(call.arguments)}")
            for name, value in call.arguments.items():
                _echo(f"  - {name}: {value}")
        elif isinstance(event, ToolCallFinished):
            result = event.result
            if result.ok:
                _echo(f"Execution result: {result.text}")
            else:
                _echo(f"Execution failed ({result.kind.value}): {result.text}")
        elif isinstance(event, CallRepeated):
            self._repeated(event)
        elif isinstance(event, Answer):
            if self.show_answer:
                _echo(f"Agent response: {event.text}")
        elif isinstance(event, RunStopped):
            _echo(f"Agent stopped: {event.message}")

    def _repeated(self, event: CallRepeated) -> None:
        name = event.call.name
        if not event.ends_run:
            _echo(f"Repeated call to {name} (same arguments as the step before): not run again")
        elif event.result.ok:
            _echo(f"The model repeated the call to {name} again: its last result is the answer")

    def _step_started(self, event: StepStarted) -> None:
        if self.verbose:
            previous = self._last_prompt
            if previous and event.prompt.startswith(previous):
                added = event.prompt[len(previous) :]
                _echo(f"Prompt (step {event.step}, added): {added}", err=True)
            else:
                _echo(f"Prompt: {event.prompt}", err=True)
        self._last_prompt = event.prompt

    def _step_finished(self, event: StepFinished) -> None:
        self._newline()
        self._last_prompt += event.completion.text
        for error in event.errors:
            _echo(f"Malformed tool call: {error}")
        if self.verbose:
            c = event.completion
            _echo(
                f"[step {event.step}] prompt {c.prompt_tokens} tokens ({c.cached_tokens} cached), "
                f"generated {c.completion_tokens} ({c.finish_reason}), "
                f"first token {c.ttft_s * 1000:.0f} ms, {c.tokens_per_s:.1f} tokens/s"
                + (", grammar" if event.grammar else ""),
                err=True,
            )
