"""The models directory: where downloaded files live, offline lookup, removal, disk space.

A complete model is a plain file `MODELS_DIR/FILE.gguf`. A download in progress lives in
`MODELS_DIR/.partial/FILE.gguf.TAG.incomplete` (TAG names the hub's version of the file, so that a
partial file is only ever resumed against the same bytes) and is renamed only once verified.
A downloaded file's repository is recorded in `MODELS_DIR/.sources/FILE.gguf.json`, so that the
same file name from another repository is never taken for it (a file put there by hand has no
record and answers to any name). Nothing here touches the network.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.errors import (
    ModelConflictError,
    ModelNotDownloadedError,
    NotEnoughSpaceError,
    UnknownModelError,
)
from agent.models.registry import REGISTRY, ModelEntry, ModelRef, parse_ref, registry_names
from agent.paths import checkout_folder, user_paths

MODELS_DIR_ENV = "LLM_AGENT_MODELS_DIR"
DEFAULT_MODELS_DIR = Path("models")
PARTIAL_DIR = ".partial"
PARTIAL_SUFFIX = ".incomplete"
SOURCES_DIR = ".sources"
LOCAL_REPO = "local/file"  # the repo of a ref made from a bare file name in the directory


def default_models_dir(environ: Mapping[str, str], cwd: Path | None = None) -> Path:
    """`$LLM_AGENT_MODELS_DIR` in `environ` when set, else the checkout's `models/` when run
    from it (`agent.paths.checkout_folder`), else the user's models folder. Called at the edge
    (the CLI); the library itself reads no environment."""
    value = environ.get(MODELS_DIR_ENV, "").strip()
    if value:
        return Path(value)
    local = checkout_folder("models", cwd if cwd is not None else Path.cwd())
    return local if local is not None else user_paths(environ).models_dir


class ModelStatus(BaseModel):
    """One line of `agent models list`: a registry entry or a GGUF file found in the directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    filename: str
    size_bytes: int
    state: Literal["downloaded", "partial", "missing"]
    path: Path | None = None
    partial_bytes: int = 0
    entry: ModelEntry | None = None


