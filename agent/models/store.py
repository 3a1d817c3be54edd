"""The models directory: where downloaded files live, offline lookup, removal, disk space.

A complete model is a plain file `MODELS_DIR/FILE.gguf`. A download in progress lives in
`MODELS_DIR/.partial/FILE.gguf.TAG.incomplete` (TAG names the hub's version of the file, so that a
partial file is only ever resumed against the same bytes) and is renamed only once verified.
Nothing here touches the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.errors import ModelNotDownloadedError, NotEnoughSpaceError, UnknownModelError
from agent.models.registry import REGISTRY, ModelEntry, ModelRef, parse_ref, registry_names

MODELS_DIR_ENV = "LLM_AGENT_MODELS_DIR"
DEFAULT_MODELS_DIR = Path("models")
PARTIAL_DIR = ".partial"
PARTIAL_SUFFIX = ".incomplete"


def default_models_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$LLM_AGENT_MODELS_DIR` when set, else `models/` (relative to the working directory)."""
    env = os.environ if environ is None else environ
    value = env.get(MODELS_DIR_ENV, "").strip()
    return Path(value) if value else DEFAULT_MODELS_DIR


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
        self.models_dir = models_dir if models_dir is not None else default_models_dir()

    def path_for(self, ref: ModelRef) -> Path:
        """Where the complete file for `ref` lives (whether or not it exists)."""
        return self.models_dir / ref.local_name

    def find(self, ref: ModelRef) -> Path | None:
        """The complete file for `ref`, or None when it is not downloaded."""
        path = self.path_for(ref)
        return path if path.is_file() else None

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
        known = {status.filename for status in result}
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                if path.name not in known and path.is_file():
                    size = path.stat().st_size
                    ref = ModelRef(name=path.name, repo="local/file", filename=path.name)
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
            ref = ModelRef(name=name, repo="local/file", filename=name)
            if Path(name).name == name and (self.find(ref) or self.partials(ref)):
                return ref
            raise

    def remove(self, ref: ModelRef) -> list[Path]:
        """Delete the file of `ref` and its partial downloads; returns what was deleted.

        Raises ModelNotDownloadedError when there was nothing to delete.
        """
        targets = [p for p in (self.find(ref), *self.partials(ref)) if p is not None]
        if not targets:
            raise ModelNotDownloadedError(ref.name, str(self.models_dir))
        for path in targets:
            path.unlink(missing_ok=True)
        return targets

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
        raise ModelNotDownloadedError(ref.name, str(store.models_dir))
    return found
