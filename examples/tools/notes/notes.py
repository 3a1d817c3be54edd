"""Notes: remember, recall, forget and list short notes in the host's key-value memory.

The memory (`llm-agent:memory/store`) is the host's: a tool keeps nothing between calls itself
(each call is a fresh instance). `run` takes the store as a parameter so that tests can run it
with a dictionary-backed stand-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from toolspec import Param, ToolError, ToolSpec, Usage, required

OPS = ("remember", "recall", "forget", "list")
MAX_LISTED = 50

SPEC = ToolSpec(
    name="Notes",
    description=(
        "Your memory across conversations: remember a note under a key, recall it, forget it, "
        "or list the keys"
    ),
    version="0.1.0",
    params=(
        Param("op", "What to do", enum=OPS),
        Param("key", "The note's name, e.g. user_name (not for list)", required=False),
        Param("text", "The note (for remember)", required=False),
    ),
    usage=(
        Usage(
            "My name is <name>; please remember it",
            "USE_TOOL: Notes, op=remember, key=user_name, text=<name>",
        ),
        Usage("What is my name?", "USE_TOOL: Notes, op=recall, key=user_name"),
    ),
)


class Store(Protocol):
    """What the tool needs of the memory."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def remove(self, key: str) -> bool: ...
    def keys(self) -> list[str]: ...


def run(args: Mapping[str, str], store: Store) -> str:
    """Do `op` on the memory; raises ToolError with a one-line reason."""
    op = required(args, "op")
    if op == "list":
        keys = store.keys()
        if not keys:
            return "(no notes)"
        shown = ", ".join(keys[:MAX_LISTED])
        return shown if len(keys) <= MAX_LISTED else f"{shown}, ... ({len(keys)} in all)"
    key = required(args, "key").strip()
    if op == "remember":
        store.set(key, required(args, "text"))
        return f"remembered {key}"
    if op == "recall":
        value = store.get(key)
        if value is None:
            raise ToolError(f"no note called {key!r}")
        return value
    if op == "forget":
        return f"forgot {key}" if store.remove(key) else f"there was no note called {key!r}"
    raise ToolError(f"unknown op {op!r}: one of {', '.join(OPS)}")
