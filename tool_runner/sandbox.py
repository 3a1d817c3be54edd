"""One sandboxed invocation: a store that grants only what the policy says, and its outcome.

Every store starts from nothing: no environment, arguments, stdin, files or network. The policy
adds named environment variables, preopened directories (read-only unless granted writable) and
stdio capture. Limits: an epoch deadline (wall clock), the memory cap on the one linear memory a
call may have plus caps on tables and instances (so the cap bounds the whole call: see
`MAX_MEMORIES`), optional fuel, and bounded stdout/stderr capture. Failures are classified into a
`ResultKind` with a one-line reason (never a wasm backtrace).

`invoke` is the one path into a guest: new store (or a kept one) + instantiate + get the export
+ call it under a `CallContext`, every failure classified. `output_failure` is the one place the
output caps are checked.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import wasmtime
from wasmtime import component

from tool_runner.calls import Signature
from tool_runner.engine import SandboxEngine, deadline_ticks
from tool_runner.host import CURRENT_CALL, CallContext
from tool_runner.policy import Limits, Policy
from tool_runner.result import ResultKind
from tool_runner.wasm_errors import reason_line

_OOM_MARKERS = (
    "memory allocation of",
    "out of memory",
    "memoryerror",
    "exceeds memory limits",
    "memory minimum size",
    "failed to grow memory",
    "realloc return: beyond end of memory",
)
# A trap whose innermost frame is an allocator is an allocation that found no memory (wasmtime
# reports a refused `memory.grow` only to the guest, as -1).
_INNERMOST_FRAME = re.compile(r"^\s*0:\s+0x[0-9a-f]+ - (?:[^!\n]*!)?(?P<name>[^\n]+)$", re.M)
_ALLOCATOR = re.compile(r"realloc|malloc|calloc|sbrk|alloc_error|rust_oom|__rdl_oom|dlmalloc")
# Store limits that make `memory_mib` bound the whole call (wasmtime caps each memory, not their
# sum): one linear memory (every component built here, C or Python, has exactly one), at most 4
# tables of 100,000 elements (8 bytes each: 3.1 MiB in all; Python components use 2 tables of
# under 10,000) and 100 core instances (Python components use 14).
MAX_MEMORIES = 1
MAX_TABLES = 4
MAX_TABLE_ELEMENTS = 100_000
MAX_INSTANCES = 100
# How long closing a store waits for wasmtime to release its output sinks (microseconds, as a rule).
SINK_RELEASE_S = 1.0
STORE_LIMITS = (
    f"a call may have at most {MAX_MEMORIES} linear memory, {MAX_TABLES} tables of "
    f"{MAX_TABLE_ELEMENTS:,} elements and {MAX_INSTANCES} instances"
)


class Capture:
    """A bounded stdout/stderr sink; writes past the cap are refused and remembered."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self.overflowed = False

    def __call__(self, data: bytes) -> int | None:
        room = self.limit - len(self.buffer)
        if len(data) <= room:
            self.buffer += data
            return None
        self.buffer += data[: max(room, 0)]
        self.overflowed = True
        # An error from the sink makes the guest's write fail: a flood stops here.
        return -errno.EPIPE

    def text(self) -> str:
        """The captured bytes as text (invalid UTF-8 replaced)."""
        return self.buffer.decode("utf-8", "replace")

    def reset(self) -> None:
        """Forget what was captured (for a reused instance)."""
        self.buffer.clear()
        self.overflowed = False


class _Sink:
    """What wasmtime holds as one store's stdout or stderr: it forwards to a `Capture` and says
    when wasmtime has let go of it (`released`).

    wasmtime writes to it and releases it from its own (tokio) threads, the release a moment
    after the store is closed. A release still pending when the interpreter shuts down calls
    into a finalizing Python, which ends that thread with `pthread_exit`; the forced unwind
    through Rust frames aborts the process ("panic in a function that cannot unwind", rc 134).
    So whoever closes a store waits for its sinks' release (`Captures.wait_released`).

    `released` is a lock held from the start and released when wasmtime lets go: a bare lock is
    a tenth of the cost of a `threading.Event` to make, and a fresh sandbox lends two per call.
    """

    def __init__(self, capture: Capture, released: threading.Lock) -> None:
        self.capture = capture
        self.released = released

    def __call__(self, data: bytes) -> int | None:
        return self.capture(data)

    def __del__(self) -> None:
        self.released.release()


