"""Grants, one by one: directories, environment variables, network hosts, and the per-tool
section (`ToolGrants`) of a policy, keyed by the name a tool is loaded under or its digest.

A tool's *key* is never the name a component claims for itself (its metadata can say anything):
it is the name the user loads it under, the component file's stem without a trailing
`-tool-component` or `-component` (`components/files-tool-component.wasm` is `files`,
`hostile.wasm` is `hostile`: `load_name`), or `sha256:<hex>`, the digest of its bytes.

Command-line grants are scoped with `TOOL=` in front (`scope_of`):

    --dir files=PATH[:GUEST][:ro|rw]     --allow-host http-get=HOST[:PORT]     --env http-get=NAME

An `--env` spec is scoped when the part before its first `=` names a tool the way file stems
do: lower-case letters, `-` or `.` (`--env http-get=API_TOKEN`, `--env files=HOME=/x`); an
upper-case `NAME=VALUE` stays an unscoped value (`--env MODE=test`). A directory whose path
itself looks like `word=...` is written `./word=...`.

Hosts are normalised: lower case, IPv4 and IPv6 literals in their canonical form, IPv6 in
brackets (`[0:0::1]:8080` is `[::1]:8080`). A host without a port is allowed only on the
scheme's default port (80 for http, 443 for https).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from tool_runner.errors import PolicyError

MIB = 1024 * 1024
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_KEY = re.compile(r"^sha256:[0-9a-f]{64}$")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
_SUFFIXES = ("-tool-component", "-component")


def load_name(path: Path | str) -> str:
    """The name a component file is loaded under: its stem without `-tool-component` or
    `-component` (see the module docstring)."""
    stem = Path(path).stem
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def digest_key(digest: str) -> str:
    """The policy key of a component by its bytes' sha256 (hex)."""
    return f"sha256:{digest}"


def check_tool_key(key: str) -> str:
    """`key` if it is a tool name or `sha256:<64 hex>`; raises ValueError."""
    if not (TOOL_NAME.match(key) or DIGEST_KEY.match(key)):
        raise ValueError(
            f"invalid tool key {key!r}: expected the name a tool is loaded under (letters, "
            "digits, _ . -) or sha256:<64 hex digits>"
        )
    return key


def normalise_host(text: str) -> str:
    """`HOST[:PORT]` in its canonical form (see the module docstring); raises ValueError."""
    value = text.strip().lower()
    port: str | None = None
    if value.startswith("["):
        address, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"invalid host {text!r}: expected [IPV6] or [IPV6]:PORT")
        port = rest[1:] if rest else None
        host = f"[{_ip(address, text, 6)}]"
    elif value.count(":") > 1:  # a bare IPv6 address: no port
        host = f"[{_ip(value, text, 6)}]"
    else:
        host, _, port_text = value.partition(":")
        port = port_text if ":" in value else None
        try:
            host = str(ipaddress.IPv4Address(host))
        except ValueError:
            if not _HOSTNAME.match(host) or re.fullmatch(r"[0-9.]+", host):
                raise ValueError(f"invalid host {text!r}: expected HOST or HOST:PORT") from None
            host = host.rstrip(".")
    if port is None:
        return host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid host {text!r}: expected HOST or HOST:PORT (port 1-65535)")
    return f"{host}:{int(port)}"


def _ip(text: str, original: str, version: int) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise ValueError(f"invalid IPv{version} address in {original!r}") from None


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
            raise PolicyError(f"invalid directory grant {spec!r}: {first_error(exc)}") from exc


def parse_env(spec: str) -> tuple[str, str | None]:
    """Parse `NAME[=VALUE]` (the CLI's `--env`): a pass-through name or an explicit value."""
    name, sep, value = spec.partition("=")
    if not ENV_NAME.match(name):
        raise PolicyError(f"invalid environment variable {spec!r}: expected NAME or NAME=VALUE")
    return name, (value if sep else None)


def scope_of(spec: str, kind: str) -> tuple[str | None, str]:
    """Split a command-line grant into (the tool it is scoped to or None, the grant itself);
    `kind` is "dir", "env" or "host" (see the module docstring for `--env`)."""
    scope, sep, rest = spec.partition("=")
    if not sep or not rest or not TOOL_NAME.match(scope):
        return None, spec
    if kind == "env" and (
        not re.search(r"[a-z.-]", scope) or not ENV_NAME.match(rest.partition("=")[0])
    ):
        return None, spec
    return scope, rest


def checked_env_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` without repeats; raises ValueError for one that cannot name a variable."""
    for name in names:
        if not ENV_NAME.match(name):
            raise ValueError(f"invalid environment variable name {name!r}")
    return tuple(dict.fromkeys(names))


def checked_env_values(values: dict[str, str]) -> dict[str, str]:
    """`values`; raises ValueError for a bad name or a value holding a NUL."""
    for name, text in values.items():
        if not ENV_NAME.match(name) or "\0" in text:
            raise ValueError(f"invalid environment variable {name!r}")
    return values


def normalised_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Each `HOST[:PORT]` normalised (`normalise_host`), without repeats."""
    return tuple(dict.fromkeys(normalise_host(host) for host in hosts))


EnvNames = Annotated[tuple[str, ...], AfterValidator(checked_env_names)]
"""Environment variable names granted (checked, without repeats)."""
EnvValues = Annotated[dict[str, str], AfterValidator(checked_env_values)]
"""Environment variables set to explicit values (checked)."""
HttpHosts = Annotated[tuple[str, ...], AfterValidator(normalised_hosts)]
"""Hosts an http-get may reach (normalised, without repeats)."""


class ToolGrants(BaseModel):
    """What one tool is granted on top of nothing: a `[tools.NAME]` (or `[tools."sha256:…"]`)
    section of a policy. `limits`, when given, replace the policy's default limits for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: EnvNames = ()
    env_values: EnvValues = Field(default_factory=dict)
    dirs: tuple[DirGrant, ...] = ()
    http_hosts: HttpHosts = ()
    limits: Limits | None = None

    @property
    def empty(self) -> bool:
        """Whether this grants nothing (limits aside)."""
        return not (self.env or self.env_values or self.dirs or self.http_hosts)

    def plus(self, others: Iterable[ToolGrants | None]) -> ToolGrants:
        """These grants and `others`' together (the last `limits` given wins)."""
        env, values = list(self.env), dict(self.env_values)
        dirs, hosts, limits = list(self.dirs), list(self.http_hosts), self.limits
        for other in others:
            if other is None:
                continue
            env += other.env
            values.update(other.env_values)
            dirs += [d for d in other.dirs if d not in dirs]
            hosts += other.http_hosts
            limits = other.limits or limits
        return ToolGrants(env=env, env_values=values, dirs=dirs, http_hosts=hosts, limits=limits)

    def describe(self) -> list[str]:
        """Each grant as the flag that gives it (`--dir HOST:GUEST:ro`, `--env NAME`, ...)."""
        lines = [f"--dir {d.host}:{d.guest}:{'rw' if d.writable else 'ro'}" for d in self.dirs]
        lines += [f"--env {name}" for name in self.env]
        lines += [f"--env {name}=…" for name in self.env_values]
        lines += [f"--allow-host {host}" for host in self.http_hosts]
        return lines


def first_error(exc: ValidationError) -> str:
    """The first validation error of `exc` in one line: `where: message`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
