"""A request's `messages` as the agent's conversation.

    preamble, messages = to_conversation(request.messages, syntax, tools)

Leading system (or developer) messages become the system prompt's preamble: the call syntax
still writes the tool list and how to call after it, as `--system` does. An assistant turn that
holds calls is written as the syntax writes calls (what the model generates for them, so a
conversation continued by the client keeps the KV cache's prefix); a `tool` message becomes the
syntax's result message for the call it answers. Everything the client sent stays message data:
it is tokenized as text, never as control tokens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.messages import ChatMessage, JsonScalar, ToolCall
from agent.serve.errors import RequestError
from agent.serve.schema import (
    AssistantMessage,
    Content,
    MessageToolCall,
    RequestMessage,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from agent.syntax import CallSyntax
from tool_runner import ToolMetadata


def text_of(content: Content | None) -> str:
    """A message's content as one string (text parts joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content)


def to_conversation(
    messages: Sequence[RequestMessage], syntax: CallSyntax, tools: Sequence[ToolMetadata]
) -> tuple[str | None, list[ChatMessage]]:
    """The preamble (None when the request has no system message) and the conversation;
    raises RequestError naming the message that cannot be used."""
    index = 0
    preamble: list[str] = []
    while index < len(messages) and isinstance(messages[index], SystemMessage):
        preamble.append(text_of(messages[index].content))
        index += 1
    calls: dict[str, ToolCall] = {}
    conversation: list[ChatMessage] = []
    for position in range(index, len(messages)):
        message = messages[position]
        where = f"messages[{position}]"
        if isinstance(message, SystemMessage):
            raise RequestError(
                f"{where}: a system message may only come before the conversation", param=where
            )
        if isinstance(message, UserMessage):
            conversation.append(ChatMessage(role="user", content=text_of(message.content)))
        elif isinstance(message, AssistantMessage):
            made = [
                _call(call, f"{where}.tool_calls[{n}]") for n, call in enumerate(message.tool_calls)
            ]
            calls.update((call.id, call) for call in made)
            conversation.append(_assistant(text_of(message.content), made, syntax, tools))
        elif isinstance(message, ToolMessage):
            call = calls.get(message.tool_call_id)
            if call is None:
                raise RequestError(
                    f"{where}: tool_call_id {message.tool_call_id!r} answers no call of an "
                    "earlier assistant message",
                    param=f"{where}.tool_call_id",
                )
            conversation.append(syntax.result_message(call, text_of(message.content), ok=True))
    if not any(m.role == "user" for m in conversation):
        raise RequestError("messages: there is no user message", param="messages")
    return ("\n\n".join(preamble) if preamble else None), conversation


def _assistant(
    text: str, calls: Sequence[ToolCall], syntax: CallSyntax, tools: Sequence[ToolMetadata]
) -> ChatMessage:
    """An assistant turn with its calls written as the model writes them."""
    if calls:
        written = syntax.render(calls, tools)
        text = f"{text}\n{written}" if text.strip() else written
    return ChatMessage(role="assistant", content=text, tool_calls=tuple(calls))


def _call(call: MessageToolCall, where: str) -> ToolCall:
    """A call from the client's history; array and object arguments become JSON text, the
    form the model writes them in."""
    try:
        arguments = json.loads(call.function.arguments) if call.function.arguments.strip() else {}
    except ValueError as exc:
        raise RequestError(
            f"{where}.function.arguments: not JSON ({exc})", param=f"{where}.function.arguments"
        ) from exc
    if not isinstance(arguments, dict):
        raise RequestError(
            f"{where}.function.arguments: not a JSON object", param=f"{where}.function.arguments"
        )
    values: dict[str, JsonScalar] = {
        str(name): value
        if value is None or isinstance(value, (str, int, float, bool))
        else json.dumps(value)
        for name, value in arguments.items()
    }
    return ToolCall(id=call.id, name=call.function.name, arguments=values)
