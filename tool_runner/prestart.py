"""Sandboxes made ahead of need: a background thread that keeps fresh instances ready and closes
used ones, so that a call neither instantiates nor tears down on its own time.

A call still gets an instance no call has ever used (the sandbox's security property: no state
crosses from one call to the next); only *when* the instance is made changes. `Prestarter` knows
nothing of wasmtime: it is given how to make one item and how to close one, and runs both on its
thread. A failure to make one stops it from making more (the caller then makes its own and
reports the failure as it always did); `close()` stops the thread, then closes every item it
still holds, ready or retired. Prestarters still open when the interpreter exits are closed by
an `atexit` hook, while their threads still run: an item left to the garbage collector during
shutdown would release wasmtime's output sinks into a finalizing interpreter (see
`tool_runner.sandbox._Sink`).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tool_runner.closing import Closing

T = TypeVar("T")


class Prestarter(Closing, Generic[T]):
    """Keeps `depth` items made by `make` ready; closes retired items with `close`."""

    def __init__(
        self, make: Callable[[], T], close: Callable[[T], None], *, depth: int = 1, name: str = ""
    ) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._make = make
        self._close = close
        self._depth = depth
        self._ready: deque[T] = deque()
        self._retired: deque[T] = deque()
        self._wake = threading.Condition()
        self._stopped = False
        self._making = True  # the thread starts by making one: a first take waits for it
        self.failed: BaseException | None = None
        """What stopped it from making items, if anything."""
        self.made = 0
        """How many items it has made."""
        self._thread = threading.Thread(
            target=self._run, name=f"tool-runner-prestart {name}".strip(), daemon=True
        )
        self._thread.start()
        _OPEN.add(self)

    def take(self) -> T | None:
        """A ready item, never used; when one is being made, it waits for that one (making
        another at the same time would only halve the machine for both). None when none is
        ready or coming (stopped, or making failed): the caller makes its own."""
        with self._wake:  # the next one is made once this one is retired, not during its call
            self._wake.wait_for(lambda: bool(self._ready) or not self._making)
            return self._ready.popleft() if self._ready else None

    def retire(self, item: T) -> None:
        """Hand a used item over to be closed on the background thread (at once when stopped)."""
        with self._wake:
            if not self._stopped:
                self._retired.append(item)
                self._wake.notify()
                return
        self._close(item)

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until an item is ready (or making them failed); True when one is."""
        with self._wake:
            self._wake.wait_for(
                lambda: bool(self._ready) or self.failed is not None or self._stopped, timeout_s
            )
            return bool(self._ready)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: (
                        self._stopped
                        or bool(self._retired)
                        or (self.failed is None and len(self._ready) < self._depth)
                    )
                )
                if self._stopped:
                    return
                retired = list(self._retired)
                self._retired.clear()
                self._making = self.failed is None and len(self._ready) < self._depth
            if self._making:  # the next call's sandbox first, then the cleaning up
                self._make_one()
            for item in retired:
                self._close(item)

    def _make_one(self) -> None:
        try:
            item = self._make()
        except BaseException as exc:  # noqa: BLE001 - the caller's own attempt reports it
            with self._wake:
                self.failed = exc
                self._making = False
                self._wake.notify_all()
            return
        with self._wake:
            self.made += 1
            self._making = False
            if not self._stopped:
                self._ready.append(item)
                self._wake.notify_all()
                return
        self._close(item)

    def close(self) -> None:
        """Stop the thread and close every item still held."""
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        _OPEN.discard(self)
        if self._thread is not threading.current_thread():
            self._thread.join()
        with self._wake:
            items = [*self._ready, *self._retired]
            self._ready.clear()
            self._retired.clear()
        for item in items:
            self._close(item)


_OPEN: weakref.WeakSet[Prestarter[Any]] = weakref.WeakSet()


@atexit.register
def _close_open_prestarters() -> None:
    for prestarter in list(_OPEN):
        prestarter.close()
