"""The library of self-built tools: what a person approved, kept for later runs.

    library = Library(user_paths(os.environ).library_dir)
    library.save(draft, runner=runner_path, approved_by="alice (agent chat)")
    stored = library.load("word_count")      # checked against its recorded sha256s

Each tool is a folder `<library>/<name>/` holding `source.py` and `tool.json` (a `LibraryEntry`:
the declared metadata, the source's sha256, the runner component it runs on and that
component's sha256, who approved it and when). The runner components live in
`<library>/runner/`. A tool whose source or runner no longer matches its recorded sha256 is
refused (`LibraryError`), never run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from agent.toolsmith.build import sha256_file
from agent.toolsmith.draft import NAME, ToolDraft
from agent.toolsmith.errors import LibraryError
from tool_runner import ToolMetadata

ENTRY_FILE = "tool.json"
SOURCE_FILE = "source.py"
RUNNER_DIR = "runner"


class LibraryEntry(BaseModel):
    """What the library records of one tool (`tool.json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    parameters: dict[str, JsonValue]
    source_sha256: str
    runner: str
    """The runner component's file name in `<library>/runner/`."""
    runner_sha256: str
    approved_by: str
    approved_at: datetime


class StoredTool(BaseModel):
    """A library tool as loaded: its entry, its source and the metadata the model sees."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: LibraryEntry
    source: str
    metadata: ToolMetadata
    runner_path: Path


class Library:
    """The folder of approved self-built tools (created on the first save)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def runner_dir(self) -> Path:
        """Where the runner components are kept."""
        return self.directory / RUNNER_DIR

    def names(self) -> list[str]:
        """The stored tools' names, sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(
            path.name
            for path in self.directory.iterdir()
            if path.name != RUNNER_DIR and (path / ENTRY_FILE).is_file()
        )

    def _folder(self, name: str) -> Path:
        if not NAME.fullmatch(name) or name == RUNNER_DIR:
            raise LibraryError(name, "not a tool name")
        return self.directory / name

    def save(
        self,
        draft: ToolDraft,
        *,
        runner: Path,
        approved_by: str,
        runner_sha256: str | None = None,
    ) -> StoredTool:
        """Store an approved draft (replacing one of the same name) on `runner` (whose sha256
        is read unless the caller just checked it) and return it as loaded; raises
        LibraryError."""
        folder = self._folder(draft.name)
        entry = LibraryEntry(
            name=draft.name,
            description=draft.description,
            parameters=draft.parameters,
            source_sha256=hashlib.sha256(draft.source.encode()).hexdigest(),
            runner=runner.name,
            runner_sha256=runner_sha256 if runner_sha256 is not None else sha256_file(runner),
            approved_by=approved_by,
            approved_at=datetime.now(timezone.utc),
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.directory, prefix=".save-") as work:
            staged = Path(work) / draft.name
            staged.mkdir()
            (staged / SOURCE_FILE).write_text(draft.source, encoding="utf-8")
            (staged / ENTRY_FILE).write_text(entry.model_dump_json(indent=2) + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            staged.replace(folder)
        return self.load(draft.name, check_runner=False)

    def load(self, name: str, *, check_runner: bool = True) -> StoredTool:
        """The stored tool `name`, its source checked against its sha256 (and, with
        `check_runner`, its runner component's bytes against theirs); raises LibraryError."""
        folder = self._folder(name)
        try:
            entry = LibraryEntry.model_validate_json((folder / ENTRY_FILE).read_bytes())
            source = (folder / SOURCE_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LibraryError(name, f"not in the library ({self.directory})") from None
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            raise LibraryError(name, f"unreadable ({type(exc).__name__})") from None
        if entry.name != name:
            raise LibraryError(name, f"its record names {entry.name!r}")
        if hashlib.sha256(source.encode()).hexdigest() != entry.source_sha256:
            raise LibraryError(name, "its source no longer matches its recorded sha256; refused")
        runner = self.runner_dir / entry.runner
        if Path(entry.runner).name != entry.runner or not runner.is_file():
            raise LibraryError(name, f"its runner component {entry.runner} is missing")
        if check_runner and sha256_file(runner) != entry.runner_sha256:
            raise LibraryError(name, "its component no longer matches its recorded sha256; refused")
        draft = ToolDraft(
            name=entry.name,
            description=entry.description,
            parameters=entry.parameters,
            source=source,
        )
        return StoredTool(entry=entry, source=source, metadata=draft.metadata(), runner_path=runner)

    def load_all(self) -> list[StoredTool]:
        """Every stored tool, checked (each runner component hashed once); raises LibraryError
        for the first one that is refused."""
        digests: dict[Path, str] = {}
        stored = []
        for name in self.names():
            tool = self.load(name, check_runner=False)
            if tool.runner_path not in digests:
                digests[tool.runner_path] = sha256_file(tool.runner_path)
            if digests[tool.runner_path] != tool.entry.runner_sha256:
                raise LibraryError(
                    name, "its component no longer matches its recorded sha256; refused"
                )
            stored.append(tool)
        return stored

    def remove(self, name: str) -> None:
        """Delete the stored tool `name`; raises LibraryError when there is none."""
        folder = self._folder(name)
        if not (folder / ENTRY_FILE).is_file():
            raise LibraryError(name, f"not in the library ({self.directory})")
        shutil.rmtree(folder)


def describe(entry: LibraryEntry) -> str:
    """A short summary of an entry (for `agent tools show`)."""
    params = json.dumps(entry.parameters, indent=2)
    return (
        f"{entry.name}: {entry.description}\nparameters: {params}\n"
        f"approved by {entry.approved_by} at {entry.approved_at.isoformat(timespec='seconds')}\n"
        f"source sha256 {entry.source_sha256}\nrunner {entry.runner} sha256 {entry.runner_sha256}"
    )
