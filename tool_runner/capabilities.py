"""Capability requests: what a call was denied, found by the host, attached to its result.

    with watch_denials() as denied:
        result = ...                                  # run the call
    result = with_capability_request(result, tool.key, lambda: tool.digest, tool.policy, denied)

Only the host decides what was asked for, never the model and never a tool's own words alone:

- `host`: `http-get` refused a `HOST:PORT` that the policy does not list (recorded by the host
  function itself, `tool_runner.host.DENIED_HOSTS`);
- `dir`: a tool with no directory granted failed saying so (`no directory is granted`, the
  phrase the Files tool and `tools/pyguest` use); the request is for a directory mounted at
  `/workspace`, and the person chooses which one;
- `env`: a tool failed saying `environment variable NAME is not granted` for a NAME it does
  not have.

A request is only a question for a person (`agent.approval`); it grants nothing by itself, and
it always names the tool that made the call (its load name and digest), so a tool can ask only
for itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tool_runner.host import DENIED_HOSTS
from tool_runner.policy import Policy
from tool_runner.result import CapabilityKind, CapabilityRequest, ResultKind, ToolResult

NO_DIRECTORY = "no directory is granted"
_ENV_DENIED = re.compile(r"environment variable ([A-Za-z_][A-Za-z0-9_]{0,127}) is not granted")


@contextmanager
def watch_denials() -> Iterator[list[str]]:
    """Collect the hosts `http-get` refuses while the block runs (on this thread)."""
    denied: list[str] = []
    token = DENIED_HOSTS.set(denied)
    try:
        yield denied
    finally:
        DENIED_HOSTS.reset(token)


def _asked(
    result: ToolResult, policy: Policy, denied: list[str]
) -> tuple[CapabilityKind, str] | None:
    if denied:
        return "host", denied[0]
    error = result.error or ""
    if result.kind is ResultKind.TOOL_ERROR and not policy.dirs and NO_DIRECTORY in error:
        return "dir", "/workspace"
    found = _ENV_DENIED.search(error) if result.kind is ResultKind.TOOL_ERROR else None
    if found and found.group(1) not in {*policy.env, *policy.env_values}:
        return "env", found.group(1)
    return None


def with_capability_request(
    result: ToolResult,
    tool: str,
    digest: Callable[[], str],
    policy: Policy,
    denied: list[str],
) -> ToolResult:
    """`result` with the capability request it implies (see the module docstring), if any;
    `tool` is the load name, `digest` gives the component's sha256 (read only when needed)."""
    if result.ok:
        return result
    asked = _asked(result, policy, denied)
    if asked is None:
        return result
    kind, value = asked
    request = CapabilityRequest(tool=tool, digest=digest(), kind=kind, value=value)
    return result.model_copy(update={"capability_request": request})
