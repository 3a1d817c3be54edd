"""Chat data that crosses the agent's boundaries: messages, tool calls and their results."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tool_runner import ArgValue

JsonScalar = ArgValue  # one argument value, as tool_runner validates it
Role = Literal["system", "user", "assistant", "tool"]
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_plain_id(value: object) -> bool:
    """Whether `value` is a call id that may stand as it is in a prompt's structure: 1 to 64
    letters, digits, `_` or `-` (ids are model text, which must not write control tokens)."""
    return isinstance(value, str) and _PLAIN_ID.fullmatch(value) is not None


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


class PromptPart(BaseModel):
    """A span of a rendered prompt: the template's own text (`data` False: role markers and other
    structure, where special-token text becomes control tokens) or text that came from a message
    (`data` True: tokenized as plain text, so no content can become a control token)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    data: bool = False


class Prompt(BaseModel):
    """A rendered prompt as the template's structure and the messages' data, in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parts: tuple[PromptPart, ...] = ()

    @property
    def text(self) -> str:
        """The whole prompt text."""
        return "".join(part.text for part in self.parts)

    def after(self, offset: int) -> tuple[PromptPart, ...]:
        """The parts from character `offset` on (a part that straddles it is cut there)."""
        rest: list[PromptPart] = []
        start = 0
        for part in self.parts:
            end = start + len(part.text)
            if end > offset and part.text:
                cut = part.text[max(offset - start, 0) :]
                rest.append(PromptPart(text=cut, data=part.data))
            start = end
        return tuple(rest)
