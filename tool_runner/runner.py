"""`ToolRunner` loads components as `Tool`s; `Tool.call` runs one sandboxed call.

    with ToolRunner(policy=Policy(), cache_dir=default_cache_dir(os.environ)) as runner:
        tool = runner.load(Path("components/echo-tool-component.wasm"))
        result = tool.call({"value": "Hello"})

Loading raises `LoadError` subclasses (one-line messages). Calling never raises for anything the
guest or the caller's arguments do: the outcome is a `ToolResult` with a `ResultKind`.
A runner owns its engines and their epoch ticker; `close()` (or leaving the `with` block)
closes every tool's kept store, stops the ticker and closes the engines.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from wasmtime import component

from tool_runner.arguments import canonical_arguments
from tool_runner.cache import CompileCache
from tool_runner.cache_dir import default_cache_dir
from tool_runner.capabilities import watch_denials, with_capability_request
from tool_runner.closing import Closing
from tool_runner.component_file import component_digest, read_component_bytes, stat_component
from tool_runner.engine import Engines, EngineSettings, SandboxEngine
from tool_runner.errors import ArgumentsError, CompileError, LoadError, MetadataError
from tool_runner.functions import bind_functions
from tool_runner.grants import load_name
from tool_runner.metadata import ArgValue, ToolMetadata, World
from tool_runner.policy import Limits, Policy
from tool_runner.result import ResultKind, ToolResult
from tool_runner.sandbox import (
    Failure,
    Instance,
    Invocation,
    invoke,
    output_failure,
    tool_error,
)
from tool_runner.values import LoweringError
from tool_runner.wasm_errors import wasmtime_errors_as
from tool_runner.worlds import Binding, WorldBinding, check_imports, find_world, read_metadata


class Tool:
    """A loaded component with its metadata; `call` runs it in a fresh sandbox."""

    def __init__(
        self,
        path: Path,
        metadata: ToolMetadata,
        policy: Policy,
        engine: SandboxEngine,
        compiled: component.Component,
        binding: Binding,
        *,
        key: str | None = None,
        digest: str | None = None,
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.policy = policy
        self.key = key if key is not None else load_name(path)
        """The name the tool is loaded under (its grants' key), never the name it claims."""
        self._digest = digest
        self._engine = engine
        self._component = compiled
        self._binding = binding
        self._lock = threading.Lock()
        self._warm: Instance | None = None

    @property
    def name(self) -> str:
        """The tool's name from its metadata."""
        return self.metadata.name

    @property
    def digest(self) -> str:
        """The sha256 (hex) of the component's bytes: checked at load when a policy pins it or
        keys grants by it, else read now."""
        if self._digest is None:
            self._digest = component_digest(self.path)
        return self._digest

    @property
    def world(self) -> World:
        """Which tool world the component exports."""
        return self._binding.world

    @property
    def limits(self) -> Limits:
        """The limits that apply to this tool's calls."""
        return self.policy.limits_for(self.metadata.name)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the tool's arguments (from its own metadata)."""
        return self.metadata.json_schema()

    def check_arguments(self, args: Mapping[str, ArgValue] | None = None) -> dict[str, str]:
        """The canonical arguments `call` would pass; raises ArgumentsError."""
        return canonical_arguments(self.metadata, args or {})

    def call(self, args: Mapping[str, ArgValue] | None = None) -> ToolResult:
        """Validate `args`, run `execute` in the sandbox and report what happened; never raises
        for guest-side problems or bad arguments."""
        started = time.perf_counter()
        try:
            arguments = canonical_arguments(self.metadata, args or {})
        except ArgumentsError as exc:
            failure = Failure(ResultKind.INVALID_ARGUMENTS, str(exc))
            return self._result(started, {}, failure=failure)
        with self._lock, watch_denials() as denied:
            result = self._call(started, arguments)
        return with_capability_request(result, self.key, lambda: self.digest, self.policy, denied)

    def _call(self, started: float, arguments: dict[str, str]) -> ToolResult:
        limits = self.limits
        try:
            lowered = self._binding.lower(arguments, self.metadata.params)
        except LoweringError as exc:
            refused = Failure(ResultKind.INVALID_ARGUMENTS, str(exc))
            return self._result(started, arguments, failure=refused)
        done = invoke(
            self._engine,
            self._component,
            self._binding.execute,
            self.policy,
            limits,
            lowered,
            warm=self._warm,
            keep=self.policy.reuse_instance,
        )
        self._warm = done.kept
        if done.failure is not None:
            return self._result(started, arguments, done, done.failure)
        ok, text = self._binding.lift(done.value)
        failure = output_failure(done.captures, limits, text)
        if failure is None and not ok:
            failure = tool_error(text, limits, done.captures)
        return self._result(started, arguments, done, failure, output=text)

    def _result(
        self,
        started: float,
        arguments: dict[str, str],
        done: Invocation | None = None,
        failure: Failure | None = None,
        output: str | None = None,
    ) -> ToolResult:
        return ToolResult(
            tool=self.name,
            kind=failure.kind if failure else ResultKind.SUCCESS,
            output=None if failure else output,
            error=failure.message if failure else None,
            stdout=done.captures.stdout.text() if done else "",
            stderr=done.captures.stderr.text() if done else "",
            log=done.log if done else (),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            exit_code=failure.exit_code if failure else None,
            arguments=arguments,
        )

    def close(self) -> None:
        """Close the kept instance's store, if any; the tool still works (fresh stores)."""
        with self._lock:
            warm, self._warm = self._warm, None
            if warm is not None:
                warm.close()

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, path={str(self.path)!r}, world={self.world!r})"


