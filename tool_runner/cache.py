"""The on-disk compile cache: a component is compiled once per content, engine and wasmtime.

Artifacts are named by sha256(component bytes, wasmtime version, engine-settings digest), so a
change of engine settings or wasmtime version can never load a stale artifact (and wasmtime
itself refuses an incompatible one, which we treat as a miss). A small stat index maps a file's
(path, size, mtime, ctime, inode) to that digest so that a warm load does not even hash the
file: an 18 MB Python component loads in milliseconds. Writes are atomic (temp file + rename);
a corrupt or unreadable entry is deleted and recompiled, and a cache that cannot be written is
skipped, never fatal. `CompileCache.stats` counts hits and compilations.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime import component

from tool_runner.engine import SandboxEngine, wasmtime_version


@dataclass(frozen=True)
class CacheOutcome:
    """How a component was obtained: `hit` (deserialized) or compiled now."""

    component: component.Component
    hit: bool


@dataclass(frozen=True)
class CacheStats:
    """How a cache's loads went so far: `hits` deserialized, `compiled` compiled."""

    hits: int = 0
    compiled: int = 0


class CompileCache:
    """Compiled components on disk under `directory` (None: compile every time)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.stats = CacheStats()

    def _count(self, outcome: CacheOutcome) -> CacheOutcome:
        hits, compiled = self.stats.hits, self.stats.compiled
        self.stats = CacheStats(hits + outcome.hit, compiled + (not outcome.hit))
        return outcome

    def stat_key(self, path: Path, st: os.stat_result, shared: SandboxEngine) -> str | None:
        """The stat-index key of `path` (whose stat is `st`) for this engine, or None."""
        try:
            real = os.path.realpath(path)
        except OSError:
            return None
        text = (
            f"{real}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}|{st.st_dev}|"
            f"{shared.settings.digest()}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    def lookup(self, path: Path, st: os.stat_result, shared: SandboxEngine) -> CacheOutcome | None:
        """A cached component for `path` (stat `st`) found through the stat index, unread."""
        if self.directory is None:
            return None
        skey = self.stat_key(path, st, shared)
        if skey is None:
            return None
        try:
            key = (self.directory / "index" / skey).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            return None
        found = self._deserialize(key, shared)
        return None if found is None else self._count(CacheOutcome(found, hit=True))

    def compile(
        self, path: Path, st: os.stat_result, wasm: bytes, shared: SandboxEngine
    ) -> CacheOutcome:
        """The component for `wasm` (binary): from the cache if there, else compiled and stored.

        Raises wasmtime's error when the bytes do not compile.
        """
        key = content_key(wasm, shared)
        found = self._deserialize(key, shared) if self.directory is not None else None
        if found is not None:
            self._index(path, st, key, shared)
            return self._count(CacheOutcome(found, hit=True))
        compiled = component.Component(shared.engine, wasm)
        if self.directory is not None:
            with contextlib.suppress(OSError, wasmtime.WasmtimeError):
                _atomic_write(self._artifact(key), bytes(compiled.serialize()))
                self._index(path, st, key, shared)
        return self._count(CacheOutcome(compiled, hit=False))

    def _artifact(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}.cwasm"

    def _deserialize(self, key: str, shared: SandboxEngine) -> component.Component | None:
        artifact = self._artifact(key)
        if not artifact.is_file():
            return None
        try:
            return component.Component.deserialize_file(shared.engine, str(artifact))
        except wasmtime.WasmtimeError:
            # Corrupt, truncated or built by an incompatible engine: drop it and recompile.
            with contextlib.suppress(OSError):
                artifact.unlink()
            return None

    def _index(self, path: Path, st: os.stat_result, key: str, shared: SandboxEngine) -> None:
        skey = self.stat_key(path, st, shared)
        if skey is None or self.directory is None:
            return
        with contextlib.suppress(OSError):
            _atomic_write(self.directory / "index" / skey, key.encode("ascii"))


def content_key(wasm: bytes, shared: SandboxEngine) -> str:
    """sha256 over the component bytes, the wasmtime version and the engine settings."""
    digest = hashlib.sha256()
    digest.update(f"wasmtime={wasmtime_version()};engine={shared.settings.digest()};".encode())
    digest.update(wasm)
    return digest.hexdigest()


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
