"""The model-native JSON call syntaxes: Qwen 2.5 / Hermes, Llama 3.x, Mistral, and a generic one.

Each writes calls as JSON objects (see `jsoncall`) and differs in how calls are marked:

- hermes:  `<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>`, one block per call.
- llama3:  the whole reply is `{"name": ..., "parameters": {...}}` (an optional `<|python_tag|>`
           before it is accepted); one call per reply, as Llama 3's templates require.
- mistral: `[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]`.
- json:    the whole reply is one `{"tool": ..., "arguments": {...}}` object per line (a
           ```json fence around them is accepted); for templates that know tools but none of
           the above.

Parsing is lenient (see `jsoncall`); the grammars admit only the canonical form.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.choices import SyntaxName, ToolChoice
from agent.errors import GrammarError
from agent.messages import ToolCall
from agent.syntax.base import ParsedReply, SyntaxBase, show_placeholders, usage_calls
from agent.syntax.grammar import (
    MAX_CALLS,
    GrammarBuilder,
    free_text,
    literal,
    repeated_calls,
)
from agent.syntax.jsoncall import (
    JsonCallError,
    arguments_json,
    call_object_rule,
    call_objects,
    calls_json,
    decode_json,
    is_call_object,
    to_call,
)
from agent.syntax.prompt import describe_tools, with_preamble
from tool_runner import ToolMetadata, ToolUsage

_AFTER_RESULTS = (
    "Each result comes back in a tool message. Then answer the user in plain text. When no "
    "tool is needed, answer directly."
)


_ID_MEMBER = ', "id": "'  # Mistral's nine-character call id, after the arguments
_QUOTE = '"'


class _Collector:
    """Accumulates the pieces of one reply while a syntax scans it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.content: list[str] = []
        self.calls: list[ToolCall] = []
        self.errors: list[str] = []

    def add(self, value: object) -> None:
        for item in call_objects(value):
            try:
                self.calls.append(to_call(item, reply_text=self.text, index=len(self.calls)))
            except JsonCallError as exc:
                self.errors.append(f"malformed call: {exc}")

    def leading_json(self, pos: int, *, strict: bool) -> int:
        """Read JSON calls from `pos` on (separated by spaces, `,` or `;`); returns where they end.

        A JSON value that is not call-shaped ends the calls (it is content). Text that is not
        JSON there is an error when `strict`, content otherwise.
        """
        while pos < len(self.text) and self.text[pos] in "{[":
            try:
                value, end = decode_json(self.text, pos)
            except JsonCallError as exc:
                if strict:
                    self.errors.append(f"malformed call: {exc}")
                    return len(self.text)
                return pos
            if not all(is_call_object(v) for v in call_objects(value)):
                return pos
            self.add(value)
            pos = _skip(self.text, end, " \t\r\n,;")
        return pos

    def finish_marked(self, pos: int) -> ParsedReply:
        """The reply of a syntax whose calls follow markers, scanned up to `pos`: when no marker
        was seen (`pos` 0), a reply that is only call objects counts as calls."""
        if pos == 0:
            pos = self.leading_json(_skip(self.text, 0, " \t\r\n"), strict=False)
            pos = pos if self.calls else 0
        self.content.append(self.text[pos:])
        return self.reply()

    def reply(self) -> ParsedReply:
        content = "\n".join(piece.strip() for piece in self.content if piece.strip())
        return ParsedReply(content=content, calls=tuple(self.calls), errors=tuple(self.errors))


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _strip_prefix(text: str, pos: int, prefixes: Sequence[str]) -> int:
    for prefix in prefixes:
        if text.startswith(prefix, pos):
            return _skip(text, pos + len(prefix), " \t\r\n")
    return pos


