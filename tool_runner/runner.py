"""`ToolRunner` loads components as `Tool`s; `Tool.call` runs one sandboxed call.

    with ToolRunner(policy=Policy()) as runner:
        tool = runner.load(Path("components/echo-tool-component.wasm"))
        result = tool.call({"value": "Hello"})

Loading raises `LoadError` subclasses (one-line messages). Calling never raises for anything the
guest or the caller's arguments do: the outcome is a `ToolResult` with a `ResultKind`.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import wasmtime
from wasmtime import component

from tool_runner.arguments import ArgumentError, ArgValue, canonical_arguments
from tool_runner.cache import CompileCache, default_cache_dir
from tool_runner.engine import EngineSettings, SharedEngine, shared_engine
from tool_runner.errors import CompileError, LoadError, MetadataError
from tool_runner.host import CURRENT_CALL, CallContext
from tool_runner.loader import check_path, read_component_bytes
from tool_runner.metadata import ToolMetadata, World
from tool_runner.policy import Limits, Policy
from tool_runner.result import ResultKind, ToolResult
from tool_runner.sandbox import (
    Captures,
    Failure,
    arm,
    classify,
    new_store,
    output_too_large,
    reason_line,
)
from tool_runner.worlds import (
    WorldBinding,
    bind_world,
    check_imports,
    lift_result,
    lower_arguments,
    read_metadata,
)


class Tool:
    """A loaded component with its metadata; `call` runs it in a fresh sandbox."""

    def __init__(
        self,
        path: Path,
        metadata: ToolMetadata,
        policy: Policy,
        shared: SharedEngine,
        compiled: component.Component,
        binding: WorldBinding,
    ) -> None:
        self.path = path
        self.metadata = metadata
        self.policy = policy
        self._shared = shared
        self._component = compiled
        self._binding = binding
        self._lock = threading.Lock()
        self._warm: tuple[wasmtime.Store, component.Func, Captures] | None = None

    @property
    def name(self) -> str:
        """The tool's name from its metadata."""
        return self.metadata.name

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
        except ArgumentError as exc:
            return self._result(started, Failure(ResultKind.INVALID_ARGUMENTS, str(exc)), {})
        with self._lock:
            return self._call(started, arguments)

    def _call(self, started: float, arguments: dict[str, str]) -> ToolResult:
        limits = self.limits
        context = CallContext(policy=self.policy, log_budget=limits.max_output_bytes)
        token = CURRENT_CALL.set(context)
        captures = Captures.for_limits(limits)
        store: wasmtime.Store | None = None
        try:
            store, func, captures = self._instance(limits, captures)
            value = func(store, lower_arguments(self.world, arguments))
        except Exception as exc:  # noqa: BLE001 - every guest failure becomes a result
            self._warm = None
            failure = classify(exc, limits, captures)
            # The traceback holds the store in a cycle; break it so the store goes now.
            exc.__traceback__ = None
            return self._result(started, failure, arguments, captures, context)
        finally:
            CURRENT_CALL.reset(token)
            self._release(store)
        ok, text = lift_result(self.world, value)
        for name, sink in (("stdout", captures.stdout), ("stderr", captures.stderr)):
            if sink.overflowed:
                return self._result(
                    started, output_too_large(name, limits), arguments, captures, context
                )
        if len(text.encode("utf-8", "replace")) > limits.max_output_bytes:
            failure = output_too_large("the tool's output", limits)
            return self._result(started, failure, arguments, captures, context)
        if not ok:
            failure = Failure(ResultKind.TOOL_ERROR, text.strip() or "the tool reported failure")
            return self._result(started, failure, arguments, captures, context)
        return ToolResult(
            tool=self.name,
            ok=True,
            kind=ResultKind.SUCCESS,
            output=text,
            stdout=captures.stdout.text(),
            stderr=captures.stderr.text(),
            log=tuple(context.log),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            arguments=arguments,
        )

    def _release(self, store: wasmtime.Store | None) -> None:
        # Close a store we do not keep right away, on this thread: left to the garbage
        # collector, its WASI streams may be flushed from a wasmtime thread during interpreter
        # shutdown, which aborts the process.
        if store is not None and (self._warm is None or self._warm[0] is not store):
            store.close()

    def _instance(
        self, limits: Limits, captures: Captures
    ) -> tuple[wasmtime.Store, component.Func, Captures]:
        if self._warm is not None:
            store, func, warm_captures = self._warm
            warm_captures.stdout.reset()
            warm_captures.stderr.reset()
            arm(store, self._shared, limits)
            return store, func, warm_captures
        store = new_store(self._shared, self.policy, limits, captures)
        instance = self._shared.linker.instantiate(store, self._component)
        execute = instance.get_func(store, self._binding.execute)
        if execute is None:  # pragma: no cover - bind_world found it in the component type
            raise wasmtime.WasmtimeError("execute export is not a function")
        if self.policy.reuse_instance:
            self._warm = (store, execute, captures)
            _LIVE.add(self)
        return store, execute, captures

    def _result(
        self,
        started: float,
        failure: Failure,
        arguments: dict[str, str],
        captures: Captures | None = None,
        context: CallContext | None = None,
    ) -> ToolResult:
        return ToolResult(
            tool=self.name,
            ok=False,
            kind=failure.kind,
            error=failure.message,
            stdout=captures.stdout.text() if captures else "",
            stderr=captures.stderr.text() if captures else "",
            log=tuple(context.log) if context else (),
            elapsed_ms=(time.perf_counter() - started) * 1000,
            exit_code=failure.exit_code,
            arguments=arguments,
        )

    def close(self) -> None:
        """Drop the reused instance, if any."""
        with self._lock:
            warm, self._warm = self._warm, None
            if warm is not None:
                warm[0].close()

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, path={str(self.path)!r}, world={self.world!r})"


