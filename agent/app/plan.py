"""Reading an app file and checking it: `load_app(path)` returns an `App` or raises one line.

What is checked, each failure an `AppFileError` naming the file, the key and its line:
- the TOML parses and fits `agent.app.schema` (an unknown key is named);
- every name resolves: the entry agent, each agent's model, each name in an agent's `tools`
  (a tool or an agent; a name that is both is refused);
- agents do not call each other in a cycle (the cycle is spelled out);
- every grant is well formed and satisfiable: a granted directory exists, an environment
  variable name is valid, a host is `HOST` or `HOST:PORT`;
- no agent is given more than its caller: a tool's grants must be within the grants of every
  agent that lists it, and an agent's grants within those of every agent that calls it (so a
  sub-agent never holds a grant its caller was not given for it).

Nothing here loads a component or a model; `agent.app.team` does (and `check` asks it to).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.app.locate import key_lines, line_of
from agent.app.schema import AppFile, Grants, ToolEntry
from agent.errors import AppFileError
from tool_runner import DirGrant, Policy, PolicyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


@dataclass(frozen=True)
class ResolvedGrants:
    """Grants with directories resolved against the app's folder and parsed."""

    dirs: tuple[DirGrant, ...]
    env: tuple[str, ...]
    hosts: tuple[str, ...]
    memory: bool

    def covers(self, other: ResolvedGrants) -> str | None:
        """None when `other` asks for nothing beyond these grants, else what it asks for."""
        for grant in other.dirs:
            if not any(_dir_covers(mine, grant) for mine in self.dirs):
                mode = "rw" if grant.writable else "ro"
                return f"directory {grant.host} ({mode})"
        mine_env = {spec.partition("=")[0] for spec in self.env}
        for spec in other.env:
            if spec.partition("=")[0] not in mine_env:
                return f"environment variable {spec.partition('=')[0]}"
        for host in other.hosts:
            if host not in self.hosts:
                return f"host {host}"
        if other.memory and not self.memory:
            return "memory"
        return None


def _dir_covers(mine: DirGrant, asked: DirGrant) -> bool:
    inside = asked.host == mine.host or mine.host in asked.host.parents
    return inside and (mine.writable or not asked.writable)


@dataclass(frozen=True)
class App:
    """A checked app file: its schema, where it lives, and every agent's resolved grants."""

    path: Path
    spec: AppFile
    lines: Mapping[tuple[str, ...], int]
    tool_grants: Mapping[str, ResolvedGrants]
    agent_grants: Mapping[str, ResolvedGrants]

    @property
    def base(self) -> Path:
        """The folder that relative paths in the file are relative to."""
        return self.path.parent

    @property
    def name(self) -> str:
        """The app's name (`[app] name`)."""
        return self.spec.app.name

    def error(self, key: Sequence[object], message: str) -> AppFileError:
        """An AppFileError for `key` (a path of table and key names) with its line."""
        return AppFileError(str(self.path), _dotted(key), message, line_of(self.lines, key))

    def resolve_path(self, path: Path) -> Path:
        """`path` relative to the app file's folder (absolute paths and `~` as they are)."""
        path = path.expanduser()
        return path if path.is_absolute() else self.base / path

    def delegates(self, agent: str) -> list[str]:
        """The agents `agent` may call, in the order its `tools` lists them."""
        return [name for name in self.spec.agents[agent].tools if name in self.spec.agents]

    def tools_of(self, agent: str) -> list[str]:
        """The tool entries `agent` lists, in order."""
        return [name for name in self.spec.agents[agent].tools if name in self.spec.tools]

    def tool_policy(self, tool: str) -> Policy:
        """The sandbox policy of the tool entry `tool`: its own grants and limits, nothing
        else (the memory grant is added by the team, which knows the session)."""
        entry = self.spec.tools[tool]
        grants = self.tool_grants[tool]
        limits = {
            "timeout_s": entry.timeout,
            "memory_mib": entry.memory_mib,
            "fuel": entry.fuel,
            "max_output_bytes": entry.max_output,
        }
        try:
            policy = Policy().with_grants(limits=limits, env=grants.env, http_hosts=grants.hosts)
            return (
                policy.updated(dirs=[d.model_dump() for d in grants.dirs])
                if grants.dirs
                else policy
            )
        except PolicyError as exc:
            raise self.error(("tools", tool, "grants"), str(exc)) from exc

    def depth_from_entry(self) -> list[str]:
        """The longest delegation chain from the entry agent (names, entry first)."""
        best: list[str] = []

        def walk(name: str, chain: list[str]) -> None:
            nonlocal best
            chain = [*chain, name]
            if len(chain) > len(best):
                best = chain
            for sub in self.delegates(name):
                walk(sub, chain)

        walk(self.spec.app.entry, [])
        return best


