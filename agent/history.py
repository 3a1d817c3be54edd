"""The history of runs and chats: one SQLite database, one row per exchange.

    with HistoryStore.open(user_paths(os.environ).logs_db) as store:
        recorder = HistoryRecorder(store, model=session.model)     # a new conversation
        recorder.begin("What is 2**100?")
        for event in session.ask("What is 2**100?"):
            recorder.add(event)             # the exchange is written when the run ends
        store.conversations(limit=10)       # newest first
        store.conversation(recorder.conversation_id).messages   # to resume it

An exchange is one request and what came of it: the prompt, the run's `Transcript` (answer or
stop reason, every step's timings, the tool calls with their arguments and results, the whole
conversation after it) and when it started. A recorder writes it in one transaction when the
run's last event (`Answer` or `RunStopped`) arrives, so a run killed mid-way leaves no half of
an exchange; a turn cancelled with Ctrl-C is not written at all. The database is in WAL mode and
waits for another writer's lock, so concurrent runs can log to it. Everything raises
`HistoryError` (one line).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import HistoryError
from agent.events import Answer, Event, RunStopped
from agent.messages import ChatMessage
from agent.transcript import Transcript, TranscriptRecorder
from tool_runner import Closing

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    model TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exchanges (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    started REAL NOT NULL,
    duration_s REAL NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT,
    stop_reason TEXT,
    model TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS exchanges_started ON exchanges(started);
"""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Exchange(_Frozen):
    """One request in a conversation and its run. `seq` counts from 1 within the conversation;
    `started` is UTC; `transcript` holds the answer or stop reason, the steps' timings, the tool
    calls with arguments and results and the whole conversation after this exchange."""

    conversation_id: str
    seq: int
    started: datetime
    duration_s: float
    prompt: str
    transcript: Transcript

    @property
    def answer(self) -> str | None:
        """The run's answer (None when it stopped without one)."""
        return self.transcript.answer


class ConversationSummary(_Frozen):
    """One line of `agent logs list`: a conversation's first prompt and latest exchange."""

    id: str
    started: datetime
    updated: datetime
    model: str
    exchanges: int
    first_prompt: str
    last_answer: str | None


class Conversation(_Frozen):
    """A whole conversation, its exchanges in order."""

    id: str
    started: datetime
    model: str
    exchanges: tuple[Exchange, ...]

    @property
    def messages(self) -> tuple[ChatMessage, ...]:
        """The conversation to resume from: the latest exchange's messages without the system
        prompt (the session writes its own, for the tools it has now)."""
        if not self.exchanges:
            return ()
        messages = self.exchanges[-1].transcript.messages
        return tuple(m for m in messages if m.role != "system")


