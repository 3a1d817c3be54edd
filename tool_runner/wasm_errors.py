"""Wasmtime's errors made one line, and wrapped in ours where a load fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import wasmtime

from tool_runner.errors import ToolRunnerError


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


@contextmanager
def wasmtime_errors_as(error: Callable[[str], ToolRunnerError]) -> Iterator[None]:
    """Re-raise a wasmtime error inside the block as `error(reason line)` (chained)."""
    try:
        yield
    except wasmtime.WasmtimeError as exc:
        raise error(reason_line(exc)) from exc
