"""Process-wide wasmtime engines, their epoch ticker and their linkers.

One engine per distinct setting (fuel metering on or off) per process, shared by every runner:
compiled components belong to an engine, and engines are expensive. A single daemon thread
advances every engine's epoch each `EPOCH_TICK_S`, which is what makes call timeouts work
(`Store.set_epoch_deadline`). Each engine has one linker with WASI p2 and the
`llm-agent:tool/host` interface, built once and shared by every instantiation.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import threading
import time
from dataclasses import dataclass

import wasmtime
from wasmtime import component

from tool_runner.host import HOST_INTERFACE, host_http_get, host_log

EPOCH_TICK_S = 0.01


@dataclass(frozen=True)
class EngineSettings:
    """The engine configuration; part of the compile-cache key."""

    fuel: bool = False

    def digest(self) -> str:
        """A short digest of everything that makes a compiled artifact engine-specific."""
        text = "|".join(
            [
                f"wasmtime={wasmtime_version()}",
                f"machine={platform.machine()}",
                f"system={platform.system()}",
                "epoch=1",
                f"fuel={int(self.fuel)}",
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SharedEngine:
    """An engine with its settings and its ready-to-use linker."""

    engine: wasmtime.Engine
    linker: component.Linker
    settings: EngineSettings


_lock = threading.Lock()
_engines: dict[EngineSettings, SharedEngine] = {}
_ticker: threading.Thread | None = None


def wasmtime_version() -> str:
    """The installed wasmtime-py version (it follows wasmtime's)."""
    return importlib.metadata.version("wasmtime")


def shared_engine(settings: EngineSettings) -> SharedEngine:
    """The process's engine for `settings`, created (with its linker) on first use."""
    with _lock:
        found = _engines.get(settings)
        if found is None:
            found = _engines[settings] = _create(settings)
            _start_ticker()
        return found


def _create(settings: EngineSettings) -> SharedEngine:
    config = wasmtime.Config()
    config.wasm_component_model = True
    config.epoch_interruption = True
    config.consume_fuel = settings.fuel
    engine = wasmtime.Engine(config)
    linker = component.Linker(engine)
    linker.add_wasip2()
    with linker.root() as root, root.add_instance(HOST_INTERFACE) as host:
        host.add_func("log", host_log)
        host.add_func("http-get", host_http_get)
    return SharedEngine(engine=engine, linker=linker, settings=settings)


def _start_ticker() -> None:
    global _ticker
    if _ticker is None:
        _ticker = threading.Thread(target=_tick, name="tool-runner-epoch", daemon=True)
        _ticker.start()


def _tick() -> None:
    while True:
        time.sleep(EPOCH_TICK_S)
        for shared in list(_engines.values()):
            shared.engine.increment_epoch()


def deadline_ticks(timeout_s: float) -> int:
    """Epoch ticks for `timeout_s`: rounded up, plus one for the tick already under way."""
    return max(1, int(-(-timeout_s // EPOCH_TICK_S))) + 1
