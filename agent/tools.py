"""The agent's tool executor: sandboxed WebAssembly components run by `tool_runner`.

    policy = build_policy(settings)
    with open_executor(settings.components, settings.tools_dir, policy) as executor:
        result = executor.execute(ToolCall(id="call_1", name="Echo", arguments={"value": "hi"}))

Loading a component is host-side and raises `tool_runner.LoadError` (one line); a call never
raises: an unknown tool, bad arguments or a failing tool come back as an error `ToolResult` whose
text tells the model what went wrong and which tools exist.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from agent.config import AgentSettings
from agent.errors import ConfigError
from agent.messages import ToolCall
from tool_runner import (
    LoadError,
    Policy,
    PolicyError,
    ResultKind,
    Tool,
    ToolMetadata,
    ToolResult,
    ToolRunner,
)


class RunnerExecutor:
    """A ToolExecutor over loaded `tool_runner` tools (looked up by name, case-insensitively
    when there is no exact match)."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def specs(self) -> Sequence[ToolMetadata]:
        """The metadata of every tool, sorted by name."""
        return [self._tools[name].metadata for name in sorted(self._tools)]

    def find(self, name: str) -> Tool | None:
        """The tool called `name` (exactly, else ignoring case), or None."""
        tool = self._tools.get(name)
        if tool is None:
            matches = [t for n, t in self._tools.items() if n.lower() == name.strip().lower()]
            tool = matches[0] if len(matches) == 1 else None
        return tool

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` in the sandbox; never raises."""
        tool = self.find(call.name)
        if tool is None:
            return unknown_tool_result(call.name, sorted(self._tools))
        return tool.call(dict(call.arguments))


def unknown_tool_result(name: str, available: Sequence[str]) -> ToolResult:
    """The error result for a call to a tool that does not exist."""
    names = ", ".join(available) if available else "none"
    return ToolResult(
        tool=name,
        ok=False,
        kind=ResultKind.INVALID_ARGUMENTS,
        error=f"unknown tool {name!r}; the available tools are: {names}",
    )


def build_policy(settings: AgentSettings) -> Policy:
    """The sandbox policy: the `--policy` file (or deny-everything) with the flags added on top.

    Raises ConfigError with one line.
    """
    try:
        base = Policy.from_file(settings.policy) if settings.policy else Policy()
        return base.with_grants(
            limits={"timeout_s": settings.timeout, "memory_mib": settings.memory},
            dirs=settings.dirs,
            env=settings.env,
            http_hosts=settings.allow_hosts,
        )
    except PolicyError as exc:
        raise ConfigError(str(exc)) from exc


def component_paths(components: Sequence[Path], tools_dir: Path) -> list[Path]:
    """The components to load: the `-c` ones if any, else every `*.wasm` in `tools_dir`.

    Raises ConfigError when there is nothing to load (saying to run `make components`).
    """
    if components:
        return list(components)
    if not tools_dir.is_dir():
        raise ConfigError(
            f"tools directory {tools_dir} does not exist; run `make components` or pass -c FILE"
        )
    found = sorted(tools_dir.glob("*.wasm"))
    if not found:
        raise ConfigError(f"no components in {tools_dir}; run `make components` or pass -c FILE")
    return found


@contextmanager
def open_executor(
    components: Sequence[Path], tools_dir: Path, policy: Policy
) -> Iterator[RunnerExecutor]:
    """Load the tools (see `component_paths`) under `policy`; raises LoadError, ConfigError."""
    paths = component_paths(components, tools_dir)
    with ToolRunner(policy=policy) as runner:
        tools: dict[str, Tool] = {}
        for path in paths:
            tool = runner.load(path)
            if tool.name in tools:
                raise LoadError(
                    path, f"tool name {tool.name!r} is already used by {tools[tool.name].path}"
                )
            tools[tool.name] = tool
        yield RunnerExecutor(list(tools.values()))
