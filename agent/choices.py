"""The closed sets of names that settings choose from, each defined once.

A leaf module (it imports nothing of ours) so that the model registry, the settings and the
syntaxes can all share these without importing each other.
"""

from __future__ import annotations

from typing import Literal, get_args

SyntaxName = Literal["directive", "hermes", "llama3", "mistral", "json"]
"""The tool-call syntaxes (`agent.syntax` has one class for each)."""

SyntaxChoice = Literal["auto", SyntaxName]
"""A syntax setting: a syntax, or "auto" (the one the model's chat template implies)."""

ToolChoice = Literal["auto", "required"]
"""Whether the first model turn may answer in plain text ("auto") or must call a tool."""

SYNTAXES: tuple[SyntaxName, ...] = get_args(SyntaxName)
SYNTAX_CHOICES: tuple[SyntaxChoice, ...] = get_args(SyntaxChoice)
TOOL_CHOICES: tuple[ToolChoice, ...] = get_args(ToolChoice)
