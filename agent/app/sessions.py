"""An app's named sessions: the entry agent's conversation and the agents' memory, kept between
runs under the user's data folder.

    store = SessionStore.for_app(app, user_paths(os.environ).data_dir)
    history = store.load("work")          # () for a new session
    ...
    store.save("work", team.history)      # atomically: a killed run leaves the last good copy
    store.memory_file("work")             # the SQLite file of the agents' key-value memory

Layout: `DATA/apps/<app name>-<digest of the app file's path>/sessions/<session>.json` and
`<session>.memory.sqlite` beside it; two app files with the same name do not share sessions.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.app.plan import App
from agent.errors import ConfigError
from agent.messages import ChatMessage

SESSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_SESSION = "default"


class SavedSession(BaseModel):
    """What a session file holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app: str
    messages: tuple[ChatMessage, ...] = ()


def check_session_name(name: str) -> str:
    """`name` if it can name a session file; raises ConfigError."""
    if not SESSION_PATTERN.match(name) or name.endswith(".memory"):
        raise ConfigError(
            f"invalid session name {name!r}: 1 to 64 letters, digits, '.', '_' or '-'"
        )
    return name


class SessionStore:
    """The sessions of one app file."""

    def __init__(self, app_name: str, folder: Path) -> None:
        self.app_name = app_name
        self.folder = folder

    @classmethod
    def for_app(cls, app: App, data_dir: Path) -> SessionStore:
        """The store of `app` under the user's data folder `data_dir`."""
        digest = hashlib.sha256(str(app.path).encode()).hexdigest()[:12]
        return cls(app.name, data_dir / "apps" / f"{app.name}-{digest}" / "sessions")

    def path(self, session: str) -> Path:
        """The conversation file of `session`."""
        return self.folder / f"{check_session_name(session)}.json"

    def memory_file(self, session: str) -> Path:
        """The key-value memory file of `session` (created when first written)."""
        return self.folder / f"{check_session_name(session)}.memory.sqlite"

    def load(self, session: str) -> tuple[ChatMessage, ...]:
        """The saved conversation of `session` (empty when there is none); raises ConfigError
        for a file that cannot be read back."""
        path = self.path(session)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise ConfigError(f"cannot read session {session}: {exc.strerror or exc}") from exc
        try:
            saved = SavedSession.model_validate_json(text)
        except ValidationError as exc:
            raise ConfigError(f"session file {path} is damaged; remove it to start over") from exc
        return saved.messages

    def save(self, session: str, messages: tuple[ChatMessage, ...]) -> None:
        """Write `session`'s conversation atomically (0600, in a 0700 folder)."""
        path = self.path(session)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = SavedSession(app=self.app_name, messages=messages).model_dump_json()
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".session-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def sessions(self) -> list[str]:
        """The names of the saved sessions, sorted."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def remove(self, session: str) -> bool:
        """Delete a session's conversation and memory; True when there was something."""
        removed = False
        for path in (self.path(session), self.memory_file(session)):
            for extra in ("", "-wal", "-shm"):
                target = path.with_name(path.name + extra)
                if target.exists():
                    target.unlink()
                    removed = True
        return removed


def summary(messages: tuple[ChatMessage, ...]) -> str:
    """A one-line count of a conversation's turns, for `info`."""
    users = sum(1 for m in messages if m.role == "user")
    return f"{users} request{'s' if users != 1 else ''}, {len(messages)} messages"


__all__ = [
    "DEFAULT_SESSION",
    "SavedSession",
    "SessionStore",
    "check_session_name",
    "summary",
]
