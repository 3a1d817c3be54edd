"""What one model turn produced (`Completion`) and the events the agent loop yields.

The loop never prints: a caller (the CLI, a test, another program) renders these events. Every
event is a frozen pydantic model, so a whole run can be recorded and serialised as JSON.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.choices import SyntaxName
from agent.messages import ChatMessage, ToolCall
from tool_runner import ToolResult

FinishReason = Literal["stop", "length"]


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
    """A piece of generated text, as soon as the model produced it."""

    kind: Literal["token"] = "token"
    step: int
    text: str


class StepFinished(_Event):
    """A model turn ended: its completion, the calls parsed from it and any parse errors."""

    kind: Literal["step"] = "step"
    step: int
    completion: Completion
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


class Answer(_Event):
    """The model answered in plain text: the run is over. `messages` is the whole conversation."""

    kind: Literal["answer"] = "answer"
    text: str
    steps: int
    messages: tuple[ChatMessage, ...]


class StepLimitReached(_Event):
    """The run used every step without a plain-text answer; `message` says so in one line."""

    kind: Literal["step_limit"] = "step_limit"
    message: str
    steps: int
    messages: tuple[ChatMessage, ...]


Event = (
    RunStarted
    | StepStarted
    | Token
    | StepFinished
    | ToolCallStarted
    | ToolCallFinished
    | Answer
    | StepLimitReached
)