class ToolRunner:
    """Loads tool components under a policy; shares one engine per process and a compile cache.

    `cache_dir=None` uses `${XDG_CACHE_HOME:-~/.cache}/llm-agent/compiled`; `cache=False`
    compiles every time.
    """

    def __init__(
        self, policy: Policy | None = None, cache_dir: Path | None = None, *, cache: bool = True
    ) -> None:
        self.policy = policy if policy is not None else Policy()
        self.cache = CompileCache((cache_dir or default_cache_dir()) if cache else None)
        self._tools: list[Tool] = []
        self.last_load_was_cached = False

    def load(self, path: Path | str, policy: Policy | None = None) -> Tool:
        """Load the component at `path` as a Tool; raises LoadError subclasses."""
        path = Path(path)
        effective = policy if policy is not None else self.policy
        shared = shared_engine(EngineSettings(fuel=_needs_fuel(effective)))
        check_path(path)
        outcome = self.cache.lookup(path, shared)
        if outcome is None:
            wasm = read_component_bytes(path)
            try:
                outcome = self.cache.compile(path, wasm, shared)
            except wasmtime.WasmtimeError as exc:
                raise CompileError(path, reason_line(exc)) from exc
        self.last_load_was_cached = outcome.hit
        check_imports(path, outcome.component, shared.engine)
        binding = bind_world(path, outcome.component, shared.engine)
        metadata = _fetch_metadata(path, shared, outcome.component, binding, effective)
        tool = Tool(path, metadata, effective, shared, outcome.component, binding)
        self._tools.append(tool)
        return tool

    def load_dir(self, directory: Path | str, policy: Policy | None = None) -> list[Tool]:
        """Every `*.wasm` component in `directory`, sorted by tool name; raises LoadError
        (also for two components with the same tool name)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise LoadError(directory, "not a directory")
        tools: dict[str, Tool] = {}
        for path in sorted(directory.glob("*.wasm")):
            tool = self.load(path, policy)
            if tool.name in tools:
                raise LoadError(
                    path, f"tool name {tool.name!r} is already used by {tools[tool.name].path}"
                )
            tools[tool.name] = tool
        return [tools[name] for name in sorted(tools)]

    def close(self) -> None:
        """Release every loaded tool's reused instance."""
        for tool in self._tools:
            tool.close()
        self._tools.clear()

    def __enter__(self) -> ToolRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_LIVE: weakref.WeakSet[Tool] = weakref.WeakSet()


@atexit.register
def _close_live_tools() -> None:
    for tool in list(_LIVE):
        tool.close()


def _needs_fuel(policy: Policy) -> bool:
    return policy.limits.fuel is not None or any(
        limits.fuel is not None for limits in policy.tool_limits.values()
    )


def _fetch_metadata(
    path: Path,
    shared: SharedEngine,
    compiled: component.Component,
    binding: WorldBinding,
    policy: Policy,
) -> ToolMetadata:
    limits = policy.limits
    captures = Captures.for_limits(limits)
    context = CallContext(policy=policy, log_budget=limits.max_output_bytes)
    token = CURRENT_CALL.set(context)
    store: wasmtime.Store | None = None
    try:
        store = new_store(shared, policy, limits, captures)
        instance = shared.linker.instantiate(store, compiled)
        func = instance.get_func(store, binding.get_metadata)
        if func is None:
            raise MetadataError(path, "get-metadata is not a function")
        value = func(store)
    except MetadataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means the tool is unusable
        failure = classify(exc, limits, captures)
        raise MetadataError(path, f"get-metadata failed: {failure.message}") from None
    finally:
        CURRENT_CALL.reset(token)
        if store is not None:
            store.close()
    return read_metadata(path, binding.world, value)
