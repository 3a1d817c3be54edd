"""The tools a run would load, as `agent tools list` shows them and `agent tools lock` pins them.

    listing = list_tools(settings, cache_dir=cache, environ=os.environ)
    lock = lock_tools(settings, cache_dir=cache, environ=os.environ)   # writes tools.lock

Both load the components that `settings` name (the `-c` files, else the tools folder) in this
process under the run's policy without its pins, so a changed component is shown as `changed`
instead of refused. The lock lives at `lock_file(environ)` (the user's config folder,
`tools.lock`; `tool_runner.lock` describes the format); `agent.session.sandbox_policy` pins
every run to it. Tools the agent wrote (the library, issue 16) are listed too, with their
source's sha256 and `source = "library"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.config import AgentSettings
from agent.executor import component_paths
from agent.paths import user_paths
from agent.session import sandbox_policy
from tool_runner import ToolEntry, ToolGrants, ToolLock, ToolRunner
from tool_runner import lock_entries as entries

LockState = Literal["locked", "unlocked", "changed"]


def lock_file(environ: Mapping[str, str]) -> Path:
    """Where `agent tools lock` writes and every run reads the pins."""
    return user_paths(environ).tools_lock


class ListedTool(BaseModel):
    """One row of `agent tools list`: a component (or a library tool) and its lock state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    tools: tuple[str, ...]
    sha256: str
    world: str
    grants: tuple[str, ...]
    path: str
    source: Literal["components", "library"]
    lock: LockState
    locked_sha256: str | None = None


class ToolListing(BaseModel):
    """What `agent tools list --json` prints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lock_file: str
    tools: tuple[ListedTool, ...]


def _loaded(settings: AgentSettings, cache_dir: Path | None) -> tuple[ToolEntry, ...]:
    if settings.no_tools or (not settings.components and settings.tools_dir is None):
        return ()
    paths = component_paths(settings.components, settings.tools_dir or Path("components"))
    policy = sandbox_policy(settings).model_copy(update={"pins": {}})
    with ToolRunner(policy=policy, cache_dir=cache_dir) as runner:
        return entries(runner.load_all(paths))


def _state(entry: ToolEntry, pins: Mapping[str, str]) -> LockState:
    pinned = pins.get(entry.name)
    if pinned is None:
        return "unlocked"
    return "locked" if pinned == entry.sha256 else "changed"


def list_tools(
    settings: AgentSettings, *, cache_dir: Path | None, environ: Mapping[str, str]
) -> ToolListing:
    """Every component a run with `settings` loads, and the library's tools; raises
    tool_runner.LoadError, PolicyError, agent.ConfigError."""
    path = lock_file(environ)
    pins = ToolLock.read(path).pins() if path.is_file() else {}
    rows = [
        ListedTool(
            name=entry.name,
            tools=entry.tools,
            sha256=entry.sha256,
            world=entry.world,
            grants=tuple(entry.grants.describe()),
            path=entry.path,
            source="components",
            lock=_state(entry, pins),
            locked_sha256=pins.get(entry.name),
        )
        for entry in _loaded(settings, cache_dir)
    ]
    rows += _library_rows(environ, pins)
    return ToolListing(lock_file=str(path), tools=tuple(rows))


def _library_rows(environ: Mapping[str, str], pins: Mapping[str, str]) -> list[ListedTool]:
    from agent.toolsmith import Library  # the library is optional: only read when present

    folder = user_paths(environ).library_dir
    if not folder.is_dir():
        return []
    rows = []
    for stored in Library(folder).load_all():
        entry = stored.entry
        rows.append(
            ListedTool(
                name=entry.name,
                tools=(stored.metadata.name,),
                sha256=entry.source_sha256,
                world="library",
                grants=tuple(ToolGrants().describe()),
                path=str(folder / entry.name),
                source="library",
                lock="unlocked",
            )
        )
    return rows


def lock_tools(
    settings: AgentSettings, *, cache_dir: Path | None, environ: Mapping[str, str]
) -> tuple[Path, ToolLock]:
    """Pin every component a run with `settings` loads (their bytes now) in `lock_file`;
    returns where and what was written. Raises as `list_tools` does."""
    lock = ToolLock(tools=_loaded(settings, cache_dir))
    path = lock_file(environ)
    lock.write(path)
    return path, lock
