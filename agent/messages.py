"""Chat data that crosses the agent's boundaries: messages, tool calls and their results."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tool_runner import ArgValue

JsonScalar = ArgValue  # one argument value, as tool_runner validates it
Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(BaseModel):
    """One call the model asked for. `arguments` are as the model wrote them, not yet validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    arguments: dict[str, JsonScalar] = Field(default_factory=dict)


class ChatMessage(BaseModel):
    """One message of a conversation, in a format-neutral shape.

    An assistant message may carry `tool_calls`; a `tool` message answers the call whose id is
    `tool_call_id` (and names the tool in `name`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
