"""The agent's tool executors: sandboxed WebAssembly components run by `tool_runner`.

    with open_executor(settings.components, settings.tools_dir, policy) as executor:
        result = executor.execute(ToolCall(id="call_1", name="Echo", arguments={"value": "hi"}))

`open_executor` runs the tools in a pool of supervised worker processes by default
(`HostExecutor` over `tool_runner.WorkerPool`), in this process with `in_process=True`
(`RunnerExecutor`, for embedding and benchmarks), or on a NATS tool service with
`url="nats://HOST:PORT"`. Loading a component is host-side and raises `tool_runner.LoadError`
(one line); a call never raises: an unknown tool, bad arguments, a failing tool, a timeout or a
crashed worker come back as an error `ToolResult` whose text tells the model what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agent.errors import ConfigError
from agent.messages import ToolCall
from tool_runner import (
    HostStats,
    Policy,
    PoolSettings,
    ResultKind,
    ToolHost,
    ToolMetadata,
    ToolResult,
    ToolRunnerError,
    WorkerPool,
)

if TYPE_CHECKING:  # the runtime loads wasmtime: only when tools are opened
    from tool_runner import Tool, ToolRunner


@runtime_checkable
class ReportsStats(Protocol):
    """An executor that can say what its tool host has done (both of ours can)."""

    def stats(self) -> HostStats | None:
        """The host's figures, or None when there is no host to report on."""
        ...


class RunnerExecutor:
    """A ToolExecutor over loaded `tool_runner` tools (looked up by name, case-insensitively
    when there is no exact match)."""

    def __init__(self, tools: Sequence[Tool], runner: ToolRunner | None = None) -> None:
        self._tools = {tool.name: tool for tool in tools}
        self._runner = runner
        self._under: dict[tuple[str, str], Tool] = {}  # (policy JSON, tool name) -> reloaded

    def specs(self) -> Sequence[ToolMetadata]:
        """The metadata of every tool, sorted by name."""
        return [self._tools[name].metadata for name in sorted(self._tools)]

    def find(self, name: str) -> Tool | None:
        """The tool called `name` (exactly, else ignoring case), or None."""
        found = match_name(name, self._tools)
        return self._tools[found] if found is not None else None

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` in the sandbox; never raises."""
        tool = self.find(call.name)
        if tool is None:
            return unknown_tool_result(call.name, sorted(self._tools))
        return tool.call(dict(call.arguments))

    def execute_under(self, call: ToolCall, policy: Policy) -> ToolResult:
        """Run `call` with the tool loaded again under `policy` (its own part of it: see
        `tool_runner.Policy.for_tool`); never raises (a tool that no longer loads is an error
        result)."""
        tool = self.find(call.name)
        if tool is None or self._runner is None:
            return self.execute(call)
        key = (policy.model_dump_json(), tool.name)
        if key not in self._under:
            try:  # a component may be several tools (one per exported function): this one
                loaded = self._runner.load_component(tool.path, policy, alone=len(self._tools) == 1)
                again = next(found for found in loaded if found.name == tool.name)
            except (ToolRunnerError, StopIteration) as exc:
                error = str(exc) or f"{tool.path} no longer has the tool {tool.name!r}"
                return ToolResult(tool=tool.name, kind=ResultKind.CRASHED, error=error)
            self._under[key] = again
        return self._under[key].call(dict(call.arguments))

    def stats(self) -> HostStats | None:
        """None: calls run in this process, there are no workers to report on."""
        return None


class HostExecutor:
    """A ToolExecutor over a `tool_runner.ToolHost` (the worker pool or a NATS service); the
    tool set is asked for on each `specs()`, so a hot-loaded tool shows up on the next run."""

    def __init__(self, host: ToolHost) -> None:
        self.host = host

    def specs(self) -> Sequence[ToolMetadata]:
        """The metadata of every tool, sorted by name."""
        return list(self.host.tools())

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` on the host; never raises."""
        names = [spec.name for spec in self.host.tools()]
        found = match_name(call.name, names)
        if found is None:
            return unknown_tool_result(call.name, sorted(names))
        return self.host.call(found, dict(call.arguments))

    def execute_under(self, call: ToolCall, policy: Policy) -> ToolResult:
        """Run `call` on the host under `policy` (the worker splits it per tool); never raises."""
        names = [spec.name for spec in self.host.tools()]
        found = match_name(call.name, names)
        if found is None:
            return unknown_tool_result(call.name, sorted(names))
        return self.host.call(found, dict(call.arguments), policy=policy)

    def stats(self) -> HostStats | None:
        """The host's counts: workers, restarts, crashes, timeouts."""
        return self.host.stats()


