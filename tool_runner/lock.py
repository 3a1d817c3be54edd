"""Pinned components: `tools.lock` records each loaded component's sha256, and a component whose
bytes changed is refused until it is locked again.

The lock is JSON (one object; `version` 1), written by `agent tools lock`:

    {"version": 1, "tools": [{"name": "files",                  # the name it is loaded under
                              "path": "/abs/components/files-tool-component.wasm",
                              "sha256": "<64 hex>", "world": "llm-agent",
                              "tools": ["Files"],                # the names it serves
                              "grants": {...}}]}                 # what its policy grants it

`ToolLock.pins()` becomes `Policy.pins`; every load under that policy hashes the file and raises
`PinnedError` (one line: the tool and both digests) when they differ. A component the lock does
not name loads as before (`agent tools list` shows it as unlocked). `grants` records what was
approved for the tool when it was locked, for review; the policy still decides what it gets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tool_runner.errors import PolicyError
from tool_runner.grants import ToolGrants, first_error
from tool_runner.policy import Policy

if TYPE_CHECKING:
    from tool_runner.runner import Tool


class ToolEntry(BaseModel):
    """One loaded component as `agent tools list` shows it and `tools.lock` records it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="the name it is loaded under (its grants' key)")
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    world: str
    tools: tuple[str, ...] = Field(description="the tool names it serves")
    grants: ToolGrants = Field(default_factory=ToolGrants)


class ToolLock(BaseModel):
    """The contents of a `tools.lock` file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    tools: tuple[ToolEntry, ...] = ()

    def pins(self) -> dict[str, str]:
        """Load name -> sha256, for `Policy.pins`."""
        return {entry.name: entry.sha256 for entry in self.tools}

    @classmethod
    def read(cls, path: Path) -> ToolLock:
        """The lock in `path`; raises PolicyError with one line."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise PolicyError(f"cannot read lock {path}: {exc.strerror or exc}") from exc
        except ValidationError as exc:
            raise PolicyError(f"invalid lock {path}: {first_error(exc)}") from exc

    def write(self, path: Path) -> None:
        """Write the lock to `path` atomically (a temporary file renamed over it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        data = json.dumps(self.model_dump(mode="json", exclude_defaults=False), indent=2)
        try:
            temporary.write_text(data + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise PolicyError(f"cannot write lock {path}: {exc.strerror or exc}") from exc


def with_lock(policy: Policy, lock_file: Path) -> Policy:
    """`policy` pinned to the digests in `lock_file` (unchanged when there is no such file);
    raises PolicyError."""
    if not lock_file.is_file():
        return policy
    return policy.model_copy(update={"pins": ToolLock.read(lock_file).pins()})


def entries(tools: Sequence[Tool]) -> tuple[ToolEntry, ...]:
    """One entry per loaded component (a component serving several tools is one entry)."""
    found: dict[Path, ToolEntry] = {}
    for tool in tools:
        known = found.get(tool.path)
        if known is not None:
            found[tool.path] = known.model_copy(update={"tools": (*known.tools, tool.name)})
            continue
        own = tool.policy
        grants = ToolGrants(
            env=own.env, env_values=own.env_values, dirs=own.dirs, http_hosts=own.http_hosts
        )
        found[tool.path] = ToolEntry(
            name=tool.key,
            path=str(tool.path.resolve()),
            sha256=tool.digest,
            world=str(tool.world),
            tools=(tool.name,),
            grants=grants,
        )
    return tuple(sorted(found.values(), key=lambda entry: entry.name))
