"""The OpenAI chat-completions wire format, as far as this server speaks it.

Requests are validated here (unknown fields are refused with the field's name, so that a
setting the server does not honour is never silently ignored); responses and stream chunks are
built from these models and carry the agent's own record in the `llm_agent` extension field
(`AgentReport`: each step's reply, its tool calls with arguments and results, timings).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.events import StopReason
from agent.transcript import StepRecord

FinishReason = Literal["stop", "length", "tool_calls"]
_NAME = r"^[A-Za-z0-9_.-]{1,64}$"  # OpenAI's rule for function names
_PLAIN = re.compile(_NAME)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPart(_Model):
    """A text part of a message's content (the only kind of part this server takes)."""

    type: Literal["text"]
    text: str


Content = str | list[TextPart]


class FunctionParameters(BaseModel):
    """A function's parameters: a JSON Schema object. Keywords other than these are ignored,
    as JSON Schema itself ignores keywords it does not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["object"] = "object"
    properties: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)

    @field_validator("properties")
    @classmethod
    def _plain_names(cls, properties: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # a call syntax writes parameter names as they are (`name=value` in the directive)
        for name in properties:
            if not _PLAIN.fullmatch(name):
                raise ValueError(
                    f"the parameter name {name[:64]!r} is not 1 to 64 letters, digits, "
                    "'_', '.' or '-'"
                )
        return properties

    @model_validator(mode="after")
    def _required_are_properties(self) -> FunctionParameters:
        unknown = [name for name in self.required if name not in self.properties]
        if unknown:
            raise ValueError(f"required names {unknown[0][:64]!r}, which is not in properties")
        return self


class FunctionSpec(_Model):
    """A function the client offers the model (it runs it itself)."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    parameters: FunctionParameters = Field(default_factory=FunctionParameters)
    strict: bool | None = None


class FunctionTool(_Model):
    """One entry of a request's `tools`."""

    type: Literal["function"]
    function: FunctionSpec


class FunctionCall(_Model):
    """A function call as the wire carries it: the arguments are JSON text."""

    name: str
    arguments: str


class MessageToolCall(_Model):
    """A call in an assistant message (a request's history, or a response)."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(_Model):
    """A system (or developer) message: the assistant's instructions."""

    role: Literal["system", "developer"]
    content: Content
    name: str | None = None


class UserMessage(_Model):
    """The user's turn."""

    role: Literal["user"]
    content: Content
    name: str | None = None


class AssistantMessage(_Model):
    """An earlier assistant turn: text, calls or both."""

    role: Literal["assistant"]
    content: Content | None = None
    tool_calls: list[MessageToolCall] = Field(default_factory=list)
    name: str | None = None
    refusal: str | None = None


class ToolMessage(_Model):
    """The result of one of the client's function calls."""

    role: Literal["tool"]
    content: Content
    tool_call_id: str


RequestMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class NamedFunction(_Model):
    """The function a named tool choice forces."""

    name: str


class NamedToolChoice(_Model):
    """`{"type": "function", "function": {"name": ...}}`: call this function."""

    type: Literal["function"]
    function: NamedFunction


ToolChoiceParam = Literal["none", "auto", "required"] | NamedToolChoice


class StreamOptions(_Model):
    """Streaming options: `include_usage` adds a last chunk with the token counts."""

    include_usage: bool = False


class ChatRequest(_Model):
    """`POST /v1/chat/completions`' body (the fields this server honours)."""

    model: str
    messages: list[RequestMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoiceParam | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: Literal[1] | None = None
    user: str | None = None


class AgentReport(_Model):
    """The `llm_agent` extension field: how the agent got to the answer. `steps` are the model's
    turns, each with its reply text, the tool calls it made with their arguments and results,
    token counts and timings; `stopped` says in one line why a run ended without an answer."""

    syntax: str
    tools: tuple[str, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    stopped: str | None = None
    stop_reason: StopReason | None = None


class CachedTokens(_Model):
    """How much of the prompts came from the KV cache."""

    cached_tokens: int = 0


class Usage(_Model):
    """Token counts over every model turn of the request."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: CachedTokens = Field(default_factory=CachedTokens)


class ResponseMessage(_Model):
    """The assistant's message in a response."""

    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[MessageToolCall] | None = None


class Choice(_Model):
    """The one choice of a response."""

    index: int = 0
    message: ResponseMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletion(_Model):
    """A whole response (`stream: false`)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    llm_agent: AgentReport


class DeltaToolCall(_Model):
    """A call in a stream chunk (this server sends each call whole, in one chunk)."""

    index: int
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Delta(_Model):
    """What a stream chunk adds to the message."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[DeltaToolCall] | None = None


class ChunkChoice(_Model):
    """The one choice of a stream chunk."""

    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(_Model):
    """One server-sent event of a streamed response; the last content chunk has the
    `finish_reason` and the `llm_agent` report, and with `include_usage` one more chunk with no
    choices carries `usage`."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    llm_agent: AgentReport | None = None


class ModelCard(_Model):
    """One served model in `GET /v1/models`."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "llm-agent"


class ModelList(_Model):
    """`GET /v1/models`' body."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