def match_name(name: str, names: Iterable[str]) -> str | None:
    """`name` if it is one of `names`, else the one name equal to it ignoring case, else None."""
    names = list(names)
    if name in names:
        return name
    matches = [n for n in names if n.lower() == name.strip().lower()]
    return matches[0] if len(matches) == 1 else None


def unknown_tool_result(name: str, available: Sequence[str]) -> ToolResult:
    """The error result for a call to a tool that does not exist."""
    names = ", ".join(available) if available else "none"
    return ToolResult(
        tool=name,
        kind=ResultKind.UNKNOWN_TOOL,
        error=f"unknown tool {name!r}; the available tools are: {names}",
    )


class NoTools:
    """The executor of a session without tools (`--no-tools`): none to offer, every call an
    unknown tool."""

    def specs(self) -> Sequence[ToolMetadata]:
        """No tools."""
        return ()

    def execute(self, call: ToolCall) -> ToolResult:
        """An unknown-tool result."""
        return unknown_tool_result(call.name, ())


def component_paths(components: Sequence[Path], tools_dir: Path) -> list[Path]:
    """The components to load: the `-c` ones if any, else every `*.wasm` in `tools_dir`.

    Raises ConfigError when there is nothing to load (saying which flags would help).
    """
    if components:
        return list(components)
    if not tools_dir.is_dir():
        raise ConfigError(
            f"tools directory {tools_dir} does not exist: pass an existing --tools-dir, -c FILE "
            "or --no-tools (in the repository, `make components` builds the tools)"
        )
    found = sorted(tools_dir.glob("*.wasm"))
    if not found:
        raise ConfigError(
            f"no components in {tools_dir}: pass another --tools-dir, -c FILE or --no-tools "
            "(in the repository, `make components` builds the tools)"
        )
    return found


@contextmanager
def open_executor(
    components: Sequence[Path],
    tools_dir: Path,
    policy: Policy,
    *,
    cache_dir: Path | None = None,
    workers: int = 2,
    in_process: bool = False,
    url: str | None = None,
) -> Iterator[RunnerExecutor | HostExecutor]:
    """Open the tools (see `component_paths`) under `policy`, compiled through the cache in
    `cache_dir` (None: tool_runner's default): on `workers` worker processes (hot-loading
    `tools_dir` when no component is named), in this process with `in_process`, or from the
    NATS tool service at `url` (nats://HOST:PORT; the components are the service's). Raises
    LoadError, ConfigError, tool_runner.ToolHostError."""
    if url is not None:
        from tool_runner import NatsHost  # loads nats-py: only when asked for

        with NatsHost(url, policy) as remote:
            yield HostExecutor(remote)
        return
    paths = component_paths(components, tools_dir)
    if in_process:
        with _in_process(paths, policy, cache_dir) as executor:
            yield executor
        return
    watched = not components
    settings = PoolSettings(workers=workers, watch=watched)
    with WorkerPool(
        () if watched else paths,
        policy,
        tools_dir=tools_dir if watched else None,
        cache_dir=cache_dir,
        settings=settings,
    ) as pool:
        yield HostExecutor(pool)


@contextmanager
def _in_process(
    paths: Sequence[Path], policy: Policy, cache_dir: Path | None
) -> Iterator[RunnerExecutor]:
    from tool_runner import ToolRunner

    with ToolRunner(policy=policy, cache_dir=cache_dir) as runner:
        yield RunnerExecutor(runner.load_all(paths), runner)
