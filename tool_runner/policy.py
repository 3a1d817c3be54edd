"""The sandbox policy: what a tool may touch (deny by default) and the limits on every call.

A `Policy` grants nothing unless it says so: no host environment variables, no directories, no
network hosts, no inherited stdio. It is loaded from TOML or JSON (`Policy.from_file`) or built
from CLI flags (`policy_from_options`: a policy file plus grant and limit flags), and handed to
`ToolRunner` once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tool_runner.errors import PolicyError
from tool_runner.grants import (
    DIGEST_KEY,
    MIB,
    DirGrant,
    EnvNames,
    EnvValues,
    HttpHosts,
    Limits,
    ToolGrants,
    check_tool_key,
    digest_key,
    first_error,
    parse_env,
    scope_of,
)
from tool_runner.memory import MemoryGrant

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "SANDBOX_PARAMS",
    "DirGrant",
    "Limits",
    "Policy",
    "ToolGrants",
    "parse_env",
    "policy_from_options",
    "policy_from_params",
]


class Policy(BaseModel):
    """Everything the tools are granted. The default grants nothing and applies default limits.

    The top-level `env`, `env_values`, `dirs` and `http_hosts` are *unscoped* grants: they name
    no tool, so they apply only when exactly one tool is loaded (`check_scoped` refuses them
    beside a second tool). `tools` holds a section per tool, keyed by the name it is loaded
    under or `sha256:<hex>` (`tool_runner.grants`); `pins` maps load names to the sha256 a
    lock file recorded (`tool_runner.lock`): a component whose bytes differ is refused.
    `for_tool` is the one policy a tool's sandbox gets: its own grants, nobody else's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: EnvNames = ()
    env_values: EnvValues = Field(default_factory=dict)
    dirs: tuple[DirGrant, ...] = ()
    http_hosts: HttpHosts = ()
    http_max_bytes: int = Field(default=4 * MIB, ge=1)
    http_timeout_s: float = Field(default=10.0, gt=0)
    inherit_stdio: bool = False
    reuse_instance: bool = Field(
        default=False,
        description="Keep one instance per tool between calls (faster; state persists).",
    )
    limits: Limits = Field(default_factory=Limits)
    tool_limits: dict[str, Limits] = Field(default_factory=dict)
    tools: dict[str, ToolGrants] = Field(default_factory=dict)
    pins: dict[str, str] = Field(default_factory=dict)
    memory: MemoryGrant | None = Field(
        default=None, description="A key-value memory for llm-agent:memory/store (none: empty)."
    )

    @field_validator("tools")
    @classmethod
    def _tool_keys(cls, value: dict[str, ToolGrants]) -> dict[str, ToolGrants]:
        for key in value:
            check_tool_key(key)
        return value

    @field_validator("pins")
    @classmethod
    def _pins(cls, value: dict[str, str]) -> dict[str, str]:
        for name, digest in value.items():
            check_tool_key(name)
            if not DIGEST_KEY.match(digest_key(digest)):
                raise ValueError(f"invalid sha256 {digest!r} for {name!r}: expected 64 hex digits")
        return value

    def limits_for(self, tool: str) -> Limits:
        """The limits that apply to the tool called `tool`."""
        return self.tool_limits.get(tool, self.limits)

    def environment(self, host_env: Mapping[str, str]) -> list[tuple[str, str]]:
        """The guest environment: granted names present in `host_env`, then explicit values."""
        pairs = {name: host_env[name] for name in self.env if name in host_env}
        pairs.update(self.env_values)
        return sorted(pairs.items())

    @property
    def unscoped(self) -> ToolGrants:
        """The grants that name no tool (the top-level ones)."""
        return ToolGrants(
            env=self.env, env_values=self.env_values, dirs=self.dirs, http_hosts=self.http_hosts
        )

    @property
    def needs_digest(self) -> bool:
        """Whether loading a tool under this policy must hash its bytes (pins or digest keys)."""
        return bool(self.pins) or any(DIGEST_KEY.match(key) for key in self.tools)

    def check_scoped(self, names: Sequence[str]) -> None:
        """Refuse unscoped grants when more than one tool is loaded: they would reach every
        tool. Raises PolicyError with a one-line hint naming the tool-scoped form."""
        if len(names) >= 2 and self.memory is not None:
            raise PolicyError(
                f"a memory grant would reach all {len(names)} tools loaded; grant memory to a "
                "policy of one component"
            )
        if len(names) < 2 or self.unscoped.empty:
            return
        grants = self.unscoped.describe()
        flag, _, value = grants[0].partition(" ")
        listed = sorted(names)
        shown = ", ".join(listed[:6]) + (", ..." if len(listed) > 6 else "")
        raise PolicyError(
            f"unscoped grants ({', '.join(grants)}) would reach all {len(names)} tools loaded "
            f"({shown}); scope each to its tool, e.g. {flag} {listed[0]}={value}, or use a "
            "[tools.NAME] section in the policy file"
        )

    def check_pin(self, name: str, path: Path, digest: str | None) -> None:
        """Raise PinnedError when `name` is pinned to another sha256 than `digest`."""
        pinned = self.pins.get(name)
        if pinned is not None and digest is not None and pinned != digest:
            from tool_runner.errors import PinnedError

            raise PinnedError(path, name, pinned, digest)

    def for_tool(self, name: str, digest: str | None = None, *, alone: bool = True) -> Policy:
        """The policy of the tool loaded as `name` (with bytes `digest`): its own section(s),
        plus the unscoped grants when it is loaded `alone`; no other tool's grants, no pins."""
        sections = [self.tools.get(name)]
        if digest is not None:
            sections.append(self.tools.get(digest_key(digest)))
        base = self.unscoped if alone else ToolGrants()
        own = base.plus(sections)
        return self.model_copy(
            update={
                "env": own.env,
                "env_values": own.env_values,
                "dirs": own.dirs,
                "http_hosts": own.http_hosts,
                "limits": own.limits or self.limits,
                "tools": {},
                "pins": {},
                "memory": self.memory if alone else None,
            }
        )

    def with_tool_grants(self, key: str, grants: ToolGrants) -> Policy:
        """This policy with `grants` added to the section of the tool `key`; raises
        PolicyError."""
        try:
            check_tool_key(key)
        except ValueError as exc:
            raise PolicyError(str(exc)) from exc
        tools = dict(self.tools)
        tools[key] = (tools.get(key) or ToolGrants()).plus([grants])
        return self.model_copy(update={"tools": tools})

    def updated(self, **changes: Any) -> Policy:
        """A validated copy with `changes` applied; raises PolicyError."""
        try:
            return Policy.model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            raise PolicyError(f"invalid policy: {first_error(exc)}") from exc

    def with_grants(
        self,
        *,
        limits: Mapping[str, Any] | None = None,
        dirs: Sequence[str] = (),
        env: Sequence[str] = (),
        http_hosts: Sequence[str] = (),
        inherit_stdio: bool = False,
    ) -> Policy:
        """This policy with command-line grants added on top; raises PolicyError.

        `limits` overrides (None values ignored) apply to the default limits and to every
        per-tool entry; `dirs` are `[TOOL=]HOST[:GUEST][:ro|rw]` specs, `env` are
        `[TOOL=]NAME[=VALUE]`, `http_hosts` `[TOOL=]HOST[:PORT]` (`tool_runner.grants`).
        """
        changes: dict[str, Any] = {}
        overrides = {k: v for k, v in (limits or {}).items() if v is not None}
        if overrides:
            changes["limits"] = {**self.limits.model_dump(), **overrides}
            changes["tool_limits"] = {
                name: {**tool.model_dump(), **overrides} for name, tool in self.tool_limits.items()
            }
        scoped: dict[str, list[ToolGrants]] = {}
        unscoped = _cli_grants(dirs, env, http_hosts, scoped)
        if not unscoped.empty:
            merged = self.unscoped.plus([unscoped])
            changes.update(
                env=merged.env,
                env_values=merged.env_values,
                dirs=merged.dirs,
                http_hosts=merged.http_hosts,
            )
        if inherit_stdio:
            changes["inherit_stdio"] = True
        policy = self.updated(**changes) if changes else self
        for key, grants in scoped.items():
            policy = policy.with_tool_grants(key, ToolGrants().plus(grants))
        return policy

    @classmethod
    def from_file(cls, path: Path | str) -> Policy:
        """Load a policy from a `.toml` or `.json` file; raises PolicyError with one line."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy {path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            reason = str(exc).splitlines()[0]
            raise PolicyError(f"cannot parse policy {path}: {reason}") from exc
        if not isinstance(data, dict):
            raise PolicyError(f"invalid policy {path}: expected a table/object at the top level")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(f"invalid policy {path}: {first_error(exc)}") from exc


def _cli_grants(
    dirs: Sequence[str],
    env: Sequence[str],
    http_hosts: Sequence[str],
    scoped: dict[str, list[ToolGrants]],
) -> ToolGrants:
    """The unscoped command-line grants; the scoped ones are added to `scoped` by tool."""
    unscoped: list[ToolGrants] = []

    def add(scope: str | None, grants: ToolGrants) -> None:
        (scoped.setdefault(scope, []) if scope else unscoped).append(grants)

    try:
        for spec in dirs:
            scope, rest = scope_of(spec, "dir")
            add(scope, ToolGrants(dirs=(DirGrant.parse(rest),)))
        for spec in env:
            scope, rest = scope_of(spec, "env")
            name, value = parse_env(rest)
            grant = ToolGrants(env_values={name: value}) if value is not None else None
            add(scope, grant or ToolGrants(env=(name,)))
        for spec in http_hosts:
            scope, rest = scope_of(spec, "host")
            add(scope, ToolGrants(http_hosts=(rest,)))
    except ValidationError as exc:
        raise PolicyError(f"invalid grant: {first_error(exc)}") from exc
    return ToolGrants().plus(unscoped)


def policy_from_options(
    policy_file: Path | str | None = None,
    *,
    dirs: Sequence[str] = (),
    env: Sequence[str] = (),
    http_hosts: Sequence[str] = (),
    timeout_s: float | None = None,
    memory_mib: int | None = None,
    fuel: int | None = None,
    max_output_bytes: int | None = None,
    inherit_stdio: bool = False,
) -> Policy:
    """The policy file (or the deny-all default) with the command-line grants and limits on top.

    `dirs` are `HOST[:GUEST][:ro|rw]` specs, `env` are `NAME[=VALUE]`; a limit left None keeps
    the file's (or the default) value. Raises PolicyError with one line.
    """
    base = Policy.from_file(policy_file) if policy_file else Policy()
    limits = {
        "timeout_s": timeout_s,
        "memory_mib": memory_mib,
        "fuel": fuel,
        "max_output_bytes": max_output_bytes,
    }
    return base.with_grants(
        limits=limits, dirs=dirs, env=env, http_hosts=http_hosts, inherit_stdio=inherit_stdio
    )


SANDBOX_PARAMS = (
    "policy_file",
    "timeout",
    "memory",
    "fuel",
    "max_output",
    "dirs",
    "env",
    "allow_hosts",
    "inherit_stdio",
)
"""The names of the sandbox's grant and limit flags as `tool_runner.options.sandbox_options`
adds them to a command, in flag order (`policy_from_params` takes a mapping of them)."""


def policy_from_params(params: Mapping[str, Any]) -> Policy:
    """The Policy for values named as in `SANDBOX_PARAMS` (the parsed `sandbox_options`, or
    settings that use the same names; other keys are ignored).

    Raises PolicyError with one line.
    """
    return policy_from_options(
        params.get("policy_file"),
        dirs=params.get("dirs") or (),
        env=params.get("env") or (),
        http_hosts=params.get("allow_hosts") or (),
        timeout_s=params.get("timeout"),
        memory_mib=params.get("memory"),
        fuel=params.get("fuel"),
        max_output_bytes=params.get("max_output"),
        inherit_stdio=bool(params.get("inherit_stdio")),
    )