def _dotted(key: Sequence[object]) -> str:
    return ".".join(str(part) for part in key)


def load_app(path: Path) -> App:
    """Read and check the app file at `path`; raises AppFileError with one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AppFileError(str(path), "", f"cannot read it: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AppFileError(str(path), "", f"not valid TOML: {exc}") from exc
    lines = key_lines(text)
    spec = _validate(data, path, lines)
    bare = App(path=path.resolve(), spec=spec, lines=lines, tool_grants={}, agent_grants={})
    _check_names(bare)
    _check_cycles(bare)
    tool_grants = {
        name: _resolve_grants(bare, ("tools", name, "grants"), entry.grants)
        for name, entry in spec.tools.items()
    }
    agent_grants = {
        name: _resolve_grants(bare, ("agents", name, "grants"), entry.grants)
        for name, entry in spec.agents.items()
    }
    app = App(
        path=bare.path, spec=spec, lines=lines, tool_grants=tool_grants, agent_grants=agent_grants
    )
    _check_grants(app)
    return app


def _validate(data: dict[str, Any], path: Path, lines: Mapping[tuple[str, ...], int]) -> AppFile:
    try:
        return AppFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key missing"
        else:
            message = str(first["msg"]).removeprefix("Value error, ")
        # a field validator on a table reports the table; `missing` the table that lacks it
        raise AppFileError(str(path), _dotted(loc), message, line_of(lines, loc)) from exc


def _check_names(app: App) -> None:
    spec = app.spec
    if spec.app.entry not in spec.agents:
        raise app.error(("app", "entry"), f"no agent named {spec.app.entry!r}")
    for name in sorted(set(spec.tools) & set(spec.agents)):
        raise app.error(("agents", name), f"{name!r} names both a tool and an agent")
    for name, agent in spec.agents.items():
        if agent.model not in spec.models:
            known = ", ".join(sorted(spec.models))
            raise app.error(
                ("agents", name, "model"), f"no model named {agent.model!r} (models: {known})"
            )
        for tool in agent.tools:
            if tool not in spec.tools and tool not in spec.agents:
                raise app.error(("agents", name, "tools"), f"no tool or agent named {tool!r}")
    for name, entry in spec.tools.items():
        _check_tool_source(app, name, entry)


def _check_tool_source(app: App, name: str, entry: ToolEntry) -> None:
    if entry.component is not None:
        source = app.resolve_path(entry.component)
        if not source.is_file():
            raise app.error(("tools", name, "component"), f"no such file: {source}")
    elif entry.dir is not None:
        source = app.resolve_path(entry.dir)
        if not source.is_dir():
            raise app.error(("tools", name, "dir"), f"no such directory: {source}")
        if not entry.grants.empty:
            raise app.error(
                ("tools", name, "grants"),
                "grants are given to one component: list it with 'component', not 'dir'",
            )


def _check_cycles(app: App) -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, chain: list[str]) -> None:
        state[name] = 1
        for sub in app.delegates(name):
            if state.get(sub) == 1:
                cycle = " -> ".join([*chain[chain.index(sub) :], sub])
                raise app.error(
                    ("agents", name, "tools"), f"agents call each other in a cycle: {cycle}"
                )
            if state.get(sub) is None:
                visit(sub, [*chain, sub])
        state[name] = 2

    for name in app.spec.agents:
        if state.get(name) is None:
            visit(name, [name])


def _resolve_grants(app: App, key: tuple[str, ...], grants: Grants) -> ResolvedGrants:
    dirs = []
    for index, spec in enumerate(grants.dirs):
        host, sep, rest = spec.partition(":")
        absolute = str(app.resolve_path(Path(host))) if host else host
        try:
            dirs.append(DirGrant.parse(absolute + sep + rest))
        except PolicyError as exc:
            reason = str(exc).replace(repr(absolute + sep + rest), repr(spec))
            raise app.error((*key, "dirs", index), reason) from exc
    try:
        checked = Policy().with_grants(env=grants.env, http_hosts=grants.hosts)
    except PolicyError as exc:
        raise app.error(key, str(exc)) from exc
    env = tuple(grants.env)
    return ResolvedGrants(dirs=tuple(dirs), env=env, hosts=checked.http_hosts, memory=grants.memory)


def _check_grants(app: App) -> None:
    for name, agent in app.spec.agents.items():
        ceiling = app.agent_grants[name]
        for listed in agent.tools:
            asked = app.tool_grants.get(listed) or app.agent_grants[listed]
            beyond = ceiling.covers(asked)
            if beyond is not None:
                kind = "tool" if listed in app.spec.tools else "agent"
                raise app.error(
                    ("agents", name, "tools"),
                    f"{kind} {listed!r} needs {beyond}, which agents.{name}.grants does not give",
                )


__all__ = ["App", "ResolvedGrants", "load_app"]
