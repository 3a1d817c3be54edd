"""The key-value memory the host keeps for a tool: `llm-agent:memory/store@0.1.0`.

A tool that imports the `store` interface gets a small persistent memory when its policy holds a
`MemoryGrant`: a SQLite file and a namespace (an app gives each agent its own), bounded in keys,
key and value size and total bytes. Without a grant the memory is empty and `set` fails with a
one-line reason, so a tool built for memory still loads and runs everywhere else.

The store is a SQLite file in WAL mode, one transaction per change, so concurrent worker
processes and a killed run leave it consistent. Keys and values are text the guest chose: they
are stored as data and never interpreted.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MEMORY_INTERFACE = "llm-agent:memory/store@0.1.0"
KIB = 1024


class MemoryGrant(BaseModel):
    """A tool's memory: where it lives, whose it is, and how much it may hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Field(description="The SQLite file (created on first use).")
    namespace: str = Field(min_length=1, max_length=128, description="Whose memory this is.")
    max_keys: int = Field(default=256, ge=1, le=100_000)
    max_key_bytes: int = Field(default=256, ge=1, le=4 * KIB)
    max_value_bytes: int = Field(default=16 * KIB, ge=1, le=1024 * KIB)
    max_total_bytes: int = Field(default=1024 * KIB, ge=1, le=256 * 1024 * KIB)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS memory (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""


class MemoryStore:
    """One namespace of a memory file, under its grant's bounds."""

    def __init__(self, grant: MemoryGrant) -> None:
        self.grant = grant

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.grant.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.grant.path, timeout=5.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            yield db
        finally:
            db.close()

    def get(self, key: str) -> str | None:
        """The value under `key`, or None."""
        with self._db() as db:
            row = db.execute(
                "SELECT value FROM memory WHERE namespace = ? AND key = ?",
                (self.grant.namespace, key),
            ).fetchone()
        return None if row is None else str(row[0])

    def keys(self) -> list[str]:
        """Every key, sorted."""
        with self._db() as db:
            rows = db.execute(
                "SELECT key FROM memory WHERE namespace = ? ORDER BY key", (self.grant.namespace,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def set(self, key: str, value: str) -> None:
        """Store `value` under `key`; raises ValueError (its message for the guest) when the
        key is empty or a bound would be passed."""
        grant = self.grant
        key_size, value_size = len(key.encode()), len(value.encode())
        if not key:
            raise ValueError("the key is empty")
        if key_size > grant.max_key_bytes:
            raise ValueError(f"the key is {key_size} bytes; the limit is {grant.max_key_bytes}")
        if value_size > grant.max_value_bytes:
            raise ValueError(
                f"the value is {value_size} bytes; the limit is {grant.max_value_bytes}"
            )
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                count, total, old = db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(key AS BLOB)) + "
                    "LENGTH(CAST(value AS BLOB))), 0), "
                    "COALESCE(SUM(CASE WHEN key = ? THEN LENGTH(CAST(key AS BLOB)) + "
                    "LENGTH(CAST(value AS BLOB)) END), 0) FROM memory WHERE namespace = ?",
                    (key, grant.namespace),
                ).fetchone()
                if old == 0 and count >= grant.max_keys:
                    raise ValueError(f"the memory holds its limit of {grant.max_keys} keys")
                if total - old + key_size + value_size > grant.max_total_bytes:
                    raise ValueError(
                        f"the memory would exceed its limit of {grant.max_total_bytes} bytes"
                    )
                db.execute(
                    "INSERT INTO memory (namespace, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
                    (grant.namespace, key, value),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def remove(self, key: str) -> bool:
        """Remove `key`; True when it was there."""
        with self._db() as db:
            cursor = db.execute(
                "DELETE FROM memory WHERE namespace = ? AND key = ?", (self.grant.namespace, key)
            )
        return cursor.rowcount > 0


def _store() -> MemoryStore | None:
    from tool_runner.host import CURRENT_CALL

    context = CURRENT_CALL.get()
    grant = getattr(context.policy, "memory", None) if context is not None else None
    return MemoryStore(grant) if grant is not None else None


_NOT_GRANTED = "memory is not granted to this tool (an app grants it with grants.memory = true)"


def memory_get(_store_: Any, key: str) -> str | None:
    """`store.get`: the value, or none (also when memory is not granted)."""
    store = _store()
    try:
        return store.get(key) if store is not None else None
    except sqlite3.Error:
        return None


def memory_set(_store_: Any, key: str, value: str) -> str | None:
    """`store.set`: none for ok, the reason (a string: `result<_, string>`'s err) otherwise."""
    store = _store()
    if store is None:
        return _NOT_GRANTED
    try:
        store.set(key, value)
    except ValueError as exc:
        return str(exc)
    except sqlite3.Error as exc:
        return f"the memory store failed: {exc}"
    return None


def memory_remove(_store_: Any, key: str) -> bool:
    """`store.remove`: whether the key was there."""
    store = _store()
    try:
        return store.remove(key) if store is not None else False
    except sqlite3.Error:
        return False


def memory_keys(_store_: Any) -> list[str]:
    """`store.keys`: every key, sorted (none when memory is not granted)."""
    store = _store()
    try:
        return store.keys() if store is not None else []
    except sqlite3.Error:
        return []


HOST_FUNCTIONS = (
    ("get", memory_get),
    ("set", memory_set),
    ("remove", memory_remove),
    ("keys", memory_keys),
)
"""The interface's functions as the linker defines them."""


__all__ = ["HOST_FUNCTIONS", "MEMORY_INTERFACE", "MemoryGrant", "MemoryStore"]
