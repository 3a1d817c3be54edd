"""One sandboxed invocation: a store that grants only what the policy says, and its outcome.

Every store starts from nothing: no environment, arguments, stdin, files or network. The policy
adds named environment variables, preopened directories (read-only unless granted writable) and
stdio capture. Limits: an epoch deadline (wall clock), a per-memory size cap and caps on tables
and instances, optional fuel, and bounded stdout/stderr capture. Failures are classified into a
`ResultKind` with a one-line reason (never a wasm backtrace).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

import wasmtime

from tool_runner.engine import SharedEngine, deadline_ticks
from tool_runner.policy import Limits, Policy
from tool_runner.result import ResultKind

_OOM_MARKERS = (
    "memory allocation of",
    "out of memory",
    "memoryerror",
    "exceeds memory limits",
    "memory minimum size",
    "failed to grow memory",
)
_MAX_TABLE_ELEMENTS = 1_000_000
_MAX_MEMORIES = 16
_MAX_INSTANCES = 1_000


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


@dataclass
class Captures:
    """The stdout and stderr sinks of one store."""

    stdout: Capture
    stderr: Capture

    @classmethod
    def for_limits(cls, limits: Limits) -> Captures:
        """Sinks capped at the call's output limit."""
        return cls(Capture(limits.max_output_bytes), Capture(limits.max_output_bytes))


def new_store(
    shared: SharedEngine, policy: Policy, limits: Limits, captures: Captures
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
        wasi.stdout_custom = captures.stdout
        wasi.stderr_custom = captures.stderr
    store = wasmtime.Store(shared.engine)
    store.set_wasi(wasi)
    store.set_limits(
        memory_size=limits.memory_bytes,
        table_elements=_MAX_TABLE_ELEMENTS,
        instances=_MAX_INSTANCES,
        memories=_MAX_MEMORIES,
    )
    arm(store, shared, limits)
    return store


def arm(store: wasmtime.Store, shared: SharedEngine, limits: Limits) -> None:
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


def reason_line(exc: BaseException) -> str:
    """The one line that says why: wasmtime's root cause, without the wasm backtrace."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if "Caused by:" in lines:
        after = lines[lines.index("Caused by:") + 1 :]
        causes = [line for line in after if not line.startswith(("0:", "1:", "2:"))]
        if causes:
            return causes[-1].lstrip("0123456789: ")
    return lines[0]


def classify(exc: BaseException, limits: Limits, captures: Captures) -> Failure:
    """Turn an exception from instantiation or a call into a Failure."""
    if isinstance(exc, wasmtime.ExitTrap):
        return Failure(
            ResultKind.EXIT, f"the tool exited with code {exc.code} before returning", exc.code
        )
    for name, sink in (("stdout", captures.stdout), ("stderr", captures.stderr)):
        if sink.overflowed:
            return output_too_large(name, limits)
    reason = reason_line(exc)
    lowered = reason.lower()
    if "wasm trap: interrupt" in lowered:
        return Failure(ResultKind.TIMEOUT, f"timed out after {limits.timeout_s:g} s")
    if "all fuel consumed" in lowered:
        return Failure(ResultKind.FUEL_EXHAUSTED, f"ran out of fuel ({limits.fuel} units)")
    evidence = (lowered + "\n" + captures.stderr.text()[-2000:].lower()).strip()
    if any(marker in evidence for marker in _OOM_MARKERS):
        return Failure(
            ResultKind.MEMORY_LIMIT,
            f"exceeded the memory limit of {limits.memory_mib} MiB ({reason})",
        )
    if not isinstance(exc, wasmtime.WasmtimeError):
        return Failure(ResultKind.TRAP, f"host error: {type(exc).__name__}: {reason}")
    return Failure(ResultKind.TRAP, reason)


def output_too_large(what: str, limits: Limits) -> Failure:
    """The Failure for output beyond `limits.max_output_bytes`."""
    return Failure(
        ResultKind.OUTPUT_TOO_LARGE,
        f"{what} exceeded the output limit of {limits.max_output_bytes} bytes",
    )
