"""Errors of the toolsmith (self-built tools); host-side failures that stop with one line.

    AgentError (agent.errors)
    └── ToolsmithError          anything the toolsmith cannot do
        ├── BuildError          a component that cannot be built (no componentize-py, or it failed)
        └── LibraryError        a stored tool that cannot be used: unknown, unreadable, or its
                                source or component no longer matches its recorded sha256

A model's draft that does not build (bad name, schema or source) is not an error here: it goes
back to the model as an error `ToolResult` so that it can fix it.
"""

from __future__ import annotations

from agent.errors import AgentError


class ToolsmithError(AgentError):
    """Base of the toolsmith's errors."""


class BuildError(ToolsmithError):
    """A component that could not be built; the message holds the first useful lines."""


class LibraryError(ToolsmithError):
    """A stored tool that cannot be used; carries its name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"library tool {name!r}: {reason}")
        self.name = name
        self.reason = reason
