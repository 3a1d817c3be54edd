"""The directive call syntax (`USE_TOOL: Echo, value=...`), for models whose chat template knows
no tools (Phi-3, and any template-less GGUF). The reading rules are in `directive_parser`."""

from __future__ import annotations

from collections.abc import Sequence

from agent.choices import SyntaxName, ToolChoice
from agent.errors import GrammarError
from agent.messages import ChatMessage, ToolCall
from agent.syntax.base import ParsedReply, SyntaxBase, show_placeholders, usage_calls
from agent.syntax.directive_parser import (
    parse_directive,
    render_call,
    render_directive,
    render_value,
)
from agent.syntax.grammar import (
    MAX_STRING_CHARS,
    PLACEHOLDER_START,
    GrammarBuilder,
    canonical_params,
    free_text,
    json_string,
    literal,
    repeated_calls,
    rule_name,
)
from agent.syntax.prompt import describe_tools, with_preamble
from agent.syntax.schema_grammar import param_value
from tool_runner import MARKER, ToolMetadata, ToolUsage

_HOW_TO_CALL = f"""\
To use a tool, reply with only this line, each <...> filled in:
{MARKER}: <tool name>, <parameter>=<value>, ...
Quote a value ("...", JSON escapes) that has a comma, a quote or a line break. The result \
comes back as "Result of <tool name>: ...". Then answer in plain text."""


class DirectiveSyntax(SyntaxBase):
    """`USE_TOOL: Name, param=value, ...`, one call per line (the seed's syntax, done right)."""

    name: SyntaxName = "directive"
    call_form = f'"{MARKER}: <tool name>, <parameter>=<value>, ..." on its own line'

    def system_prompt(self, tools: Sequence[ToolMetadata], *, preamble: str | None = None) -> str:
        """Preamble, each tool with its parameters and examples, and the directive rules."""
        if not tools:
            return with_preamble(preamble)
        described = describe_tools(tools, _example)
        return with_preamble(preamble, "You can use these tools:\n\n" + described, _HOW_TO_CALL)

    def parse(self, text: str, tools: Sequence[ToolMetadata]) -> ParsedReply:
        """Read calls per the rules in `directive_parser`; never raises."""
        return parse_directive(text, tools)

    def render(self, calls: Sequence[ToolCall], tools: Sequence[ToolMetadata]) -> str:
        """The canonical lines of `calls`."""
        return render_directive(calls, tools)

    def grammar(
        self, tools: Sequence[ToolMetadata], *, tool_choice: ToolChoice = "auto", max_calls: int = 1
    ) -> str:
        """Calls in canonical form for the known tools only, one per line, at most `max_calls`;
        in "auto" mode a plain-text answer (containing no USE_TOOL) may come instead or first."""
        b = GrammarBuilder()
        if not tools:
            if tool_choice == "required":
                raise GrammarError("cannot require a tool call: no tools are available")
            b.rule("root", f"[ \\n]? {free_text(b, forbidden=MARKER)}")
            return b.build()
        string = _directive_string(b)
        alternatives = []
        for index, tool in enumerate(tools):
            args = []
            for param in canonical_params(tool):
                value = param_value(
                    b, param, string_rule=string, write_string=render_value, compact=True
                )
                member = f"{literal(', ' + param.name + '=')} {value}"
                args.append(member if param.required else f"({member})?")
            body = " ".join([literal(tool.name), *args])
            alternatives.append(b.rule(rule_name("call", index), body))
        b.rule("call", f"{literal(MARKER + ': ')} ({' | '.join(alternatives)})")
        calls = repeated_calls(b, "call", "\n", max_calls=max_calls)
        if tool_choice == "required":
            b.rule("root", f"[ \\n]? {calls}")
        else:
            text = free_text(b, forbidden=MARKER)
            b.rule("root", f"[ \\n]? ({calls} | {text} ([ \\n] {calls})?)")
        return b.build()

    def result_message(self, call: ToolCall, content: str, *, ok: bool) -> ChatMessage:
        """A `tool` message that also reads well when a tool-less template shows it as text."""
        text = f"Result of {call.name}: {content}" if ok else f"Error from {call.name}: {content}"
        return ChatMessage(role="tool", content=text, tool_call_id=call.id, name=call.name)


def _directive_string(b: GrammarBuilder) -> str:
    """A string value: a JSON string, or a bare run of text with no comma or double quote."""
    quoted = json_string(b)
    first = rf"[^\x00-\x20\x7F\"',{PLACEHOLDER_START}]"
    rest = f'[^\\x00-\\x1F\\x7F",]{{0,{MAX_STRING_CHARS - 1}}}'
    bare = b.rule("bare-string", f"{first} {rest}")
    return b.rule("directive-string", f"{quoted} | {bare}")


def _example(tool: ToolMetadata, usage: ToolUsage) -> str | None:
    """A usage example's calls in canonical directive form, with placeholders (None when it
    has no call that reads)."""
    calls = usage_calls(usage, tool)
    if not calls:
        return None
    return show_placeholders("\n".join(render_call(call, tool) for call in calls), quoted=False)
