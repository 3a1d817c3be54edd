"""The on-disk compile cache: a component is compiled once per content, engine and wasmtime.

A compiled artifact is native code that `Component.deserialize` runs as is, so nothing is
deserialized unless it is exactly what this cache wrote. The folder (see `cache_dir.py`) is the
user's alone, mode 0700, and every file in it is opened through a descriptor of that folder,
never following a symlink, and must be a regular file:

    <key>.cwasm     a compiled component
    <key>.sha256    its record: "<key> <sha256 of the .cwasm bytes>"
    index/<skey>    the key of the component file whose stat is `skey`

`key` = sha256(the component's own sha256, the wasmtime version, the engine settings), so a
change of any of them can never load a stale artifact. An artifact's bytes are read once,
checked against its record, and only those bytes are deserialized: a tampered, truncated,
swapped (another key's) or symlinked artifact, or a missing record, is a miss, counted in
`CacheStats.rejected`, and the component is compiled again and the entry rewritten. The stat
index (path, size, mtime, ctime, inode) spares a warm load from hashing the component file.
Writes are atomic (temp file + rename); a folder that cannot be created or written is skipped,
never fatal. A writable directory grant that overlaps the folder is refused (`check_grants`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime import component

from tool_runner.cache_dir import open_private_dir, open_private_subdir, overlaps
from tool_runner.engine import SandboxEngine, wasmtime_version
from tool_runner.errors import PolicyError
from tool_runner.policy import Policy

_HEX = frozenset("0123456789abcdef")
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_INDEX = "index"


@dataclass(frozen=True)
class CacheOutcome:
    """How a component was obtained: `hit` (deserialized) or compiled now."""

    component: component.Component
    hit: bool


@dataclass(frozen=True)
class CacheStats:
    """How a cache's loads went: `hits` deserialized, `compiled` compiled, and `rejected`
    artifacts that failed their check (tampered, truncated, swapped, symlinked, unrecorded)."""

    hits: int = 0
    compiled: int = 0
    rejected: int = 0


class CompileCache:
    """Compiled components on disk under `directory` (None: compile every time)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.stats = CacheStats()

    def _count(self, *, hits: int = 0, compiled: int = 0, rejected: int = 0) -> None:
        old = self.stats
        self.stats = CacheStats(old.hits + hits, old.compiled + compiled, old.rejected + rejected)

    def check_grants(self, policy: Policy) -> None:
        """Raise PolicyError if a writable grant of `policy` overlaps the cache folder: the tool
        could plant compiled code that a later load would run."""
        if self.directory is None:
            return
        for grant in policy.dirs:
            if grant.writable and overlaps(grant.host, self.directory):
                raise PolicyError(
                    f"read-write grant {grant.host} overlaps the compile cache {self.directory} "
                    "(a tool could plant compiled code there); grant a narrower directory, make "
                    "it read-only (:ro), or run with --no-cache"
                )

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
        """A cached component for `path` (stat `st`) found through the stat index, unread.

        Raises CacheError when the folder is not private.
        """
        skey = self.stat_key(path, st, shared)
        with self._folder() as fd:
            if fd is None or skey is None:
                return None
            key = _read_index(fd, skey)
            found = None if key is None else self._deserialize(fd, key, shared)
        if found is None:
            return None
        self._count(hits=1)
        return CacheOutcome(found, hit=True)

    def compile(
        self, path: Path, st: os.stat_result, wasm: bytes, shared: SandboxEngine
    ) -> CacheOutcome:
        """The component for `wasm` (binary): from the cache if there, else compiled and stored.

        Raises wasmtime's error when the bytes do not compile, CacheError when the folder is
        not private.
        """
        key = content_key(wasm, shared)
        skey = self.stat_key(path, st, shared)
        with self._folder() as fd:
            found = None if fd is None else self._deserialize(fd, key, shared)
            hit = found is not None
            if found is None:
                found = component.Component(shared.engine, wasm)
            if fd is not None:
                with contextlib.suppress(OSError, wasmtime.WasmtimeError):
                    if not hit:
                        _store(fd, key, bytes(found.serialize()))
                    if skey is not None:
                        _write_index(fd, skey, key)
        self._count(hits=int(hit), compiled=int(not hit))
        return CacheOutcome(found, hit=hit)

    @contextlib.contextmanager
    def _folder(self) -> Iterator[int | None]:
        """A descriptor of the checked cache folder, or None when there is none to use."""
        fd: int | None = None
        if self.directory is not None:
            with contextlib.suppress(OSError):
                fd = open_private_dir(self.directory)
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    def _deserialize(self, fd: int, key: str, shared: SandboxEngine) -> component.Component | None:
        try:
            artifact = _read_regular(fd, f"{key}.cwasm")
            if artifact is None:
                return None
            record = _read_regular(fd, f"{key}.sha256")
        except OSError:  # a symlink, not a regular file, unreadable
            record = artifact = None
        if artifact is None or record != _record(key, artifact):
            self._reject(fd, key)
            return None
        try:
            return component.Component.deserialize(shared.engine, artifact)
        except wasmtime.WasmtimeError:
            # Recorded but built by an incompatible engine: drop it and recompile.
            self._reject(fd, key)
            return None

    def _reject(self, fd: int, key: str) -> None:
        self._count(rejected=1)
        for name in (f"{key}.cwasm", f"{key}.sha256"):
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=fd)


def content_key(wasm: bytes, shared: SandboxEngine) -> str:
    """sha256 over the component's own sha256, the wasmtime version and the engine settings."""
    own = hashlib.sha256(wasm).hexdigest()
    text = f"component={own};wasmtime={wasmtime_version()};engine={shared.settings.digest()}"
    return hashlib.sha256(text.encode()).hexdigest()


def _record(key: str, artifact: bytes) -> bytes:
    return f"{key} {hashlib.sha256(artifact).hexdigest()}\n".encode("ascii")


def _store(fd: int, key: str, artifact: bytes) -> None:
    # The artifact first: a reader that finds the new record also finds the artifact it names.
    _write_atomic(fd, f"{key}.cwasm", artifact)
    _write_atomic(fd, f"{key}.sha256", _record(key, artifact))


def _read_index(fd: int, skey: str) -> str | None:
    try:
        index = open_private_subdir(fd, _INDEX)
    except OSError:
        return None
    try:
        raw = _read_regular(index, skey)
    except OSError:
        raw = None
    finally:
        os.close(index)
    key = raw.decode("ascii", "replace").strip() if raw is not None else ""
    return key if len(key) == 64 and set(key) <= _HEX else None


def _write_index(fd: int, skey: str, key: str) -> None:
    index = open_private_subdir(fd, _INDEX)
    try:
        _write_atomic(index, skey, key.encode("ascii"))
    finally:
        os.close(index)


def _read_regular(dir_fd: int, name: str) -> bytes | None:
    """The bytes of the regular file `name` in `dir_fd`, None if there is none; raises OSError
    for a symlink (never followed), a file that is not regular, or one that cannot be read."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{name} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def _write_atomic(dir_fd: int, name: str, data: bytes) -> None:
    tmp = f".tmp-{secrets.token_hex(8)}-{name}"
    fd = os.open(tmp, _WRITE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    finally:
        os.close(fd)