class ToolRunner(Closing):
    """Loads tool components under a policy; owns its engines and a compile cache.

    `cache_dir` is where compiled components are kept; callers resolve it at their edge, e.g.
    `default_cache_dir(os.environ)`. `cache_dir=None` resolves exactly that here, when the
    runner is built (the one place the library reads the environment for it); `cache=False`
    compiles every time. With `prestart`, a tool called more than once has its next fresh
    sandbox made ahead of need on a background thread (each call still gets an instance no call
    has used; see `tool_runner.prestart`).
    """

    def __init__(
        self,
        policy: Policy | None = None,
        cache_dir: Path | None = None,
        *,
        cache: bool = True,
        prestart: bool = False,
    ) -> None:
        self.policy = policy if policy is not None else Policy()
        directory = cache_dir if cache_dir is not None else default_cache_dir(os.environ)
        self.cache = CompileCache(directory if cache else None)
        self._engines = Engines(prestart=prestart)
        self._tools: list[Tool] = []

    def load(self, path: Path | str, policy: Policy | None = None, *, alone: bool = True) -> Tool:
        """Load the component at `path` as one Tool (`load_component`: a component exporting
        several functions is a LoadError here); raises as `load_component` does."""
        tools = self.load_component(path, policy, alone=alone)
        if len(tools) != 1:
            names = ", ".join(tool.name for tool in tools)
            raise LoadError(
                Path(path), f"exports {len(tools)} functions as tools ({names}): load_component"
            )
        return tools[0]

    def load_component(
        self, path: Path | str, policy: Policy | None = None, *, alone: bool = True
    ) -> list[Tool]:
        """The tools of the component at `path`: its tool world's one tool, or one per exported
        function (`functions.py`), under the component's own part of the policy
        (`Policy.for_tool`: its section, and the unscoped grants when it is loaded `alone`);
        raises LoadError subclasses (PinnedError: bytes a lock did not pin), CacheError (a
        cache folder that is not private) and PolicyError (a writable grant over it)."""
        path = Path(path)
        given = policy if policy is not None else self.policy
        key = load_name(path)
        digest = component_digest(path) if given.needs_digest else None
        given.check_pin(key, path, digest)
        effective = given.for_tool(key, digest, alone=alone)
        self.cache.check_grants(effective)
        engine = self._engines.get(EngineSettings(fuel=_needs_fuel(effective)))
        st = stat_component(path)
        outcome = self.cache.lookup(path, st, engine)
        if outcome is None:
            wasm = read_component_bytes(path)
            with wasmtime_errors_as(lambda reason: CompileError(path, reason)):
                outcome = self.cache.compile(path, st, wasm, engine)
        check_imports(path, outcome.component, engine.engine)
        world = find_world(outcome.component, engine.engine)
        if world is not None:
            metadata = _fetch_metadata(path, engine, outcome.component, world, effective)
            found: list[tuple[ToolMetadata, Binding]] = [(metadata, world)]
        else:
            functions = bind_functions(path, outcome.component, engine.engine)
            found = [(function.metadata, function) for function in functions]
        tools = [
            Tool(path, meta, effective, engine, outcome.component, bound, key=key, digest=digest)
            for meta, bound in found
        ]
        self._tools.extend(tools)
        return tools

    def load_all(self, paths: Iterable[Path], policy: Policy | None = None) -> list[Tool]:
        """The components at `paths`, in order; raises LoadError (also for two components with
        the same tool name)."""
        paths = list(paths)
        (policy if policy is not None else self.policy).check_scoped(
            [load_name(path) for path in paths]
        )
        tools: dict[str, Tool] = {}
        for path in paths:
            for tool in self.load_component(path, policy, alone=len(paths) == 1):
                if tool.name in tools:
                    raise LoadError(
                        path, f"tool name {tool.name!r} is already used by {tools[tool.name].path}"
                    )
                tools[tool.name] = tool
        return list(tools.values())

    def load_dir(self, directory: Path | str, policy: Policy | None = None) -> list[Tool]:
        """Every `*.wasm` component in `directory`, sorted by tool name; raises LoadError
        (also for two components with the same tool name)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise LoadError(directory, "not a directory")
        tools = self.load_all(sorted(directory.glob("*.wasm")), policy)
        return sorted(tools, key=lambda tool: tool.name)

    def close(self) -> None:
        """Close every tool's kept store, stop the epoch ticker and close the engines.

        Tools loaded by this runner must not be called afterwards.
        """
        for tool in self._tools:
            tool.close()
        self._tools.clear()
        self._engines.close()


def _needs_fuel(policy: Policy) -> bool:
    return policy.limits.fuel is not None or any(
        limits.fuel is not None for limits in policy.tool_limits.values()
    )


def _fetch_metadata(
    path: Path,
    engine: SandboxEngine,
    compiled: component.Component,
    binding: WorldBinding,
    policy: Policy,
) -> ToolMetadata:
    done = invoke(engine, compiled, binding.get_metadata, policy, policy.limits)
    if done.failure is not None:
        raise MetadataError(path, f"get-metadata failed: {done.failure.message}")
    return read_metadata(path, binding.world, done.value)