@dataclass
class Captures:
    """The stdout and stderr sinks of one store."""

    stdout: Capture
    stderr: Capture
    lent: list[threading.Lock] = field(default_factory=list)

    @classmethod
    def for_limits(cls, limits: Limits) -> Captures:
        """Sinks capped at the call's output limit."""
        return cls(Capture(limits.max_output_bytes), Capture(limits.max_output_bytes))

    def lend(self, capture: Capture) -> _Sink:
        """A sink for wasmtime that writes to `capture`; its release is waited for."""
        released = threading.Lock()
        released.acquire()  # released by the sink when wasmtime drops it
        self.lent.append(released)
        return _Sink(capture, released)

    def wait_released(self) -> None:
        """Wait (at most SINK_RELEASE_S each) until wasmtime has released every lent sink."""
        for released in self.lent:
            released.acquire(timeout=SINK_RELEASE_S)
        self.lent.clear()


def close_store(store: wasmtime.Store, captures: Captures) -> None:
    """Close `store` on this thread and wait until wasmtime let go of its output sinks."""
    store.close()
    captures.wait_released()


def new_store(
    shared: SandboxEngine, policy: Policy, limits: Limits, captures: Captures
) -> wasmtime.Store:
    """A store granting exactly what `policy` says, with `limits` applied."""
    wasi = wasmtime.WasiConfig()
    env = policy.environment(os.environ)
    if env:
        wasi.env = env
    for grant in policy.dirs:
        wasi.preopen_dir(str(grant.host), grant.guest, grant.writable)
    if policy.inherit_stdio:
        wasi.inherit_stdout()
        wasi.inherit_stderr()
    else:
        wasi.stdout_custom = captures.lend(captures.stdout)
        wasi.stderr_custom = captures.lend(captures.stderr)
    store = wasmtime.Store(shared.engine)
    store.set_wasi(wasi)
    store.set_limits(
        memory_size=limits.memory_bytes,
        table_elements=MAX_TABLE_ELEMENTS,
        instances=MAX_INSTANCES,
        tables=MAX_TABLES,
        memories=MAX_MEMORIES,
    )
    arm(store, shared, limits)
    return store


def arm(store: wasmtime.Store, shared: SandboxEngine, limits: Limits) -> None:
    """Set the call's deadline (and fuel, when the engine meters it)."""
    store.set_epoch_deadline(deadline_ticks(limits.timeout_s))
    if shared.settings.fuel:
        store.set_fuel(limits.fuel if limits.fuel is not None else 2**63 - 1)


@dataclass(frozen=True)
class Failure:
    """A classified guest-side failure."""

    kind: ResultKind
    message: str
    exit_code: int | None = None


def classify(exc: BaseException, limits: Limits, captures: Captures) -> Failure:
    """Turn an exception from instantiation or a call into a Failure."""
    if isinstance(exc, wasmtime.ExitTrap):
        return Failure(
            ResultKind.EXIT, f"the tool exited with code {exc.code} before returning", exc.code
        )
    overflow = output_failure(captures, limits)
    if overflow is not None:
        return overflow
    reason = reason_line(exc)
    lowered = reason.lower()
    if "wasm trap: interrupt" in lowered:
        return Failure(ResultKind.TIMEOUT, f"timed out after {limits.timeout_s:g} s")
    if "all fuel consumed" in lowered:
        return Failure(ResultKind.FUEL_EXHAUSTED, f"ran out of fuel ({limits.fuel} units)")
    if "resource limit exceeded" in lowered or "exceeds table limits" in lowered:
        return memory_limit(f"{reason}; {STORE_LIMITS}", limits)
    innermost = _INNERMOST_FRAME.search(str(exc))
    if _out_of_memory(reason, captures) or (
        innermost is not None and _ALLOCATOR.search(innermost["name"])
    ):
        return memory_limit(reason, limits)
    if not isinstance(exc, wasmtime.WasmtimeError):
        return Failure(ResultKind.TRAP, f"host error: {type(exc).__name__}: {reason}")
    return Failure(ResultKind.TRAP, reason)


def tool_error(text: str, limits: Limits, captures: Captures) -> Failure:
    """The Failure for the tool's own `err(text)`: memory_limit when it says it ran out."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[0] if lines else "the tool reported failure"
    if _out_of_memory(text, captures):
        return memory_limit(reason, limits)
    return Failure(ResultKind.TOOL_ERROR, text.strip() or reason)


def memory_limit(reason: str, limits: Limits) -> Failure:
    """The Failure for a guest that ran into the memory cap; `reason` is one line."""
    return Failure(
        ResultKind.MEMORY_LIMIT,
        f"exceeded the memory limit of {limits.memory_mib} MiB ({reason})",
    )


def _out_of_memory(text: str, captures: Captures) -> bool:
    evidence = (text + "\n" + captures.stderr.text()[-2000:]).lower()
    return any(marker in evidence for marker in _OOM_MARKERS)


def output_failure(captures: Captures, limits: Limits, output: str | None = None) -> Failure | None:
    """OUTPUT_TOO_LARGE when stdout, stderr or the tool's `output` went past the cap, else None."""
    for name, sink in (("stdout", captures.stdout), ("stderr", captures.stderr)):
        if sink.overflowed:
            return _too_large(name, limits)
    if output is not None and len(output.encode("utf-8", "replace")) > limits.max_output_bytes:
        return _too_large("the tool's output", limits)
    return None


