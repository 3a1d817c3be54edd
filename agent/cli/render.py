"""How `agent run` / `agent chat` show a run to a person, in the seed's style.

    USE_TOOL: Echo, value=Something to echo          <- the model's text, streamed
    Executing tool: Echo, params: 1
      - value: Something to echo
    Execution result: Something to echo
    Agent response: Something to echo

Model text and results go to stdout; with `verbose`, prompts, a reasoning model's thinking and
per-step figures go to stderr.
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


class HumanRenderer:
    """Renders events as they arrive. `show_answer=False` (chat) does not repeat the answer."""

    def __init__(self, *, verbose: bool = False, show_answer: bool = True) -> None:
        self.verbose = verbose
        self.show_answer = show_answer
        self._at_line_start = True
        self._last_prompt = ""

    def _newline(self) -> None:
        if not self._at_line_start:
            click.echo()
            self._at_line_start = True

    def __call__(self, event: Event) -> None:
        """Show one event."""
        if isinstance(event, StepStarted):
            self._step_started(event)
        elif isinstance(event, Token) and event.reasoning:
            if self.verbose:  # a reasoning model's thinking: shown only with --verbose
                click.echo(event.text, nl=False, err=True)
        elif isinstance(event, Token):
            click.echo(event.text, nl=False)
            self._at_line_start = event.text.endswith("\n")
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, ToolCallStarted):
            call = event.call
            click.echo(f"Executing tool: {call.name}, params: {len(call.arguments)}")
            for name, value in call.arguments.items():
                click.echo(f"  - {name}: {value}")
        elif isinstance(event, ToolCallFinished):
            result = event.result
            if result.ok:
                click.echo(f"Execution result: {result.text}")
            else:
                click.echo(f"Execution failed ({result.kind.value}): {result.text}")
        elif isinstance(event, CallRepeated):
            self._repeated(event)
        elif isinstance(event, Answer):
            if self.show_answer:
                click.echo(f"Agent response: {event.text}")
        elif isinstance(event, RunStopped):
            click.echo(f"Agent stopped: {event.message}")

    def _repeated(self, event: CallRepeated) -> None:
        name = event.call.name
        if not event.ends_run:
            click.echo(
                f"Repeated call to {name} (same arguments as the step before): not run again"
            )
        elif event.result.ok:
            click.echo(
                f"The model repeated the call to {name} again: its last result is the answer"
            )

    def _step_started(self, event: StepStarted) -> None:
        if self.verbose:
            previous = self._last_prompt
            if previous and event.prompt.startswith(previous):
                added = event.prompt[len(previous) :]
                click.echo(f"Prompt (step {event.step}, added): {added}", err=True)
            else:
                click.echo(f"Prompt: {event.prompt}", err=True)
        self._last_prompt = event.prompt

    def _step_finished(self, event: StepFinished) -> None:
        self._newline()
        self._last_prompt += event.completion.text
        for error in event.errors:
            click.echo(f"Malformed tool call: {error}")
        if self.verbose:
            c = event.completion
            click.echo(
                f"[step {event.step}] prompt {c.prompt_tokens} tokens ({c.cached_tokens} cached), "
                f"generated {c.completion_tokens} ({c.finish_reason}), "
                f"first token {c.ttft_s * 1000:.0f} ms, {c.tokens_per_s:.1f} tokens/s"
                + (", grammar" if event.grammar else ""),
                err=True,
            )
