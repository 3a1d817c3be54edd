"""What a Python tool declares about itself, free of any WIT binding so that it runs anywhere.

A tool module defines `SPEC` (a `ToolSpec`) and a `run(args)` function that returns the
output text or raises `ToolError` with a one-line message for the model. `guest.export_tool`
turns the pair into the component's `tool` export; tests call `run` directly in CPython.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass


class ToolError(Exception):
    """A failure the tool reports to the model: its `message` is one line of plain text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())


@dataclass(frozen=True)
class Param:
    """One parameter; `type` is a JSON Schema type: string, integer, number or boolean.

    `enum` lists the only strings a string parameter accepts; `minimum`/`maximum` bound an
    integer or number parameter (inclusive). The host checks them before the tool runs, and the
    agent constrains the model's decoding to them.
    """

    name: str
    description: str
    type: str = "string"
    required: bool = True
    enum: tuple[str, ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None

    def wire_type(self) -> str:
        """The metadata record's `type`: the type name, or with constraints a JSON Schema
        fragment such as `{"type": "string", "enum": ["a", "b"]}` (which the host parses)."""
        fragment: dict[str, object] = {"type": self.type}
        if self.enum:
            fragment["enum"] = list(self.enum)
        if self.minimum is not None:
            fragment["minimum"] = self.minimum
        if self.maximum is not None:
            fragment["maximum"] = self.maximum
        return self.type if len(fragment) == 1 else json.dumps(fragment)


@dataclass(frozen=True)
class Usage:
    """A worked example: a user request and the assistant's directive for it."""

    user: str
    assistant: str


@dataclass(frozen=True)
class ToolSpec:
    """A tool's metadata, exported verbatim by `get-metadata`."""

    name: str
    description: str
    version: str
    params: tuple[Param, ...]
    usage: tuple[Usage, ...]


def required(args: Mapping[str, str], name: str) -> str:
    """The argument `name`, or ToolError when it is missing (the host checks this too)."""
    try:
        return args[name]
    except KeyError:
        raise ToolError(f"missing required parameter '{name}'") from None


def optional_int(args: Mapping[str, str], name: str, default: int) -> int:
    """The integer argument `name`, `default` when absent; ToolError when not an integer."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ToolError(f"parameter '{name}' must be an integer, got {raw!r}") from None