def _too_large(what: str, limits: Limits) -> Failure:
    return Failure(
        ResultKind.OUTPUT_TOO_LARGE,
        f"{what} exceeded the output limit of {limits.max_output_bytes} bytes",
    )


@dataclass
class Instance:
    """A store with one instantiated component and the export being called."""

    store: wasmtime.Store
    func: component.Func
    captures: Captures
    signature: Signature | None = None

    def call(self, args: Sequence[Any]) -> Any:
        """Call the export with `args` (through its signature when it has one); raises what
        the guest or wasmtime raise."""
        if self.signature is not None:
            return self.signature.call(self.func, self.store, args)
        return self.func(self.store, *args)

    def close(self) -> None:
        """Close the store now, on this thread (see `invoke`)."""
        close_store(self.store, self.captures)


@dataclass(frozen=True)
class Invocation:
    """What one call of an export produced: its value, or the classified failure."""

    value: Any
    failure: Failure | None
    captures: Captures
    log: tuple[str, ...]
    kept: Instance | None = None


def invoke(
    engine: SandboxEngine,
    compiled: component.Component,
    export: component.ExportIndex,
    policy: Policy,
    limits: Limits,
    args: Sequence[Any] = (),
    *,
    warm: Instance | None = None,
    keep: bool = False,
) -> Invocation:
    """Call `export` of `compiled` in a new store (or in `warm`) under `policy` and `limits`.

    Never raises for anything the guest does: a failure comes back classified. With `keep`, a
    successful call's instance comes back as `kept` for the next call. When the engine
    prestarts, the call takes a fresh instance made ahead (`SandboxEngine.prestarter`) and hands
    it back to be closed on that thread. Any other store is closed here, on this thread. Either
    way a store is closed only once wasmtime released its output sinks (see `_Sink`): a sink
    released from a wasmtime thread during interpreter shutdown aborts the process.
    """
    context = CallContext(policy=policy, log_budget=limits.max_output_bytes)
    token = CURRENT_CALL.set(context)
    ahead = None
    if warm is None and not keep and engine.prestart:
        ahead = engine.prestarter(
            (compiled, export, policy, limits),
            lambda: _instantiate(engine, compiled, export, policy, limits),
            Instance.close,
        )
    instance = warm if warm is not None else ahead.take() if ahead is not None else None
    captures = instance.captures if instance is not None else Captures.for_limits(limits)
    store: wasmtime.Store | None = None
    try:
        if instance is not None:
            captures.stdout.reset()
            captures.stderr.reset()
            arm(instance.store, engine, limits)
        else:
            store = new_store(engine, policy, limits, captures)
            instance = _bind(engine, compiled, export, store, captures)
        value = instance.call(args)
    except Exception as exc:  # noqa: BLE001 - every guest failure becomes a result
        failure = classify(exc, limits, captures)
        # The traceback holds the store in a cycle; break it so the store goes now.
        exc.__traceback__ = None
        if instance is not None:
            instance.close()
        elif store is not None:
            close_store(store, captures)
        return Invocation(None, failure, captures, tuple(context.log))
    finally:
        CURRENT_CALL.reset(token)
    if keep:
        return Invocation(value, None, captures, tuple(context.log), instance)
    if ahead is not None:
        ahead.retire(instance)  # closed on the prestarter's thread, off this call's time
    else:
        instance.close()
    return Invocation(value, None, captures, tuple(context.log))


def _instantiate(
    engine: SandboxEngine,
    compiled: component.Component,
    export: component.ExportIndex,
    policy: Policy,
    limits: Limits,
) -> Instance:
    """A fresh instance in a new store, made ahead of a call (`invoke` re-arms its deadline)."""
    captures = Captures.for_limits(limits)
    store = new_store(engine, policy, limits, captures)
    try:
        return _bind(engine, compiled, export, store, captures)
    except BaseException:
        close_store(store, captures)
        raise


def _bind(
    engine: SandboxEngine,
    compiled: component.Component,
    export: component.ExportIndex,
    store: wasmtime.Store,
    captures: Captures,
) -> Instance:
    """Instantiate `compiled` in `store` and find `export`; raises what instantiation raises."""
    func = engine.linker.instantiate(store, compiled).get_func(store, export)
    if func is None:  # pragma: no cover - bind_world found it in the component type
        raise wasmtime.WasmtimeError("the export is not a function")
    return Instance(store, func, captures, engine.signature(compiled, export, func, store))