def new_conversation_id() -> str:
    """A fresh conversation id: 12 random hex digits (any unique prefix of one names it)."""
    return uuid.uuid4().hex[:12]


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class HistoryStore(Closing):
    """The history database (created with its folder on first use). Close it, or use it as a
    context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> HistoryStore:
        """Open (or create) the database at `path`; raises HistoryError."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open the history database {path}: {exc}") from exc
        store = cls(db, path)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with store._transaction():
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise HistoryError(
                        f"the history database {path} was written by a newer version "
                        f"(schema {version}; this one reads {SCHEMA_VERSION})"
                    )
                if version < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            db.close()
            raise HistoryError(f"cannot use the history database {path}: {exc}") from exc
        except HistoryError:
            db.close()
            raise
        return store

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taking the lock up front (another writer is waited for)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(
        self,
        conversation_id: str,
        prompt: str,
        transcript: Transcript,
        *,
        started: float,
        duration_s: float,
    ) -> Exchange:
        """Write one exchange as the conversation's next (and the conversation's row, when
        new) in one transaction; returns what was written."""
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT OR IGNORE INTO conversations (id, started, model) VALUES (?, ?, ?)",
                    (conversation_id, started, transcript.model),
                )
                (last,) = self._db.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM exchanges WHERE conversation_id = ?",
                    (conversation_id,),
                ).fetchone()
                exchange = Exchange(
                    conversation_id=conversation_id,
                    seq=int(last) + 1,
                    started=_utc(started),
                    duration_s=duration_s,
                    prompt=prompt,
                    transcript=transcript,
                )
                self._db.execute(
                    "INSERT INTO exchanges (conversation_id, seq, started, duration_s, prompt, "
                    "answer, stop_reason, model, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        conversation_id,
                        exchange.seq,
                        started,
                        duration_s,
                        prompt,
                        transcript.answer,
                        transcript.stop_reason,
                        transcript.model,
                        exchange.model_dump_json(),
                    ),
                )
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot write to the history database {self.path}: {exc}") from exc
        return exchange

    def conversations(self, limit: int = 20) -> list[ConversationSummary]:
        """The `limit` most recently active conversations, newest first."""
        rows = self._query(
            "SELECT c.id, c.started, c.model, MAX(e.started), COUNT(*), "
            "(SELECT prompt FROM exchanges WHERE conversation_id = c.id ORDER BY seq LIMIT 1), "
            "(SELECT answer FROM exchanges WHERE conversation_id = c.id "
            " ORDER BY seq DESC LIMIT 1) "
            "FROM conversations c JOIN exchanges e ON e.conversation_id = c.id "
            "GROUP BY c.id ORDER BY MAX(e.started) DESC, MAX(e.rowid) DESC LIMIT ?",
            (max(limit, 0),),
        )
        return [
            ConversationSummary(
                id=row[0],
                started=_utc(row[1]),
                model=row[2],
                updated=_utc(row[3]),
                exchanges=row[4],
                first_prompt=row[5],
                last_answer=row[6],
            )
            for row in rows
        ]

    def latest_id(self) -> str | None:
        """The most recently active conversation's id (None when there is none)."""
        found = self.conversations(limit=1)
        return found[0].id if found else None

    def resolve_id(self, given: str) -> str:
        """The conversation id that `given` is or begins (as git takes a short hash); raises
        HistoryError when none or several match."""
        if not given or not all(ch in "0123456789abcdef" for ch in given):
            raise HistoryError(f"no conversation {given!r}: ids are hex digits (agent logs list)")
        rows = self._query(
            "SELECT id FROM conversations WHERE substr(id, 1, ?) = ? LIMIT 2", (len(given), given)
        )
        if not rows:
            raise HistoryError(f"no conversation {given!r} in {self.path} (see agent logs list)")
        if len(rows) > 1:
            raise HistoryError(f"{given!r} begins more than one conversation id: give more of it")
        return str(rows[0][0])

    def conversation(self, given: str) -> Conversation:
        """The conversation whose id is or begins with `given`; raises HistoryError."""
        cid = self.resolve_id(given)
        head = self._query("SELECT started, model FROM conversations WHERE id = ?", (cid,))
        rows = self._query(
            "SELECT record FROM exchanges WHERE conversation_id = ? ORDER BY seq", (cid,)
        )
        try:
            exchanges = tuple(Exchange.model_validate_json(row[0]) for row in rows)
        except ValidationError as exc:
            raise HistoryError(f"conversation {cid} in {self.path} is unreadable: {exc}") from exc
        return Conversation(id=cid, started=_utc(head[0][0]), model=head[0][1], exchanges=exchanges)

    def _query(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read the history database {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        self._db.close()


class HistoryRecorder:
    """Writes a session's exchanges to a store as their events arrive: `begin(prompt)` before
    each request, `add(event)` for each event; the exchange is written when the run ends. A
    recorder is one conversation (`conversation_id`: a new one unless given); `restart()`
    starts another (after a chat's /reset)."""

    def __init__(
        self,
        store: HistoryStore,
        *,
        model: str,
        load_s: float | None = None,
        conversation_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.model = model
        self.load_s = load_s
        self.conversation_id = conversation_id or new_conversation_id()
        self._clock = clock
        self._prompt: str | None = None
        self._started = 0.0
        self._transcript = TranscriptRecorder(model=model)

    def restart(self) -> None:
        """Go on in a new conversation."""
        self.conversation_id = new_conversation_id()
        self._prompt = None

    def begin(self, prompt: str) -> None:
        """A new request starts (an unfinished one before it is dropped)."""
        self._prompt = prompt
        self._started = self._clock()
        self._transcript = TranscriptRecorder(model=self.model, load_s=self.load_s)
        self.load_s = None  # the model loaded once, before the first exchange

    def add(self, event: Event) -> Exchange | None:
        """Record one event; on the run's last one, write the exchange and return it."""
        if self._prompt is None:
            return None
        self._transcript.add(event)
        if not isinstance(event, (Answer, RunStopped)):
            return None
        prompt, self._prompt = self._prompt, None
        return self.store.add(
            self.conversation_id,
            prompt,
            self._transcript.transcript(),
            started=self._started,
            duration_s=max(self._clock() - self._started, 0.0),
        )


__all__ = [
    "Conversation",
    "ConversationSummary",
    "Exchange",
    "HistoryRecorder",
    "HistoryStore",
    "new_conversation_id",
]
