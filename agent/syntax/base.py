"""The call-syntax seam: what every syntax offers, the parse result, and the shared behaviour."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from agent.choices import SyntaxName, ToolChoice
from agent.messages import ChatMessage, JsonScalar, ToolCall
from agent.syntax.prompt import signature
from tool_runner import ToolMetadata, ToolParam, ToolUsage


class ParsedReply(BaseModel):
    """A model reply split into plain text, well-formed calls and one error line per bad call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str = ""
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = ()


class CallSyntax(Protocol):
    """One way for a model to write tool calls: teaching it, reading it, constraining it."""

    @property
    def name(self) -> SyntaxName:
        """The syntax's name, one of `agent.choices.SYNTAXES`."""
        ...

    def system_prompt(self, tools: Sequence[ToolMetadata], *, preamble: str | None = None) -> str:
        """The whole system prompt: role, each tool from its metadata, and how to call."""
        ...

    def parse(self, text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
        """Split a reply into content, calls and errors; never raises."""
        ...

    def render(self, calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
        """The canonical text of `calls` in this syntax (what the grammar makes the model write)."""
        ...

    def grammar(
        self, tools: Sequence[ToolMetadata], *, tool_choice: ToolChoice = "auto", max_calls: int = 1
    ) -> str:
        """A validated GBNF grammar for one call (up to `max_calls` when more are allowed);
        "auto" also admits a plain answer instead, "required" only calls."""
        ...

    def assistant_message(self, reply_text: str, parsed: ParsedReply) -> ChatMessage:
        """The assistant turn kept in history: the raw reply text plus the parsed calls."""
        ...

    def result_message(self, call: ToolCall, content: str, *, ok: bool) -> ChatMessage:
        """A tool result fed back to the model as a `tool` message."""
        ...

    def feedback_message(self, errors: Sequence[str], tools: Sequence[ToolMetadata]) -> ChatMessage:
        """A message telling the model what was wrong with its calls and which tools exist."""
        ...


def call_id(reply_text: str, index: int) -> str:
    """A stable id for the `index`-th call of a reply: 9 alphanumerics, as Mistral requires."""
    digest = hashlib.sha256(f"{index}\x00{reply_text}".encode("utf-8", "replace")).hexdigest()
    return digest[:9]


def usage_calls(usage: ToolUsage, tool: ToolMetadata) -> tuple[ToolCall, ...]:
    """A usage example's calls as ToolCalls with a placeholder (`<param>`) for every value a
    model could copy into its own call: only enum values and booleans stay (empty when the
    example has no calls)."""
    return tuple(
        ToolCall(
            id=call_id(usage.assistant, index),
            name=call.name,
            arguments={
                name: _placeholder(tool.param(name), name, value)
                for name, value in call.arguments.items()
            },
        )
        for index, call in enumerate(usage.calls)
    )


def show_placeholders(text: str, *, quoted: bool) -> str:
    """Rendered example calls with their placeholders as a person reads them: the syntax writes
    a value starting with `<` escaped (`"\\u003cvalue>"`, which the grammars require, so that a
    model cannot copy a placeholder raw); the prompt shows `"<value>"` (`quoted`, the JSON
    syntaxes) or `<value>` (the directive)."""
    if quoted:
        return text.replace('"\\u003c', '"<')
    return re.sub(r'"\\u003c([A-Za-z0-9_.-]*)>"', r"<\1>", text)


def _placeholder(param: ToolParam | None, name: str, value: JsonScalar) -> JsonScalar:
    if isinstance(value, bool) or (param is not None and param.enum):
        return value
    return f"<{name}>"


def snippet(text: str, limit: int = 80) -> str:
    """`text` on one line, cut to `limit` characters, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class SyntaxBase:
    """Behaviour shared by every syntax; subclasses set `name` and `call_form`."""

    name: SyntaxName
    call_form: str = ""  # a one-line template of a call, shown in feedback

    def assistant_message(self, reply_text: str, parsed: ParsedReply) -> ChatMessage:
        """The assistant turn kept in history; content is the raw text so prefixes stay shared."""
        return ChatMessage(role="assistant", content=reply_text, tool_calls=parsed.calls)

    def result_message(self, call: ToolCall, content: str, *, ok: bool) -> ChatMessage:
        """A `tool` message answering `call`; failures start with "Error:"."""
        return ChatMessage(
            role="tool",
            content=content if ok else f"Error: {content}",
            tool_call_id=call.id,
            name=call.name,
        )

    def feedback_message(self, errors: Sequence[str], tools: Sequence[ToolMetadata]) -> ChatMessage:
        """A user message naming each problem, the available tools and the call form."""
        problems = "\n".join(f"- {error}" for error in errors) or "- the call could not be read"
        available = ", ".join(signature(tool) for tool in tools) or "none"
        return ChatMessage(
            role="user",
            content=(
                f"Your tool call could not be used:\n{problems}\n"
                f"Available tools: {available}.\n"
                f"Write each call exactly as {self.call_form}, or answer in plain text."
            ),
        )
