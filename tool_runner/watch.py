"""`DirectoryWatch`: a thread that counts changes to the `*.wasm` files of one directory.

    with DirectoryWatch(Path("components")) as watch:
        ...
        if watch.generation != seen:   # something was added, replaced or removed
            ...

It uses `watchfiles` (inotify on Linux) and only counts: whoever serves the tools reloads them
between calls when the count moved (`ToolSet.refresh`), so a change never interrupts a call.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tool_runner.closing import Closing


def _is_component(_change: object, path: str) -> bool:
    return path.endswith(".wasm")


class DirectoryWatch(Closing):
    """Counts changes to `directory`'s `*.wasm` files from a daemon thread until closed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._generation = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tool-watch", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    @property
    def generation(self) -> int:
        """How many batches of changes have been seen since the watch started."""
        with self._lock:
            return self._generation

    def _run(self) -> None:
        import watchfiles

        self._ready.set()
        for _changes in watchfiles.watch(
            self.directory,
            watch_filter=_is_component,
            stop_event=self._stop,
            debounce=50,
            step=20,
            yield_on_timeout=False,
            raise_interrupt=False,
        ):
            with self._lock:
                self._generation += 1

    def close(self) -> None:
        """Stop and join the thread."""
        self._stop.set()
        self._thread.join(timeout=5)
