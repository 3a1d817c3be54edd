"""The Hugging Face Hub client: the only module that imports `huggingface_hub`.

Metadata comes from `get_hf_file_metadata` (a HEAD on `/{repo}/resolve/{revision}/{file}`: size
from `X-Linked-Size`, the LFS SHA-256 from `X-Linked-Etag`); bytes come from a ranged GET on the
same URL through huggingface_hub's shared session, so that its headers, token handling, offline
mode and redirects apply. Every failure leaves here as an `agent.errors.ModelStoreError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as transport  # huggingface_hub's HTTP transport (its fork of httpx)
from huggingface_hub import (
    constants,
    get_hf_file_metadata,
    get_session,
    hf_hub_url,
    hf_raise_for_status,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]  # lazy export

from agent.errors import (
    DownloadError,
    GatedModelError,
    HubUnreachableError,
    ModelStoreError,
    RemoteNotFoundError,
)
from agent.models.download import HubSettings, RemoteFile, RemoteStream
from agent.models.registry import ModelRef

_CHUNK = 256 << 10  # what a cut connection can lose of what was already received
_SHA256 = re.compile(r"[0-9a-f]{64}")


class HfHubClient:
    """A `HubClient` over huggingface_hub; holds no connection of its own (the hub's session)."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._endpoint = settings.endpoint or constants.ENDPOINT

    @property
    def endpoint(self) -> str:
        """The hub's base URL."""
        return self._endpoint

    def metadata(self, ref: ModelRef) -> RemoteFile:
        """HEAD the file: size, SHA-256 (for an LFS file), the commit it resolves to."""
        url = hf_hub_url(ref.repo, ref.filename, revision=ref.revision, endpoint=self._endpoint)
        try:
            meta = get_hf_file_metadata(
                url,
                token=self._settings.token,
                timeout=self._settings.timeout_s,
                endpoint=self._endpoint,
            )
        except transport.TransportError as exc:
            raise HubUnreachableError(self._endpoint, _reason(exc)) from exc
        except (OfflineModeIsEnabled, HfHubHTTPError) as exc:
            raise self._translate(exc, ref) from exc
        etag = meta.etag or ""
        return RemoteFile(
            url=url,
            size=meta.size,
            sha256=etag if _SHA256.fullmatch(etag) else None,
            commit=meta.commit_hash,
        )

    @contextmanager
    def stream(self, ref: ModelRef, remote: RemoteFile, offset: int) -> Iterator[RemoteStream]:
        """GET the file from byte `offset`; a cut connection raises a transient DownloadError."""
        headers: dict[str, str] = build_hf_headers(token=self._settings.token)
        headers["Accept-Encoding"] = "identity"  # byte offsets must be offsets into the file
        if offset:
            headers["Range"] = f"bytes={offset}-"
        timeout = transport.Timeout(self._settings.timeout_s)
        try:
            with get_session().stream("GET", remote.url, headers=headers, timeout=timeout) as resp:
                hf_raise_for_status(resp)
                start = offset if resp.status_code == 206 else 0
                yield RemoteStream(start=start, chunks=resp.iter_bytes(chunk_size=_CHUNK))
        except transport.TransportError as exc:
            raise DownloadError(ref.local_name, _reason(exc), transient=True) from exc
        except (OfflineModeIsEnabled, HfHubHTTPError) as exc:
            raise self._translate(exc, ref) from exc

    def _translate(self, exc: Exception, ref: ModelRef) -> ModelStoreError:
        """The hub's exception as ours; the most specific hub classes come first."""
        if isinstance(exc, OfflineModeIsEnabled):
            return HubUnreachableError(self._endpoint, "offline mode, HF_HUB_OFFLINE is set")
        if isinstance(exc, GatedRepoError):
            return GatedModelError(ref.repo)
        if isinstance(exc, RepositoryNotFoundError):
            return RemoteNotFoundError(
                f"repository {ref.repo}",
                "check the name (a private repository needs `hf auth login` or HF_TOKEN)",
            )
        if isinstance(exc, RevisionNotFoundError):
            return RemoteNotFoundError(f"revision {ref.revision} of {ref.repo}", "check it")
        if isinstance(exc, RemoteEntryNotFoundError):
            return RemoteNotFoundError(
                f"file {ref.filename} in {ref.repo}", "check the file name on the repository page"
            )
        status = exc.response.status_code if isinstance(exc, HfHubHTTPError) else None
        return DownloadError(
            ref.local_name,
            f"HTTP {status} from {self._endpoint}",
            transient=status is not None and (status >= 500 or status == 429),
        )


def _reason(exc: Exception) -> str:
    """A one-line reason for a transport failure."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
