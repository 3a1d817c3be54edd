"""Wasmtime engines owned by a runner: Config -> Engine -> Linker, and the epoch ticker.

`Engines` holds one `SandboxEngine` per distinct `EngineSettings` (fuel metering on or off),
created on first use: compiled components belong to an engine, and engines are expensive. A
single `EpochTicker` thread advances every engine's epoch each `EPOCH_TICK_S`, which is what
makes call timeouts work (`Store.set_epoch_deadline`). Each engine has one linker with WASI p2
and the `llm-agent:tool/host` interface, shared by every instantiation.

Everything here owns native handles or a thread, so each object has `close()` and is a context
manager; `Engines.close()` stops and joins the ticker, then closes the linkers and engines.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import wasmtime
from wasmtime import component

from tool_runner.calls import Signature
from tool_runner.closing import Closing
from tool_runner.host import HOST_INTERFACES, host_http_get, host_log
from tool_runner.memory import HOST_FUNCTIONS as MEMORY_FUNCTIONS
from tool_runner.memory import MEMORY_INTERFACE
from tool_runner.prestart import Prestarter

EPOCH_TICK_S = 0.01
T = TypeVar("T")


def wasmtime_version() -> str:
    """The installed wasmtime-py version (it follows wasmtime's)."""
    return importlib.metadata.version("wasmtime")


def deadline_ticks(timeout_s: float) -> int:
    """Epoch ticks for `timeout_s`: rounded up, plus one for the tick already under way."""
    return max(1, int(-(-timeout_s // EPOCH_TICK_S))) + 1


@dataclass(frozen=True)
class EngineSettings:
    """The engine configuration; part of the compile-cache key.

    `eager_memory` initialises an instance's linear memory by copying its data when it is
    instantiated, instead of mapping the component's memory image copy-on-write (wasmtime's
    default), whose pages then fault in one by one during the first call: a componentize-py
    tool's first call touches a few hundred of them. Eager copying makes instantiation slower
    and the first call fast, the right trade when sandboxes are made ahead of need
    (`Engines(prestart=True)`); wasmtime refuses an artifact compiled for the other mode.
    """

    fuel: bool = False
    eager_memory: bool = False

    def digest(self) -> str:
        """A short digest of everything that makes a compiled artifact engine-specific."""
        parts = [
            f"wasmtime={wasmtime_version()}",
            f"machine={platform.machine()}",
            f"system={platform.system()}",
            "epoch=1",
            f"fuel={int(self.fuel)}",
        ]
        if self.eager_memory:  # absent by default: existing caches keep their keys
            parts.append("memory=eager")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class SandboxEngine(Closing):
    """An engine built for `settings`, with its ready-to-use linker and the signatures of the
    exports called through it (read once per export: see `tool_runner.calls`)."""

    def __init__(self, settings: EngineSettings, *, prestart: bool = False) -> None:
        config = wasmtime.Config()
        config.wasm_component_model = True
        config.epoch_interruption = True
        config.consume_fuel = settings.fuel
        config.memory_init_cow = not settings.eager_memory
        self.settings = settings
        self.engine = wasmtime.Engine(config)  # takes ownership of the config
        self.linker = component.Linker(self.engine)
        self.linker.add_wasip2()
        for interface in HOST_INTERFACES:
            with self.linker.root() as root, root.add_instance(interface) as host:
                host.add_func("log", host_log)
                host.add_func("http-get", host_http_get)
        with self.linker.root() as root, root.add_instance(MEMORY_INTERFACE) as memory:
            for name, function in MEMORY_FUNCTIONS:
                memory.add_func(name, function)
        self._signatures_lock = threading.Lock()
        # (id(compiled), id(export)) -> (compiled, export, signature): the objects are kept so
        # that their ids cannot be taken by others while the entry lives
        self._signatures: dict[tuple[int, int], tuple[object, object, Signature | None]] = {}
        self.prestart = prestart
        # (id(compiled), id(export), id(policy)) -> (the three, its prestarter once asked twice)
        self._prestarters: dict[tuple[int, ...], tuple[object, Prestarter[Any] | None]] = {}

    def signature(
        self,
        compiled: component.Component,
        export: component.ExportIndex,
        func: component.Func,
        store: wasmtime.Store,
    ) -> Signature | None:
        """The signature of `export` of `compiled` (read from `func` the first time), or None
        when its types need wasmtime-py's own converters."""
        key = (id(compiled), id(export))
        with self._signatures_lock:
            found = self._signatures.get(key)
        if found is not None:
            return found[2]
        signature = Signature.of(func.type(store))
        with self._signatures_lock:
            self._signatures[key] = (compiled, export, signature)
        return signature

    def prestarter(
        self,
        keys: tuple[object, ...],
        make: Callable[[], T],
        close: Callable[[T], None],
    ) -> Prestarter[T] | None:
        """The prestarter of the call named by `keys` (objects, compared by identity), started
        the second time it is asked for: an export called once, like `get-metadata` at load,
        never gets one. None when prestarting is off or on that first time."""
        if not self.prestart:
            return None
        key = tuple(id(item) for item in keys)
        with self._signatures_lock:
            found = self._prestarters.get(key)
            if found is None:
                self._prestarters[key] = (keys, None)
                return None
            if found[1] is None:
                started: Prestarter[T] = Prestarter(make, close, name=str(len(self._prestarters)))
                self._prestarters[key] = (keys, started)
                return started
            return found[1]

    def close(self) -> None:
        """Stop the prestarters, then close the linker and the engine (components and stores
        keep what they need)."""
        with self._signatures_lock:
            self._signatures.clear()
            prestarters, self._prestarters = list(self._prestarters.values()), {}
        for _keys, prestarter in prestarters:
            if prestarter is not None:
                prestarter.close()
        self.linker.close()
        self.engine.close()


class EpochTicker(Closing):
    """A thread that increments the epoch of each registered engine every `EPOCH_TICK_S`."""

    def __init__(self) -> None:
        self._engines: list[wasmtime.Engine] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, engine: wasmtime.Engine) -> None:
        """Tick `engine` from now on (starting the thread on first use)."""
        with self._lock:
            if self._stop.is_set():
                raise RuntimeError("the epoch ticker is closed")
            self._engines.append(engine)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tool-runner-epoch", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(EPOCH_TICK_S):
            with self._lock:
                for engine in self._engines:
                    engine.increment_epoch()

    def close(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._lock:
            self._engines.clear()


class Engines(Closing):
    """The engines of one runner, one per `EngineSettings`, all ticked by one `EpochTicker`;
    with `prestart`, each keeps fresh instances of the exports called more than once ready
    ahead of need (`tool_runner.prestart`)."""

    def __init__(self, *, prestart: bool = False) -> None:
        self._lock = threading.Lock()
        self._prestart = prestart
        self._engines: dict[EngineSettings, SandboxEngine] = {}
        self._ticker = EpochTicker()

    def get(self, settings: EngineSettings) -> SandboxEngine:
        """The engine for `settings`, created (with its linker) on first use; with `prestart`,
        one that initialises memory eagerly (`EngineSettings.eager_memory`): instantiation
        then happens ahead of need and the call itself faults no pages in."""
        if self._prestart:
            settings = dataclasses.replace(settings, eager_memory=True)
        with self._lock:
            found = self._engines.get(settings)
            if found is None:
                found = self._engines[settings] = SandboxEngine(settings, prestart=self._prestart)
                self._ticker.add(found.engine)
            return found

    def close(self) -> None:
        """Stop the ticker, then close every engine."""
        self._ticker.close()
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.close()
