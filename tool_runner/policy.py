"""The sandbox policy: what a tool may touch (deny by default) and the limits on every call.

A `Policy` grants nothing unless it says so: no host environment variables, no directories, no
network hosts, no inherited stdio. It is loaded from TOML or JSON (`Policy.from_file`) or built
from CLI flags (`policy_from_options`: a policy file plus grant and limit flags), and handed to
`ToolRunner` once.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tool_runner.errors import PolicyError

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

MIB = 1024 * 1024
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-f:.]+\](:[0-9]{1,5})?$")


class Limits(BaseModel):
    """Per-call limits. Defaults suit an interactive agent; override per tool in the policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(default=10.0, gt=0, le=24 * 3600)
    memory_mib: int = Field(default=256, ge=1, le=4096)
    fuel: int | None = Field(default=None, ge=1)
    max_output_bytes: int = Field(default=MIB, ge=1)

    @property
    def memory_bytes(self) -> int:
        """The memory cap in bytes."""
        return self.memory_mib * MIB


class DirGrant(BaseModel):
    """A host directory mapped into the guest, read-only unless `writable`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: Path
    guest: str = "/workspace"
    writable: bool = False

    @field_validator("host")
    @classmethod
    def _host_is_a_directory(cls, value: Path) -> Path:
        resolved = value.expanduser().resolve()
        if not resolved.is_dir():
            raise ValueError(f"{value} is not a directory")
        return resolved

    @field_validator("guest")
    @classmethod
    def _guest_is_absolute(cls, value: str) -> str:
        if not value or "\0" in value:
            raise ValueError("guest path must not be empty")
        return value if value.startswith("/") else "/" + value

    @classmethod
    def parse(cls, spec: str) -> DirGrant:
        """Parse `HOST[:GUEST][:ro|rw]` (the CLI's `--dir`); raises PolicyError."""
        parts = spec.split(":")
        writable = False
        if len(parts) > 1 and parts[-1] in ("ro", "rw"):
            writable = parts.pop() == "rw"
        if not parts[0] or len(parts) > 2:
            raise PolicyError(f"invalid directory grant {spec!r}: expected HOST[:GUEST][:ro|rw]")
        fields: dict[str, Any] = {"host": Path(parts[0]), "writable": writable}
        if len(parts) == 2:
            fields["guest"] = parts[1]
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise PolicyError(f"invalid directory grant {spec!r}: {_first_error(exc)}") from exc


def parse_env(spec: str) -> tuple[str, str | None]:
    """Parse `NAME[=VALUE]` (the CLI's `--env`): a pass-through name or an explicit value."""
    name, sep, value = spec.partition("=")
    if not _ENV_NAME.match(name):
        raise PolicyError(f"invalid environment variable {spec!r}: expected NAME or NAME=VALUE")
    return name, (value if sep else None)


class Policy(BaseModel):
    """Everything a tool is granted. The default grants nothing and applies default limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: tuple[str, ...] = ()
    env_values: dict[str, str] = Field(default_factory=dict)
    dirs: tuple[DirGrant, ...] = ()
    http_hosts: tuple[str, ...] = ()
    http_max_bytes: int = Field(default=4 * MIB, ge=1)
    http_timeout_s: float = Field(default=10.0, gt=0)
    inherit_stdio: bool = False
    reuse_instance: bool = Field(
        default=False,
        description="Keep one instance per tool between calls (faster; state persists).",
    )
    limits: Limits = Field(default_factory=Limits)
    tool_limits: dict[str, Limits] = Field(default_factory=dict)

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"invalid environment variable name {name!r}")
        return value

    @field_validator("env_values")
    @classmethod
    def _env_values(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _ENV_NAME.match(name) or "\0" in text:
                raise ValueError(f"invalid environment variable {name!r}")
        return value

    @field_validator("http_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        hosts = tuple(h.strip().lower() for h in value)
        for host in hosts:
            if not _HOST.match(host):
                raise ValueError(f"invalid host {host!r}: expected HOST or HOST:PORT")
        return hosts

    def limits_for(self, tool: str) -> Limits:
        """The limits that apply to the tool called `tool`."""
        return self.tool_limits.get(tool, self.limits)

    def environment(self, host_env: Mapping[str, str]) -> list[tuple[str, str]]:
        """The guest environment: granted names present in `host_env`, then explicit values."""
        pairs = {name: host_env[name] for name in self.env if name in host_env}
        pairs.update(self.env_values)
        return sorted(pairs.items())

    def updated(self, **changes: Any) -> Policy:
        """A validated copy with `changes` applied; raises PolicyError."""
        try:
            return Policy.model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            raise PolicyError(f"invalid policy: {_first_error(exc)}") from exc

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
        per-tool entry; `dirs` are `HOST[:GUEST][:ro|rw]` specs, `env` are `NAME[=VALUE]`.
        """
        changes: dict[str, Any] = {}
        overrides = {k: v for k, v in (limits or {}).items() if v is not None}
        if overrides:
            changes["limits"] = {**self.limits.model_dump(), **overrides}
            changes["tool_limits"] = {
                name: {**tool.model_dump(), **overrides} for name, tool in self.tool_limits.items()
            }
        if dirs:
            changes["dirs"] = [*self.dirs, *(DirGrant.parse(spec) for spec in dirs)]
        if env:
            names, values = list(self.env), dict(self.env_values)
            for name, value in map(parse_env, env):
                if value is None:
                    names.append(name)
                else:
                    values[name] = value
            changes["env"], changes["env_values"] = names, values
        if http_hosts:
            changes["http_hosts"] = [*self.http_hosts, *http_hosts]
        if inherit_stdio:
            changes["inherit_stdio"] = True
        return self.updated(**changes) if changes else self

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
            raise PolicyError(f"invalid policy {path}: {_first_error(exc)}") from exc


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


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


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
