"""Capability requests put to a person: a denied call is asked about, and retried if allowed.

    executor = ApprovingExecutor(inner, policy, approver=session_approver, policy_file=path)

When a call comes back with a `tool_runner.CapabilityRequest` (the host saw it denied a
directory, a host or an environment variable), the person is asked through the session's
`agent.approval.Approver` with the choices once / session / always / deny:

- once: the call is retried with the grant added for that tool alone (its load name);
- session: the same, and the grant stays for the rest of the session;
- always: the same, and the grant is written to the user's policy file (`policy_file`, normally
  `agent.paths.user_paths(os.environ).policy_file`) keyed by the tool's sha256, so that it
  follows these bytes and no other component that takes the name later;
- deny (and any answer that is not a choice): the result goes back as it was, with the flag
  that would grant it, and the request is kept in `refused` (`agent run` reports them).

Nothing else changes a policy: the model's calls and the tools' outputs are data here, the
request names the tool that made the call (a tool can only ask for itself), and only the
approver's answer adds a grant. A directory request grants `workdir` (read-only) at
`/workspace`: the tool cannot choose which host directory it gets.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from agent.approval import ApprovalRequest, Approver
from agent.messages import ToolCall
from tool_runner import (
    CapabilityRequest,
    DirGrant,
    HostStats,
    Policy,
    PolicyError,
    ToolGrants,
    ToolMetadata,
    ToolResult,
    digest_key,
)

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CHOICES = ("once", "session", "always", "deny")


class PolicyExecutor(Protocol):
    """An executor that can run a call under another policy (both of `agent.executor`'s)."""

    def specs(self) -> Sequence[ToolMetadata]:
        """Every tool's metadata."""
        ...

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` under the policy the tools were opened with."""
        ...

    def execute_under(self, call: ToolCall, policy: Policy) -> ToolResult:
        """Run `call` under `policy`; never raises."""
        ...


def grants_for(request: CapabilityRequest, workdir: Path) -> ToolGrants:
    """The grant that answers `request` (a directory request gets `workdir`, read-only)."""
    if request.kind == "dir":
        return ToolGrants(dirs=(DirGrant(host=workdir, guest=request.value),))
    if request.kind == "host":
        return ToolGrants(http_hosts=(request.value,))
    return ToolGrants(env=(request.value,))


def question(
    request: CapabilityRequest, workdir: Path, policy_file: Path | None
) -> ApprovalRequest:
    """The approval request shown to the person for `request`."""
    what = {
        "dir": f"read {workdir} (mounted at {request.value}, read-only)",
        "host": f"fetch from {request.value}",
        "env": f"read the environment variable {request.value}",
    }[request.kind]
    digest = (request.digest or "")[:16]
    always = f"always: saved in {policy_file} for these bytes" if policy_file else "always"
    return ApprovalRequest(
        kind="capability",
        subject=request.tool,
        title=f"Allow the tool {request.tool!r} to {what}?",
        detail=(
            f"The tool {request.tool!r} (sha256 {digest}…) was denied this. once: this call; "
            f"session: until the session ends; {always}; deny: the tool gets an error."
        ),
        choices=CHOICES,
    )


class ApprovingExecutor:
    """Wraps a `PolicyExecutor`: denied calls are put to the person and retried if allowed
    (see the module docstring). `approver` is read on every request (the session's, which a
    front end may replace)."""

    def __init__(
        self,
        inner: PolicyExecutor,
        policy: Policy,
        *,
        approver: Callable[[], Approver],
        policy_file: Path | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self._approver = approver
        self.policy_file = policy_file
        self.workdir = (workdir or Path.cwd()).resolve()
        self.refused: list[CapabilityRequest] = []
        self._granted = False  # whether `policy` has grants of this session

    def specs(self) -> Sequence[ToolMetadata]:
        """The inner executor's tools."""
        return self.inner.specs()

    def stats(self) -> HostStats | None:
        """The inner executor's tool host figures, if it reports any."""
        stats = getattr(self.inner, "stats", None)
        return stats() if callable(stats) else None

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call`; a denied capability is asked about once and the call retried if allowed."""
        result = self._run(call, self.policy if self._granted else None)
        request = result.capability_request
        if request is None or result.ok:
            return result
        answer = self._approver().ask(question(request, self.workdir, self.policy_file))
        if answer not in CHOICES[:3]:
            self.refused.append(request)
            hint = f" (not granted; a person can grant it with {request.flag()})"
            return result.model_copy(update={"error": (result.error or "") + hint})
        grants = grants_for(request, self.workdir)
        granted = self.policy.with_tool_grants(request.tool, grants)
        if answer in ("session", "always"):
            self.policy, self._granted = granted, True
        if answer == "always" and self.policy_file is not None and request.digest:
            remember_grant(self.policy_file, digest_key(request.digest), grants)
        return self._run(call, granted)

    def _run(self, call: ToolCall, policy: Policy | None) -> ToolResult:
        return (
            self.inner.execute(call) if policy is None else self.inner.execute_under(call, policy)
        )


def load_user_grants(policy: Policy, policy_file: Path) -> Policy:
    """`policy` with the `[tools.*]` sections of the user's policy file (the grants a person
    approved with "always") added; a missing file adds nothing. Raises PolicyError."""
    if not policy_file.is_file():
        return policy
    approved = Policy.from_file(policy_file)
    for key, grants in approved.tools.items():
        policy = policy.with_tool_grants(key, grants)
    return policy


def remember_grant(policy_file: Path, key: str, grants: ToolGrants) -> None:
    """Add `grants` to the `[tools."KEY"]` section of the TOML `policy_file` (created, with its
    folder, if missing; the rest of the file is kept, comments are not). Raises PolicyError."""
    current = Policy.from_file(policy_file) if policy_file.is_file() else Policy()
    updated = current.with_tool_grants(key, grants)
    data = updated.model_dump(mode="json", exclude_defaults=True)
    try:
        existing = tomllib.loads(policy_file.read_text("utf-8")) if policy_file.is_file() else {}
        data = {**existing, **data}
        policy_file.parent.mkdir(parents=True, exist_ok=True)
        policy_file.write_text(_toml(data), encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot write policy {policy_file}: {exc.strerror or exc}") from exc


def _toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """`data` (str, bool, int, float, lists of them or of tables, tables) as TOML."""
    scalars = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not _is_table(v)]
    lines = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in data.items():
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, Mapping):
            header = any(not _is_table(v) for v in value.values()) or not value
            lines += (f"\n[{name}]\n" if header else "") + _toml(value, name).lstrip("\n")
        elif _is_table(value):
            for item in value:
                lines += f"\n[[{name}]]\n" + _toml(item, name).lstrip("\n")
    return lines


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)
    )


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _value(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    text = str(value)
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


def refusal_line(request: CapabilityRequest) -> str:
    """One line for a refused request, with the flag that grants it (`agent run` prints it)."""
    what = {"dir": "a directory at", "host": "the host", "env": "the environment variable"}
    return (
        f"the tool {request.tool!r} was denied {what[request.kind]} {request.value}; "
        f"to grant it, run again with {request.flag()}"
    )