class ModelStore:
    """The models directory. Cheap to build; the directory is created only when writing."""

    def __init__(self, models_dir: Path | None = None) -> None:
        self.models_dir = models_dir if models_dir is not None else DEFAULT_MODELS_DIR

    def path_for(self, ref: ModelRef) -> Path:
        """Where the complete file for `ref` lives (whether or not it exists)."""
        return self.models_dir / ref.local_name

    def find(self, ref: ModelRef) -> Path | None:
        """The complete file for `ref`, or None when it is not downloaded (or the file of that
        name came from another repository: see `conflict`)."""
        path = self.path_for(ref)
        return path if path.is_file() and self._other_source(ref) is None else None

    def _source_path(self, local_name: str) -> Path:
        return self.models_dir / SOURCES_DIR / f"{local_name}.json"

    def source_of(self, local_name: str) -> str | None:
        """The repository the file `local_name` was downloaded from, when that was recorded."""
        try:
            record = json.loads(self._source_path(local_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        repo = record.get("repo") if isinstance(record, dict) else None
        return repo if isinstance(repo, str) else None

    def conflict(self, ref: ModelRef) -> str | None:
        """The other repository whose file of the same name is in the directory, if any."""
        return self._other_source(ref) if self.path_for(ref).is_file() else None

    def _other_source(self, ref: ModelRef) -> str | None:
        """The recorded repository of `ref`'s file name when it is not `ref`'s own."""
        if ref.repo == LOCAL_REPO:
            return None
        source = self.source_of(ref.local_name)
        return source if source is not None and source.lower() != ref.repo.lower() else None

    def record_source(self, ref: ModelRef, commit: str | None) -> None:
        """Note where the complete file of `ref` came from (best effort: a lookup aid)."""
        record = {"repo": ref.repo, "filename": ref.filename, "revision": ref.revision}
        if commit:
            record["commit"] = commit
        path = self._source_path(ref.local_name)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    def partial_path(self, ref: ModelRef, tag: str) -> Path:
        """The partial file of `ref` for the hub version named `tag`."""
        safe_tag = "".join(c for c in tag if c.isalnum())[:16] or "unversioned"
        return self.models_dir / PARTIAL_DIR / f"{ref.local_name}.{safe_tag}{PARTIAL_SUFFIX}"

    def partials(self, ref: ModelRef) -> list[Path]:
        """Every partial file of `ref`, whatever hub version it was started from."""
        folder = self.models_dir / PARTIAL_DIR
        if not folder.is_dir():
            return []
        prefix = f"{ref.local_name}."
        return sorted(
            path
            for path in folder.iterdir()
            if path.name.startswith(prefix) and path.name.endswith(PARTIAL_SUFFIX)
        )

    def statuses(self) -> list[ModelStatus]:
        """Every registry entry, then any other GGUF file in the directory."""
        result = [self._status(entry.ref(), entry.size_bytes, entry) for entry in REGISTRY]
        known = {status.filename for status in result if status.state == "downloaded"}
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                if path.name not in known and path.is_file():
                    size = path.stat().st_size
                    ref = ModelRef(name=path.name, repo=LOCAL_REPO, filename=path.name)
                    result.append(self._status(ref, size, None))
        return result

    def _status(self, ref: ModelRef, size: int, entry: ModelEntry | None) -> ModelStatus:
        path = self.find(ref)
        if path is not None:
            return ModelStatus(
                name=ref.name,
                filename=ref.local_name,
                size_bytes=path.stat().st_size,
                state="downloaded",
                path=path,
                entry=entry,
            )
        partial = max((p.stat().st_size for p in self.partials(ref)), default=None)
        return ModelStatus(
            name=ref.name,
            filename=ref.local_name,
            size_bytes=size,
            state="missing" if partial is None else "partial",
            partial_bytes=partial or 0,
            entry=entry,
        )

    def ref_for(self, name: str) -> ModelRef:
        """`parse_ref(name)`, or a bare `FILE.gguf` that is in the directory (or partly).

        Raises UnknownModelError.
        """
        try:
            return parse_ref(name)
        except UnknownModelError:
            ref = ModelRef(name=name, repo=LOCAL_REPO, filename=name)
            if Path(name).name == name and (self.find(ref) or self.partials(ref)):
                return ref
            raise

    def remove(self, ref: ModelRef) -> list[Path]:
        """Delete the file of `ref` and its partial downloads; returns what was deleted.

        Raises ModelNotDownloadedError when there was nothing to delete.
        """
        targets = [p for p in (self.find(ref), *self.partials(ref)) if p is not None]
        if not targets:
            raise ModelNotDownloadedError(ref.name, str(self.models_dir), removing=True)
        for path in targets:
            path.unlink(missing_ok=True)
        if not self.path_for(ref).exists():
            self._source_path(ref.local_name).unlink(missing_ok=True)
        return targets

    def check_no_conflict(self, ref: ModelRef) -> None:
        """Raise ModelConflictError when the file name of `ref` is taken by another repo's file."""
        other = self.conflict(ref)
        if other is not None:
            raise ModelConflictError(ref.local_name, ref.repo, other, str(self.models_dir))

    def free_bytes(self) -> int:
        """Free space on the disk that holds (or will hold) the models directory."""
        probe = self.models_dir.absolute()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        return shutil.disk_usage(probe).free

    def check_space(self, filename: str, needed: int) -> None:
        """Raise NotEnoughSpaceError unless `needed` more bytes fit in the models directory."""
        free = self.free_bytes()
        if needed > free:
            raise NotEnoughSpaceError(filename, needed, free, str(self.models_dir))


def resolve_model(name_or_path: str, *, models_dir: Path | None = None) -> Path:
    """The GGUF file to load for `name_or_path`. Never touches the network.

    Accepts a path to an existing file, a file name inside the models directory, a registry name
    or `OWNER/REPO/FILE.gguf` already downloaded. Raises ModelNotDownloadedError for a known model
    that is not downloaded, UnknownModelError for anything else.
    """
    store = ModelStore(models_dir)
    given = Path(name_or_path).expanduser()
    if given.is_file():
        return given
    if given.name == name_or_path and (store.models_dir / given.name).is_file():
        return store.models_dir / given.name
    try:
        ref = parse_ref(name_or_path)
    except UnknownModelError:
        if name_or_path.endswith(".gguf"):
            raise ModelNotDownloadedError(
                name_or_path, str(store.models_dir), is_path=True
            ) from None
        raise UnknownModelError(name_or_path, registry_names()) from None
    found = store.find(ref)
    if found is None:
        store.check_no_conflict(ref)
        raise ModelNotDownloadedError(ref.name, str(store.models_dir))
    return found
