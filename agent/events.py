"""What one model turn produced (`Completion`) and the events the agent loop yields.

The loop never prints: a caller (the CLI, a test, another program) renders these events. Every
event is a frozen pydantic model, so a whole run can be recorded and serialised as JSON.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from agent.choices import SyntaxName
from agent.messages import ChatMessage, ToolCall
from tool_runner import ToolResult

FinishReason = Literal["stop", "length"]
StopReason = Literal["step_limit", "max_tokens", "repeated_call"]
"""Why a run ended without an answer: out of steps, a reply cut off by the token limit, or a
call the model kept repeating whose last result was an error."""
STOP_REASONS: tuple[StopReason, ...] = get_args(StopReason)


class Completion(BaseModel):
    """One model turn: the generated text and what it cost.

    `cached_tokens` is the prefix of the prompt that was already in the KV cache and was not
    evaluated again; `completion_tokens` counts the generated text's tokens.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    prompt: str = ""
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    ttft_s: float = 0.0
    total_s: float = 0.0
    finish_reason: FinishReason = "stop"

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token (0 when too few tokens to tell)."""
        generating = self.total_s - self.ttft_s
        if self.completion_tokens < 2 or generating <= 0:
            return 0.0
        return (self.completion_tokens - 1) / generating


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunStarted(_Event):
    """The loop chose how this run talks to the model: the call syntax (the one asked for, or
    the one the chat template implies), the tools offered and whether decoding is constrained."""

    kind: Literal["run_start"] = "run_start"
    syntax: SyntaxName
    tools: tuple[str, ...] = ()
    grammar: bool = False


class StepStarted(_Event):
    """A model turn begins; `prompt` is the whole rendered prompt the model will see."""

    kind: Literal["step_start"] = "step_start"
    step: int
    prompt: str
    grammar: bool = False


class Token(_Event):
    """A piece of generated text, as soon as the model produced it; `reasoning` when it is part
    of a reasoning model's `<think>` block rather than its reply."""

    kind: Literal["token"] = "token"
    step: int
    text: str
    reasoning: bool = False


class StepFinished(_Event):
    """A model turn ended: its completion, the calls parsed from it and any parse errors;
    `reasoning` is a reasoning model's thinking, kept out of the answer and of call parsing."""

    kind: Literal["step"] = "step"
    step: int
    completion: Completion
    reasoning: str = ""
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = ()
    grammar: bool = False


class ToolCallStarted(_Event):
    """The loop is about to run `call`."""

    kind: Literal["tool_call"] = "tool_call"
    step: int
    call: ToolCall


class ToolCallFinished(_Event):
    """`call` ran (or was refused); `result` is what goes back to the model."""

    kind: Literal["tool_result"] = "tool_result"
    step: int
    call: ToolCall
    result: ToolResult


class CallRepeated(_Event):
    """The model made `call` again (same tool, same arguments) right after the step that made
    it: it was not run again, and `result` is the earlier one. `repeats` counts the repeats in a
    row; `ends_run` is set on the second, which ends the run (with `result` as the answer when
    it succeeded, else with `RunStopped`)."""

    kind: Literal["repeated_call"] = "repeated_call"
    step: int
    call: ToolCall
    result: ToolResult
    repeats: int
    ends_run: bool = False


class Answer(_Event):
    """The run is over with an answer: the model's plain text, or the last result of a call it
    kept repeating (a `CallRepeated` event with `ends_run` comes first). `messages` is the whole
    conversation."""

    kind: Literal["answer"] = "answer"
    text: str
    steps: int
    messages: tuple[ChatMessage, ...]


class RunStopped(_Event):
    """The run ended without an answer (`reason`); `message` says so in one line. `messages` is
    the whole conversation, which a chat continues from."""

    kind: Literal["stopped"] = "stopped"
    reason: StopReason
    message: str
    steps: int
    messages: tuple[ChatMessage, ...]


StepLimitReached = RunStopped
"""The former name of `RunStopped` (which now also covers the other reasons)."""

Event = (
    RunStarted
    | StepStarted
    | Token
    | StepFinished
    | ToolCallStarted
    | ToolCallFinished
    | CallRepeated
    | Answer
    | RunStopped
)
