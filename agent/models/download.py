"""Downloading one model file: resume, verify, then rename into place.

The transfer itself goes through a `HubClient` (the real one is `agent.models.hub.HfHubClient`,
the only code that speaks to the Hugging Face Hub). This module owns what must hold whatever the
transport: a file appears under its final name only when complete and verified; an interrupted
transfer leaves a partial file that the next run resumes; a checksum mismatch leaves nothing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import (
    ChecksumMismatchError,
    DownloadError,
    DownloadInterruptedError,
    HubUnreachableError,
    NotEnoughSpaceError,
)
from agent.models.registry import ModelRef
from agent.models.store import ModelStore

_VERIFY_BLOCK = 4 << 20
_TRUE = {"1", "true", "yes", "on"}


class HubSettings(BaseModel):
    """How to reach the hub; resolved once at the edge (`from_env`) and passed down."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str | None = None  # None: huggingface_hub's own default (honours HF_ENDPOINT)
    token: str | None = Field(default=None, repr=False)  # None: the token `hf auth login` saved
    offline: bool = False
    timeout_s: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0)  # resumptions after a cut connection, per download
    retry_wait_s: float = Field(default=1.0, ge=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubSettings:
        """Settings from HF_ENDPOINT, HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) and HF_HUB_OFFLINE."""
        env = os.environ if environ is None else environ
        endpoint = env.get("HF_ENDPOINT", "").strip().rstrip("/") or None
        token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
        offline = any(
            env.get(name, "").strip().lower() in _TRUE
            for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
        )
        return cls(endpoint=endpoint, token=token, offline=offline)


class RemoteFile(BaseModel):
    """A file as the hub describes it before any byte is fetched."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    size: int | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    commit: str | None = None

    @property
    def version_tag(self) -> str:
        """Names this version of the file, so a partial file resumes only against the same bytes."""
        return self.sha256 or self.commit or "unversioned"


class DownloadProgress(BaseModel):
    """Reported while downloading (`phase="download"`) and while checking the SHA-256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: str
    phase: Literal["download", "verify"]
    done: int
    total: int | None
    resumed_from: int = 0


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class RemoteStream:
    """The body of a GET: `start` is where its bytes begin (0 when the server ignored Range)."""

    start: int
    chunks: Iterator[bytes]


class HubClient(Protocol):
    """The transport seam: file metadata and ranged GETs."""

    @property
    def endpoint(self) -> str:
        """The hub's base URL, for messages."""
        ...

    def metadata(self, ref: ModelRef) -> RemoteFile:
        """HEAD the file. Raises HubUnreachableError, RemoteNotFoundError, GatedModelError,
        DownloadError."""
        ...

    def stream(
        self, ref: ModelRef, remote: RemoteFile, offset: int
    ) -> AbstractContextManager[RemoteStream]:
        """GET the file from `offset`. Raises DownloadError (`transient` for a cut connection)."""
        ...


def download(
    ref: ModelRef,
    store: ModelStore,
    client: HubClient,
    settings: HubSettings,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Fetch `ref` into `store` and return its path; a file already there is returned at once.

    Raises HubUnreachableError (offline, no network), RemoteNotFoundError, GatedModelError,
    NotEnoughSpaceError, DownloadError (partial kept), DownloadInterruptedError (Ctrl-C, partial
    kept), ChecksumMismatchError (file removed).
    """
    found = store.find(ref)
    if found is not None:
        return found
    store.check_no_conflict(ref)
    if settings.offline:
        raise HubUnreachableError(client.endpoint, "offline mode, HF_HUB_OFFLINE is set")
    remote = client.metadata(ref)
    partial = store.partial_path(ref, remote.version_tag)
    for stale in store.partials(ref):
        if stale != partial:
            stale.unlink(missing_ok=True)
    have = partial.stat().st_size if partial.is_file() else 0
    if remote.size is not None and have > remote.size:
        partial.unlink()
        have = 0
    if remote.size is not None:
        store.check_space(ref.local_name, remote.size - have)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        have = _transfer(ref, store, client, settings, remote, partial, have, on_progress)
        if remote.size is not None and have != remote.size:
            partial.unlink(missing_ok=True)
            reason = f"received {have} bytes, the hub said {remote.size}"
            raise DownloadError(ref.local_name, reason)
        if remote.sha256 is not None:
            _verify(ref, partial, remote.sha256, on_progress)
    except KeyboardInterrupt:
        raise DownloadInterruptedError(ref.local_name, str(partial), _size_of(partial)) from None
    finally:
        if _size_of(partial) == 0:  # nothing worth resuming: leave no trace
            partial.unlink(missing_ok=True)
            _remove_if_empty(partial.parent)
    final = store.path_for(ref)
    os.replace(partial, final)
    _remove_if_empty(partial.parent)
    store.record_source(ref, remote.commit)
    return final


def _transfer(
    ref: ModelRef,
    store: ModelStore,
    client: HubClient,
    settings: HubSettings,
    remote: RemoteFile,
    partial: Path,
    have: int,
    on_progress: ProgressCallback | None,
) -> int:
    """Append the missing bytes to `partial`, resuming after cuts; returns its final size."""
    resumed_from = have
    failures = 0
    while remote.size is None or have < remote.size:
        before = have
        try:
            with client.stream(ref, remote, have) as body, partial.open("ab") as out:
                if body.start != have:  # the server sent the whole file again
                    out.truncate(0)
                    have = resumed_from = 0
                for chunk in body.chunks:
                    out.write(chunk)
                    have += len(chunk)
                    if on_progress is not None:
                        on_progress(
                            DownloadProgress(
                                filename=ref.local_name,
                                phase="download",
                                done=have,
                                total=remote.size,
                                resumed_from=resumed_from,
                            )
                        )
            break
        except DownloadError as exc:
            have = _size_of(partial)  # what reached the disk is what a resume starts from
            failures = 1 if have > before else failures + 1  # in a row, without progress
            if not exc.transient or failures > settings.retries:
                kept = str(partial) if have else None
                raise DownloadError(ref.local_name, exc.reason, kept) from exc
            time.sleep(settings.retry_wait_s)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            needed = (remote.size or have) - _size_of(partial)
            raise NotEnoughSpaceError(
                ref.local_name, needed, store.free_bytes(), str(store.models_dir), str(partial)
            ) from exc
    return have


def _verify(
    ref: ModelRef, partial: Path, expected: str, on_progress: ProgressCallback | None
) -> None:
    """Check the SHA-256 of `partial`; remove it and raise ChecksumMismatchError when it differs."""
    digest = hashlib.sha256()
    total = partial.stat().st_size
    done = 0
    with partial.open("rb") as data:
        while block := data.read(_VERIFY_BLOCK):
            digest.update(block)
            done += len(block)
            if on_progress is not None:
                progress = DownloadProgress(
                    filename=ref.local_name, phase="verify", done=done, total=total
                )
                on_progress(progress)
    actual = digest.hexdigest()
    if actual != expected:
        partial.unlink(missing_ok=True)
        _remove_if_empty(partial.parent)
        raise ChecksumMismatchError(ref.local_name, expected, actual)


def _size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (another partial download) or already gone
        folder.rmdir()