class JsonSyntax(SyntaxBase):
    """Generic JSON calls: the reply is `{"tool": "<name>", "arguments": {...}}`, one per line."""

    name: SyntaxName = "json"
    name_key = "tool"
    args_key = "arguments"
    separator = "\n"
    call_limit = MAX_CALLS  # the most calls the syntax can write in one reply
    call_form = '{"tool": "<tool name>", "arguments": {...}} (the whole reply, one per line)'
    _fences = ("```json", "```JSON", "```")

    def system_prompt(self, tools: Sequence[ToolMetadata], *, preamble: str | None = None) -> str:
        """Preamble, the tools as compact text with their calls (placeholders for values) in
        this syntax, and the call form. (A chat template that writes the tools itself gets them
        as JSON Schema, and this prompt none.)"""
        if not tools:
            return with_preamble(preamble)
        listed = "You can use these tools:\n\n" + describe_tools(tools, self._example)
        return with_preamble(preamble, listed, self._teach(), _AFTER_RESULTS)

    def _teach(self) -> str:
        return (
            "To use a tool, reply with only a JSON object and nothing else:\n"
            '{"tool": "<tool name>", "arguments": {"<parameter>": <value>, ...}}\n'
            "Give the required parameters."
        )

    def _example(self, tool: ToolMetadata, usage: ToolUsage) -> str | None:
        """A usage example as its arguments only (the call form is taught once, below the
        tools: repeating its frame in every example would cost a third of the prompt)."""
        calls = usage_calls(usage, tool)
        if not calls:
            return None
        return show_placeholders("\n".join(arguments_json(c, tool) for c in calls), quoted=True)

    def render(self, calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
        """The canonical text of `calls`."""
        objects = calls_json(calls, tools, name_key=self.name_key, args_key=self.args_key)
        return self.separator.join(objects)

    def parse(self, text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
        """A reply that starts with JSON (after spaces and a fence) is calls; else content."""
        collector = _Collector(text)
        start = _strip_prefix(text, _skip(text, 0, " \t\r\n"), self._fences)
        if start < len(text) and text[start] in "{[":
            end = collector.leading_json(start, strict=True)
            tail = text[end:]
            collector.content.append(tail[3:] if tail.startswith("```") else tail)
        else:
            collector.content.append(text)
        return collector.reply()

    def grammar(
        self, tools: Sequence[ToolMetadata], *, tool_choice: ToolChoice = "auto", max_calls: int = 1
    ) -> str:
        """The canonical calls; in "auto" mode a plain answer may come instead."""
        b = GrammarBuilder()
        calls = self._calls_rule(b, tools, tool_choice, max_calls)
        if tool_choice == "required":
            b.rule("root", f"[ \\n]? {calls}")
        else:
            text = free_text(b, forbidden="", first_not="{[<`")
            b.rule("root", f"[ \\n]? ({calls} | {text})" if calls else f"[ \\n]? {text}")
        return b.build()

    def _calls_rule(
        self, b: GrammarBuilder, tools: Sequence[ToolMetadata], choice: str, max_calls: int
    ) -> str:
        """Rule `calls` ("" when there are no tools and calls are optional)."""
        if not tools:
            if choice == "required":
                raise GrammarError("cannot require a tool call: no tools are available")
            return ""
        obj = call_object_rule(b, tools, name_key=self.name_key, args_key=self.args_key)
        return repeated_calls(b, obj, self.separator, max_calls=min(max_calls, self.call_limit))


class Llama3Syntax(JsonSyntax):
    """Llama 3.1 / 3.2 JSON calls: the reply is `{"name": ..., "parameters": {...}}`."""

    name: SyntaxName = "llama3"
    name_key = "name"
    args_key = "parameters"
    call_limit = 1
    call_form = '{"name": "<function name>", "parameters": {...}} (the whole reply)'
    _fences = ("<|python_tag|>", "```json", "```")

    def _teach(self) -> str:
        return (
            "To call a function, respond with only a JSON object of the form "
            '{"name": function name, "parameters": dictionary of argument name and its value}, '
            "and nothing else. Do not use variables. Call one function at a time."
        )


class HermesSyntax(JsonSyntax):
    """Qwen 2.5 / Hermes calls: `<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>`."""

    name: SyntaxName = "hermes"
    name_key = "name"
    args_key = "arguments"
    call_form = '<tool_call>\n{"name": "<function name>", "arguments": {...}}\n</tool_call>'
    open_tag = "<tool_call>"
    close_tag = "</tool_call>"

    def _teach(self) -> str:
        return (
            "For a function call, return a json object with function name and arguments "
            "within <tool_call></tool_call> XML tags:\n"
            '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
            "</tool_call>"
        )

    def render(self, calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
        """One `<tool_call>` block per call."""
        objects = calls_json(calls, tools, name_key=self.name_key, args_key=self.args_key)
        return "\n".join(f"{self.open_tag}\n{obj}\n{self.close_tag}" for obj in objects)

    def parse(self, text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
        """Calls are the `<tool_call>` blocks; without any, a reply that is only a call object
        counts too. Everything else is content."""
        collector = _Collector(text)
        pos = 0
        while (opened := text.find(self.open_tag, pos)) >= 0:
            collector.content.append(text[pos:opened])
            body = _skip(text, opened + len(self.open_tag), " \t\r\n")
            body = _strip_prefix(text, body, ("```json", "```"))
            closed = text.find(self.close_tag, body)
            known = (len(collector.calls), len(collector.errors))
            collector.leading_json(body, strict=True)
            if known == (len(collector.calls), len(collector.errors)):
                collector.errors.append("malformed call: no call object in <tool_call>")
            elif closed < 0 and len(collector.errors) > known[1]:
                collector.errors[-1] += " (the <tool_call> block is not closed)"
            pos = len(text) if closed < 0 else closed + len(self.close_tag)
        return collector.finish_marked(pos)

    def grammar(
        self, tools: Sequence[ToolMetadata], *, tool_choice: ToolChoice = "auto", max_calls: int = 1
    ) -> str:
        """Canonical blocks; in "auto" mode plain text may come instead or before them."""
        if not tools:
            return JsonSyntax.grammar(self, tools, tool_choice=tool_choice, max_calls=max_calls)
        b = GrammarBuilder()
        obj = call_object_rule(b, tools, name_key=self.name_key, args_key=self.args_key)
        block = b.rule(
            "call", f"{literal(self.open_tag + chr(10))} {obj} {literal(chr(10) + self.close_tag)}"
        )
        return _marked_root(
            b,
            repeated_calls(b, block, "\n", max_calls=max_calls),
            tool_choice,
            forbidden=self.open_tag,
        )


class MistralSyntax(JsonSyntax):
    """Mistral calls: `[TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]`."""

    name: SyntaxName = "mistral"
    name_key = "name"
    args_key = "arguments"
    marker = "[TOOL_CALLS]"
    call_form = '[TOOL_CALLS][{"name": "<function name>", "arguments": {...}}]'

    def _teach(self) -> str:
        return (
            f"To call functions, reply with {self.marker} followed by a JSON list of calls and "
            f'nothing else: {self.marker}[{{"name": "<function name>", "arguments": '
            '{"<parameter>": <value>}}]'
        )

    def render(self, calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
        """`[TOOL_CALLS]` and the list of canonical call objects."""
        objects = calls_json(calls, tools, name_key=self.name_key, args_key=self.args_key)
        return f"{self.marker}[{', '.join(objects)}]"

    def parse(self, text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
        """Calls are the JSON after each `[TOOL_CALLS]`; without the marker, a reply that is
        only call objects counts too. Everything else is content."""
        collector = _Collector(text)
        pos = 0
        while (marked := text.find(self.marker, pos)) >= 0:
            collector.content.append(text[pos:marked])
            start = _skip(text, marked + len(self.marker), " \t\r\n")
            known = (len(collector.calls), len(collector.errors))
            pos = collector.leading_json(start, strict=True)
            if known == (len(collector.calls), len(collector.errors)):
                collector.errors.append(f"malformed call: no call object after {self.marker}")
        return collector.finish_marked(pos)

    def grammar(
        self, tools: Sequence[ToolMetadata], *, tool_choice: ToolChoice = "auto", max_calls: int = 1
    ) -> str:
        """The marker and a list of canonical objects; in "auto" mode text may come instead."""
        if not tools:
            return JsonSyntax.grammar(self, tools, tool_choice=tool_choice, max_calls=max_calls)
        b = GrammarBuilder()
        # the model may write its own id, which the template's [TOOL_RESULTS] then quote
        own_id = f"({literal(_ID_MEMBER)} [a-zA-Z0-9]{{9}} {literal(_QUOTE)})?"
        obj = call_object_rule(
            b, tools, name_key=self.name_key, args_key=self.args_key, id_member=own_id
        )
        listed = repeated_calls(b, obj, ", ", max_calls=max_calls)
        calls = b.rule("marked-calls", f'{literal(self.marker + "[")} {listed} "]"')
        return _marked_root(b, calls, tool_choice, forbidden=self.marker)


def _marked_root(b: GrammarBuilder, calls: str, choice: ToolChoice, *, forbidden: str) -> str:
    """Root for syntaxes whose calls start with a marker: calls, or text then calls, or text."""
    if choice == "required":
        b.rule("root", f"[ \\n]? {calls}")
    else:
        text = free_text(b, forbidden=forbidden, first_not="{[")
        b.rule("root", f"[ \\n]? ({calls} | {text} ([ \\n] {calls})?)")
    return b.build()
