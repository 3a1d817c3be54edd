"""`ToolsmithExecutor`: a `ToolExecutor` that wraps the session's own and adds the library's
self-built tools, and `CreateTool` when creating tools is enabled.

The inner executor's tools win a name clash (a library tool of the same name is not offered).
A tool created during a run is offered from the run's next step on (the loop asks for the
tools before every step), and calls are matched here by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from agent.approval import Approver
from agent.executor import ReportsStats, match_name
from agent.loop import ToolExecutor
from agent.messages import ToolCall
from agent.toolsmith.library import Library
from agent.toolsmith.smith import CREATE_TOOL, Toolsmith
from tool_runner import HostStats, Policy, ToolMetadata, ToolResult


class ToolsmithExecutor:
    """The session's executor plus the library's tools (and `CreateTool` with `create`)."""

    def __init__(self, inner: ToolExecutor, smith: Toolsmith, *, create: bool = False) -> None:
        self.inner = inner
        self.smith = smith
        self.create = create

    def specs(self) -> Sequence[ToolMetadata]:
        """The inner tools, `CreateTool` when enabled, and the library's tools, sorted."""
        inner = list(self.inner.specs())
        names = {spec.name.lower() for spec in inner}
        extra = [CREATE_TOOL] if self.create and CREATE_TOOL.name.lower() not in names else []
        extra += [spec for spec in self.smith.specs() if spec.name.lower() not in names]
        return sorted([*inner, *extra], key=lambda spec: spec.name)

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` on whichever side has the tool; never raises."""
        inner = [spec.name for spec in self.inner.specs()]
        if match_name(call.name, inner) is not None:
            return self.inner.execute(call)
        if self.create and match_name(call.name, [CREATE_TOOL.name]) is not None:
            taken = {*inner, CREATE_TOOL.name, *(s.name for s in self.smith.specs())}
            return self.smith.create(call.arguments, taken)
        found = self.smith.find(call.name)
        if found is not None:
            return self.smith.call(found, call.arguments)
        return self.inner.execute(call)  # the inner executor reports the unknown tool

    def stats(self) -> HostStats | None:
        """The inner executor's tool-host figures, if it reports any."""
        return self.inner.stats() if isinstance(self.inner, ReportsStats) else None


def with_library(
    executor: ToolExecutor,
    resources: ExitStack,
    *,
    library_dir: Path,
    approver: Approver | Callable[[], Approver],
    create: bool = False,
    policy: Policy | None = None,
    cache_dir: Path | None = None,
) -> ToolExecutor:
    """`executor` plus the library's tools in `library_dir` (and `CreateTool` with `create`);
    `executor` itself when there is neither. The toolsmith closes with `resources`. Raises
    LibraryError for a stored tool that is refused (its sha256 no longer matches)."""
    library = Library(library_dir)
    if not create and not library.names():
        return executor
    smith = resources.enter_context(
        Toolsmith(library, approver, policy=policy, cache_dir=cache_dir)
    )
    return ToolsmithExecutor(executor, smith, create=create)
