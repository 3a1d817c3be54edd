"""Prompts' KV states on disk, so that a new process need not read the same prompt again.

    cache = PromptCache(default_cache_dir(os.environ))
    hit = cache.find(key, tokens)          # the saved prompt sharing the longest prefix, or None
    payload = cache.read(hit)              # its verified state bytes, or None (then a miss)
    cache.store(key, tokens, payload)      # atomically; the oldest entries go past the budget

`key` names what the state is only valid for (the model file, the llama.cpp build, the context
settings: see `cache_key`); an entry with another key is never offered. Each file holds a header
(the key, the prompt's tokens, the payload's size and SHA-256) with its own SHA-256, then the
payload: a file that is cut, flipped or foreign fails one of the checks and counts as a miss (and
is removed). Files are written to a temporary name and renamed, so a reader never sees half of
one; a hit refreshes the file's time, and eviction removes the least recently used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.paths import APP_NAME

MAGIC = b"LLMAKV1\n"
_LENGTH = struct.Struct("<I")
_DIGEST = 32
SUFFIX = ".kv"
DEFAULT_MAX_BYTES = 2 * 1024**3
"""The cache's default size budget: 2 GiB."""
MIN_TOKENS = 64
"""Shorter prompts are quick to evaluate: not worth a file."""
CACHE_DIR_ENV = "LLM_AGENT_PROMPT_CACHE_DIR"


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """`$LLM_AGENT_PROMPT_CACHE_DIR`, else `prompt-cache` in the user's cache dir."""
    override = environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "prompt-cache"


class CacheKey(BaseModel):
    """What a saved KV state is valid for: the same model file (path, size and modification
    time), llama.cpp build and context settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: str
    model_size: int
    model_mtime_ns: int
    runtime: str
    settings: tuple[tuple[str, str], ...] = ()

    @classmethod
    def for_model(cls, path: Path, runtime: str, **settings: object) -> CacheKey:
        """The key for the model file at `path` loaded by `runtime` with `settings`."""
        stat = path.stat()
        return cls(
            model_path=str(path.resolve()),
            model_size=stat.st_size,
            model_mtime_ns=stat.st_mtime_ns,
            runtime=runtime,
            settings=tuple(sorted((k, str(v)) for k, v in settings.items())),
        )

    def digest(self) -> str:
        """The key as a short hex string."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:32]


class CacheEntry(BaseModel):
    """One saved prompt: its key digest, tokens and payload size and digest (the header)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    tokens: tuple[int, ...]
    payload_size: int
    payload_sha256: str
    path: Path | None = None


class PromptCache:
    """A folder of saved KV states, at most `max_bytes` in all (least recently used go first)."""

    def __init__(
        self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, min_tokens: int = MIN_TOKENS
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.min_tokens = min_tokens

    def find(self, key: CacheKey, tokens: Sequence[int]) -> CacheEntry | None:
        """The entry for `key` whose tokens share the longest prefix with `tokens` (at least
        `min_tokens`), or None."""
        wanted = key.digest()
        best: CacheEntry | None = None
        best_common = self.min_tokens - 1
        for path in self._files():
            entry = _read_header(path)
            if entry is None or entry.key != wanted:
                continue
            common = common_prefix(entry.tokens, tokens)
            if common > best_common:
                best, best_common = entry, common
        return best

    def read(self, entry: CacheEntry) -> bytearray | None:
        """The verified payload of `entry`, or None (a changed or damaged file is removed)."""
        if entry.path is None:
            return None
        try:
            with entry.path.open("rb") as handle:
                header = _read_header_from(handle)
                if header is None or header.model_dump(exclude={"path"}) != entry.model_dump(
                    exclude={"path"}
                ):
                    raise _Damaged
                payload = bytearray(handle.read(entry.payload_size + 1))
        except _Damaged:
            _remove(entry.path)
            return None
        except OSError:
            return None
        if len(payload) != entry.payload_size or (
            hashlib.sha256(payload).hexdigest() != entry.payload_sha256
        ):
            _remove(entry.path)
            return None
        with contextlib.suppress(OSError):
            os.utime(entry.path)  # recently used: evicted last
        return payload

    def store(self, key: CacheKey, tokens: Sequence[int], payload: bytes | memoryview) -> None:
        """Save `payload` as the state after `tokens` (atomically), then evict the least recently
        used entries beyond the budget; a payload over the budget, or a failing disk, saves
        nothing (the cache is an optimisation: it never fails a run)."""
        size = len(payload)
        if size > self.max_bytes or len(tokens) < self.min_tokens:
            return
        header = json.dumps(
            {
                "key": key.digest(),
                "tokens": list(tokens),
                "payload_size": size,
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
            }
        ).encode()
        name = hashlib.sha256(header).hexdigest()[:40] + SUFFIX
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(MAGIC + _LENGTH.pack(len(header)) + header)
                    handle.write(hashlib.sha256(header).digest())
                    handle.write(payload)
                os.replace(tmp, self.directory / name)
            except BaseException:
                _remove(Path(tmp))
                raise
        except OSError:
            return
        self.evict()

    def evict(self) -> None:
        """Remove the least recently used entries until the rest fit the budget."""
        sized: list[tuple[float, int, Path]] = []
        for path in self._files():
            with contextlib.suppress(OSError):
                stat = path.stat()
                sized.append((stat.st_mtime, stat.st_size, path))
        sized.sort()
        total = sum(size for _, size, _ in sized)
        for _, size, path in sized:
            if total <= self.max_bytes:
                break
            _remove(path)
            total -= size

    def _files(self) -> list[Path]:
        try:
            return [p for p in self.directory.iterdir() if p.suffix == SUFFIX]
        except OSError:
            return []


class _Damaged(Exception):
    """A cache file that does not read back as written."""


def _read_header(path: Path) -> CacheEntry | None:
    try:
        with path.open("rb") as handle:
            entry = _read_header_from(handle)
    except OSError:
        return None
    if entry is None:
        _remove(path)
        return None
    return entry.model_copy(update={"path": path})


def _read_header_from(handle: object) -> CacheEntry | None:
    """The checked header at the start of an open cache file, or None."""
    read = handle.read  # type: ignore[attr-defined]
    start = read(len(MAGIC) + _LENGTH.size)
    if len(start) != len(MAGIC) + _LENGTH.size or not start.startswith(MAGIC):
        return None
    (length,) = _LENGTH.unpack(start[len(MAGIC) :])
    if length > 64 * 1024**2:
        return None
    header = read(length)
    digest = read(_DIGEST)
    if len(header) != length or digest != hashlib.sha256(header).digest():
        return None
    try:
        return CacheEntry.model_validate(json.loads(header))
    except (ValueError, ValidationError):
        return None


def common_prefix(left: Sequence[int], right: Sequence[int]) -> int:
    """How many leading items `left` and `right` share."""
    n = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        n += 1
    return n


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
