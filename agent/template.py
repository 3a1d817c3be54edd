"""Render a conversation with the model's own chat template (Jinja2, as llama.cpp and HF do).

    template = ChatTemplate(source, bos_token="<s>", eos_token="</s>")
    prompt = template.render(messages)     # a Prompt: structure and data parts, ending with
                                           # the assistant's generation prompt

`source=None` (a GGUF without `tokenizer.chat_template`) uses ChatML. Templates that know no
system role (Phi-3 drops it, Mistral's raises) get the system prompt merged into the first user
turn; templates that know no `tool` role get tool results as user turns. Both are found by
probing the template once, not by guessing from its name. Rendering errors raise TemplateError.
The prompt keeps apart the template's own text and the messages' text (`agent.masking`), so that
the backend can tokenize message text without special tokens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agent.errors import TemplateError
from agent.masking import DataMask
from agent.messages import ChatMessage, Prompt, is_plain_id

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_STOP = "<|im_end|>"

_SYSTEM_PROBE = "\u27e6system-probe\u27e7"
_ASSISTANT_PROBE = "\u27e6assistant-probe\u27e7"
_TOOLS_PROBE = "tools_probe_27e6"
_TOOL_PROBE = "\u27e6tool-probe\u27e7"

Mask = Callable[[str], str]  # a stand-in for an untrusted string (`str`: the string itself)


class _TemplateRaised(Exception):
    """`raise_exception(...)` was called by the template."""


def _raise_exception(message: str) -> None:
    raise _TemplateRaised(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # HF's tojson: unlike Jinja2's, it does not HTML-escape, which would change the prompt.
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols],
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


def message_dict(message: ChatMessage, mask: Mask = str) -> dict[str, Any]:
    """`message` in the shape HF chat templates expect; `mask` stands in for its untrusted strings
    (see `agent.masking`).

    An assistant turn that has content is rendered from its content alone (the raw text the model
    generated), so the next prompt begins with exactly the tokens already in the KV cache; its
    `tool_calls` are only rendered when there is no content to show.
    """
    data: dict[str, Any] = {"role": message.role, "content": mask(message.content)}
    if message.role == "assistant" and message.tool_calls and not message.content:
        data["tool_calls"] = [
            {
                "id": safe_call_id(call.id),
                "type": "function",
                "function": {
                    "name": mask(call.name),
                    "arguments": {
                        mask(key): mask(value) if isinstance(value, str) else value
                        for key, value in call.arguments.items()
                    },
                },
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = safe_call_id(message.tool_call_id)
        data["name"] = mask(message.name) if message.name is not None else None
    return data


def safe_call_id(call_id: str | None) -> str | None:
    """`call_id` when it is a plain identifier, else a digest of it: ids are model text that
    templates write as structure, so only letters, digits, `_` and `-` may pass."""
    if call_id is None or is_plain_id(call_id):
        return call_id
    return hashlib.sha256(call_id.encode("utf-8", "replace")).hexdigest()[:9]


class ChatTemplate:
    """A compiled chat template and what it supports."""

    def __init__(self, source: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        self.is_fallback = source is None or not source.strip()
        self.source = CHATML_TEMPLATE if self.is_fallback else str(source)
        self.bos_token = bos_token
        self.eos_token = eos_token
        try:
            self._template = _environment().from_string(self.source)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"the model's chat template does not compile: {exc}") from exc

    @cached_property
    def supports_system(self) -> bool:
        """Whether a system message reaches the prompt where it was, at the start, also once the
        conversation has gone on (Mistral Nemo's moves it to the last user turn, so each step
        would see it somewhere else, and drops it when a tool result comes last)."""
        probe = [
            ChatMessage(role="system", content=_SYSTEM_PROBE),
            ChatMessage(role="user", content="u"),
            ChatMessage(role="assistant", content=_ASSISTANT_PROBE),
            ChatMessage(role="user", content="v"),
        ]
        try:
            text = self._render_raw(probe, True)
        except TemplateError:
            return False
        return _SYSTEM_PROBE in text and text.find(_SYSTEM_PROBE) < text.find(_ASSISTANT_PROBE)

    @cached_property
    def renders_tools(self) -> bool:
        """Whether the template writes the tool list it is given (`tools=`)."""
        probe = [ChatMessage(role="system", content="s"), ChatMessage(role="user", content="u")]
        spec = {"type": "function", "function": {"name": _TOOLS_PROBE, "description": "d"}}
        try:
            return _TOOLS_PROBE in self._render_raw(probe, True, tools=[spec])
        except TemplateError:
            return False

    @cached_property
    def supports_tool_role(self) -> bool:
        """Whether a `tool` message reaches the prompt."""
        probe = [
            ChatMessage(role="user", content="u"),
            ChatMessage(role="assistant", content="a"),
            # nine alphanumerics: Mistral's templates insist on that shape of id
            ChatMessage(role="tool", content=_TOOL_PROBE, tool_call_id="call00000", name="t"),
        ]
        return self._probe(probe, _TOOL_PROBE)

    def _probe(self, messages: list[ChatMessage], marker: str) -> bool:
        try:
            return marker in self._render_raw(messages, True)
        except TemplateError:
            return False

    def adapt(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        """`messages` rewritten into roles this template renders (see the module docstring)."""
        adapted = list(messages)
        if not self.supports_tool_role:
            adapted = [_as_user(m) if m.role == "tool" else m for m in adapted]
        if not self.supports_system and adapted and adapted[0].role == "system":
            system, rest = adapted[0], adapted[1:]
            if rest and rest[0].role == "user":
                merged = (
                    f"{system.content}\n\n{rest[0].content}" if system.content else rest[0].content
                )
                adapted = [ChatMessage(role="user", content=merged), *rest[1:]]
            else:
                adapted = [ChatMessage(role="user", content=system.content), *rest]
        return adapted

    def render(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] = (),
        add_generation_prompt: bool = True,
    ) -> Prompt:
        """The prompt for `messages`, as the template's structure and the messages' data (see
        `agent.masking`); raises TemplateError. `tools` are JSON Schema function specs for the
        template to write (`{"type": "function", "function": {...}}`; none: `tools` is None).

        If the template still rejects the conversation (some insist that user and assistant
        alternate, or on a shape of tool-call id), it is tried once more with tool results as
        user turns and consecutive user turns merged.
        """
        adapted = self.adapt(messages)
        try:
            return self._render_prompt(adapted, add_generation_prompt, tools)
        except TemplateError:
            plain = _merge_consecutive_users(
                [_as_user(m) if m.role == "tool" else m for m in adapted]
            )
            if plain == adapted:
                raise
            return self._render_prompt(plain, add_generation_prompt, tools)

    def _render_prompt(
        self,
        messages: Sequence[ChatMessage],
        add_generation_prompt: bool,
        tools: Sequence[Mapping[str, Any]],
    ) -> Prompt:
        real = self._render_raw(messages, add_generation_prompt, tools=tools)
        data = DataMask()
        masked = self._render_raw(messages, add_generation_prompt, data.mask, tools=tools)
        return Prompt(parts=data.parts(masked, real))

    def _render_raw(
        self,
        messages: Sequence[ChatMessage],
        add_generation_prompt: bool,
        mask: Mask = str,
        *,
        tools: Sequence[Mapping[str, Any]] = (),
    ) -> str:
        context: dict[str, Any] = {
            "messages": [message_dict(m, mask) for m in messages],
            # as HF passes them: None when there are none, which templates test for
            "tools": [_masked_json(spec, mask) for spec in tools] or None,
            "add_generation_prompt": add_generation_prompt,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        try:
            return self._template.render(**context)
        except _TemplateRaised as exc:
            raise TemplateError(
                f"the model's chat template refused the conversation: {exc}"
            ) from exc
        except (jinja2.TemplateError, TypeError, ValueError, KeyError) as exc:
            raise TemplateError(f"cannot render the model's chat template: {exc}") from exc


def _masked_json(value: Any, mask: Mask, key: str = "") -> Any:
    """A tool spec with its text masked (descriptions, names, enum values, property names); the
    JSON Schema keywords and `type` values stay as they are, since templates read them."""
    if isinstance(value, Mapping):
        return {
            (mask(k) if key == "properties" else k): _masked_json(v, mask, k)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_masked_json(item, mask, key) for item in value]
    if isinstance(value, str) and key != "type":
        return mask(value)
    return value


def _as_user(message: ChatMessage) -> ChatMessage:
    return ChatMessage(role="user", content=message.content)


def _merge_consecutive_users(messages: list[ChatMessage]) -> list[ChatMessage]:
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and message.role == "user" and merged[-1].role == "user":
            joined = f"{merged[-1].content}\n\n{message.content}"
            merged[-1] = ChatMessage(role="user", content=joined)
        else:
            merged.append(message)
    return merged
