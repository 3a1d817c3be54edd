"""A whole agent run as one record: what `agent run --json` prints.

recorder = TranscriptRecorder(model="tiny.gguf")  # the syntax comes from RunStarted
for event in run_agent(...):
    recorder.add(event)
print(recorder.transcript().model_dump_json())
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from agent.events import (
    Answer,
    CallRepeated,
    Event,
    RunStarted,
    RunStopped,
    StepFinished,
    StepStarted,
    StopReason,
    ToolCallFinished,
)
from agent.messages import ChatMessage, JsonScalar
from tool_runner import HostStats, ToolResult


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CallRecord(_Frozen):
    """One tool call with its arguments (as the model wrote them) and its result; `repeated`
    when it repeated the step before's call and was not run again (the result is that one's)."""

    id: str
    name: str
    arguments: dict[str, JsonScalar]
    result: ToolResult
    repeated: bool = False


class StepRecord(_Frozen):
    """One model turn: its text, token counts, timings, calls and parse errors; `reasoning` is a
    reasoning model's thinking (also in `text`, which is the whole reply)."""

    step: int
    text: str
    grammar: bool
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    ttft_s: float
    total_s: float
    tokens_per_s: float
    finish_reason: str
    calls: tuple[CallRecord, ...] = ()
    errors: tuple[str, ...] = ()
    reasoning: str = ""


class Transcript(_Frozen):
    """A whole run. `answer` is None when the run stopped without one: `stopped` says why in
    one line and `stop_reason` names the reason (see `agent.events.StopReason`)."""

    model: str = ""
    syntax: str = ""
    load_s: float | None = None
    answer: str | None = None
    stopped: str | None = None
    stop_reason: StopReason | None = None
    steps: tuple[StepRecord, ...] = ()
    messages: tuple[ChatMessage, ...] = ()
    totals: dict[str, float] = Field(default_factory=dict)
    tool_host: HostStats | None = None  # the tool workers: restarts, crashes, timeouts


class TranscriptRecorder:
    """Collects events into a Transcript."""

    def __init__(
        self,
        *,
        model: str = "",
        syntax: str = "",
        load_s: float | None = None,
        host: Callable[[], HostStats | None] | None = None,
    ) -> None:
        """`host` reports the tool host's figures when the transcript is made."""
        self._model, self._syntax, self._load_s = model, syntax, load_s
        self._host = host
        self._steps: list[StepRecord] = []
        self._pending: StepFinished | None = None
        self._calls: list[CallRecord] = []
        self._answer: str | None = None
        self._stopped: str | None = None
        self._stop_reason: StopReason | None = None
        self._messages: tuple[ChatMessage, ...] = ()

    def add(self, event: Event) -> None:
        """Record one event (tokens are not kept: the step's text holds them)."""
        if isinstance(event, RunStarted):
            self._syntax = event.syntax
        elif isinstance(event, StepStarted):
            self._flush()
        elif isinstance(event, StepFinished):
            self._flush()
            self._pending = event
        elif isinstance(event, (ToolCallFinished, CallRepeated)):
            call = event.call
            self._calls.append(
                CallRecord(
                    id=call.id,
                    name=call.name,
                    arguments=dict(call.arguments),
                    result=event.result,
                    repeated=isinstance(event, CallRepeated),
                )
            )
        elif isinstance(event, Answer):
            self._flush()
            self._answer, self._messages = event.text, event.messages
        elif isinstance(event, RunStopped):
            self._flush()
            self._stopped, self._messages = event.message, event.messages
            self._stop_reason = event.reason

    def _flush(self) -> None:
        if self._pending is None:
            return
        done, c = self._pending, self._pending.completion
        self._steps.append(
            StepRecord(
                step=done.step,
                text=c.text,
                reasoning=done.reasoning,
                grammar=done.grammar,
                prompt_tokens=c.prompt_tokens,
                cached_tokens=c.cached_tokens,
                completion_tokens=c.completion_tokens,
                ttft_s=c.ttft_s,
                total_s=c.total_s,
                tokens_per_s=c.tokens_per_s,
                finish_reason=c.finish_reason,
                calls=tuple(self._calls),
                errors=done.errors,
            )
        )
        self._pending, self._calls = None, []

    def transcript(self) -> Transcript:
        """The record of everything added so far."""
        self._flush()
        steps = tuple(self._steps)
        totals = {
            "prompt_tokens": float(sum(s.prompt_tokens for s in steps)),
            "cached_tokens": float(sum(s.cached_tokens for s in steps)),
            "completion_tokens": float(sum(s.completion_tokens for s in steps)),
            "generation_s": sum(s.total_s for s in steps),
            "tool_calls": float(sum(len(s.calls) for s in steps)),
        }
        return Transcript(
            model=self._model,
            syntax=self._syntax,
            load_s=self._load_s,
            answer=self._answer,
            stopped=self._stopped,
            stop_reason=self._stop_reason,
            steps=steps,
            messages=self._messages,
            totals=totals,
            tool_host=self._host() if self._host is not None else None,
        )
