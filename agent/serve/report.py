"""One request's run as OpenAI's response: the message, the finish reason, usage, and the
`llm_agent` report of every step (the agent's `TranscriptRecorder` makes it).

    report = RunReport(plan, model_id)
    for event in events:
        if report.add(event):     # True: the client's own calls are due, stop the run here
            break
    completion = report.completion()
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from agent.events import Answer, Event, RunStopped, StepFinished
from agent.messages import ToolCall
from agent.serve.schema import (
    AgentReport,
    CachedTokens,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    MessageToolCall,
    ResponseMessage,
    Usage,
)
from agent.transcript import TranscriptRecorder

if TYPE_CHECKING:
    from agent.serve.service import Plan


def new_id() -> str:
    """A response id, as OpenAI writes them."""
    return f"chatcmpl-{uuid.uuid4().hex}"


class RunReport:
    """Collects one run's events into the response (see the module docstring)."""

    def __init__(self, plan: Plan, model_id: str) -> None:
        self.id = new_id()
        self.created = int(time.time())
        self.model = model_id
        self._plan = plan
        self._recorder = TranscriptRecorder()
        self._last: StepFinished | None = None
        self._calls: tuple[ToolCall, ...] = ()
        self._answer: Answer | None = None
        self._stopped: RunStopped | None = None

    def add(self, event: Event) -> bool:
        """Record `event`; True when the run must stop here because the model called the
        client's functions (they are returned, not run; a call to a function the client does
        not have goes back to the model as an unknown tool)."""
        self._recorder.add(event)
        if isinstance(event, StepFinished):
            self._last = event
            client = self._plan.client
            if client is not None:
                # calls to functions the client has end the run; others go back to the model
                known = [c for call in event.calls if (c := client.resolve(call)) is not None]
                self._calls = tuple(known)
                return bool(known)
        elif isinstance(event, Answer):
            self._answer = event
        elif isinstance(event, RunStopped):
            self._stopped = event
        return False

    @property
    def _last_was_answer(self) -> bool:
        last = self._last
        return last is not None and not last.calls and not last.errors

    @property
    def unstreamed_answer(self) -> str:
        """An answer that no model turn wrote (a repeated call's result ended the run), which a
        stream has still to send."""
        if self._answer is not None and not self._last_was_answer:
            return self._answer.text
        return ""

    def wire_calls(self) -> list[MessageToolCall]:
        """The client's calls the model made, as the wire carries them."""
        client = self._plan.client
        return [client.wire_call(call) for call in self._calls] if client is not None else []

    def _content(self) -> str | None:
        if self._calls:
            return None
        if self._answer is not None:
            return self._answer.text
        if self._last is not None and self._last_was_answer:  # cut off by the token limit
            return self._last.completion.text.strip()
        return ""

    def _finish_reason(self) -> FinishReason:
        if self._calls:
            return "tool_calls"
        return "length" if self._stopped is not None else "stop"

    def completion(self) -> ChatCompletion:
        """The whole response for what was recorded."""
        transcript = self._recorder.transcript()
        totals = transcript.totals
        prompt, generated = int(totals["prompt_tokens"]), int(totals["completion_tokens"])
        calls = self.wire_calls()
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                Choice(
                    message=ResponseMessage(content=self._content(), tool_calls=calls or None),
                    finish_reason=self._finish_reason(),
                )
            ],
            usage=Usage(
                prompt_tokens=prompt,
                completion_tokens=generated,
                total_tokens=prompt + generated,
                prompt_tokens_details=CachedTokens(cached_tokens=int(totals["cached_tokens"])),
            ),
            llm_agent=AgentReport(
                syntax=transcript.syntax or self._plan.syntax.name,
                tools=tuple(tool.name for tool in self._plan.tools),
                steps=transcript.steps,
                stopped=transcript.stopped,
                stop_reason=transcript.stop_reason,
            ),
        )

    def chunk(
        self,
        delta: Delta,
        *,
        finish_reason: FinishReason | None = None,
        agent: AgentReport | None = None,
    ) -> ChatCompletionChunk:
        """A stream chunk of this response."""
        return ChatCompletionChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish_reason)],
            llm_agent=agent,
        )
