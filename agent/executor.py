"""The agent's tool executor: sandboxed WebAssembly components run by `tool_runner`.

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
from typing import TYPE_CHECKING

from agent.errors import ConfigError
from agent.messages import ToolCall
from tool_runner import LoadError, Policy, ResultKind, ToolMetadata, ToolResult

if TYPE_CHECKING:  # the runtime loads wasmtime: only when tools are opened
    from tool_runner import Tool


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
        kind=ResultKind.UNKNOWN_TOOL,
        error=f"unknown tool {name!r}; the available tools are: {names}",
    )


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
    components: Sequence[Path], tools_dir: Path, policy: Policy, *, cache_dir: Path | None = None
) -> Iterator[RunnerExecutor]:
    """Load the tools (see `component_paths`) under `policy`, compiled through the cache in
    `cache_dir` (None: tool_runner's default); raises LoadError, ConfigError."""
    from tool_runner import ToolRunner

    paths = component_paths(components, tools_dir)
    with ToolRunner(policy=policy, cache_dir=cache_dir) as runner:
        tools: dict[str, Tool] = {}
        for path in paths:
            tool = runner.load(path)
            if tool.name in tools:
                raise LoadError(
                    path, f"tool name {tool.name!r} is already used by {tools[tool.name].path}"
                )
            tools[tool.name] = tool
        yield RunnerExecutor(list(tools.values()))
