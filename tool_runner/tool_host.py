"""The tool host seam: whatever serves tools to a caller, in this process or out of it.

`WorkerPool` (local supervised worker processes) and `NatsHost` (a NATS tool service) implement
`ToolHost`; `HostStats` is what each reports about itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from tool_runner.metadata import ArgValue, ToolMetadata
from tool_runner.policy import Policy
from tool_runner.result import ResultKind, ToolResult


class HostStats(BaseModel):
    """What a tool host has done: workers configured and alive, calls, restarts, and the calls
    that ended `crashed` or were stopped at their deadline; `problems` are the latest reload's
    one-line reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transport: str
    workers: int
    alive: int
    calls: int = 0
    restarts: int = 0
    crashed: int = 0
    timeouts: int = 0
    problems: tuple[str, ...] = ()


class ToolHost(Protocol):
    """Serves tools by name. `call` never raises for what a tool or a worker does: timeouts,
    crashes and unknown tools are results."""

    def tools(self) -> Sequence[ToolMetadata]:
        """Every tool's metadata, sorted by name."""
        ...

    def call(
        self,
        tool: str,
        arguments: Mapping[str, ArgValue] | None = None,
        *,
        policy: Policy | None = None,
    ) -> ToolResult:
        """Run `tool` once with `arguments` under `policy` (None: the host's own)."""
        ...

    def stats(self) -> HostStats:
        """What the host has done so far."""
        ...

    def close(self) -> None:
        """Release the workers or the connection."""
        ...


def host_failure(tool: str, started: float, kind: ResultKind, message: str) -> ToolResult:
    """The result of a call the host itself ended (`timeout`, `crashed`): `message` says why;
    `started` is the call's `time.monotonic()`."""
    elapsed = (time.monotonic() - started) * 1000
    return ToolResult(tool=tool, kind=kind, error=message, elapsed_ms=elapsed)
