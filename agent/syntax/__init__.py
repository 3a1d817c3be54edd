"""Tool-call syntaxes: teaching a model to call tools, reading its calls, constraining its output.

    from agent.syntax import get_syntax, detect_syntax

    syntax = get_syntax(detect_syntax(backend.chat_template))
    system = syntax.system_prompt(tools)
    grammar = syntax.grammar(tools)              # validated GBNF, "auto": text or calls
    parsed = syntax.parse(reply_text, tools)     # never raises: content, calls, errors

Syntaxes: "directive" (`USE_TOOL: Echo, value=...`, the seed's), "hermes" (Qwen 2.5 / Hermes
`<tool_call>`), "llama3" (Llama 3.x JSON), "mistral" (`[TOOL_CALLS]`), "json" (generic).
"""

from __future__ import annotations

from agent.choices import SYNTAXES, SyntaxName, ToolChoice
from agent.errors import ConfigError
from agent.syntax.base import CallSyntax, ParsedReply, SyntaxBase
from agent.syntax.detect import detect_syntax
from agent.syntax.directive import DirectiveSyntax
from agent.syntax.gbnf import validate_gbnf
from agent.syntax.grammar import MAX_CALLS
from agent.syntax.native import HermesSyntax, JsonSyntax, Llama3Syntax, MistralSyntax

_CLASSES: dict[str, type[SyntaxBase]] = {
    cls.name: cls
    for cls in (DirectiveSyntax, HermesSyntax, Llama3Syntax, MistralSyntax, JsonSyntax)
}
if tuple(_CLASSES) != SYNTAXES:  # pragma: no cover - a new syntax needs its name and its class
    raise ImportError(f"syntax classes {tuple(_CLASSES)} do not match the names {SYNTAXES}")


def get_syntax(name: str) -> CallSyntax:
    """The call syntax called `name`; raises ConfigError (listing the names) for an unknown one."""
    cls = _CLASSES.get(name)
    if cls is None:
        raise ConfigError(f"unknown call syntax {name!r} (choose one of: {', '.join(SYNTAXES)})")
    return cls()  # type: ignore[return-value]


__all__ = [
    "MAX_CALLS",
    "SYNTAXES",
    "CallSyntax",
    "ParsedReply",
    "SyntaxName",
    "ToolChoice",
    "detect_syntax",
    "get_syntax",
    "validate_gbnf",
]
