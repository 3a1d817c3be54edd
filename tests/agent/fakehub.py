"""A local stand-in for the Hugging Face Hub's file routes, for offline download tests.

It serves HEAD and GET on `/{owner}/{repo}/resolve/{revision}/{file}` with the headers that
huggingface_hub reads (`X-Repo-Commit`, `ETag`, `X-Linked-Etag`, `X-Linked-Size`,
`Content-Length`, `Accept-Ranges`), answers `Range: bytes=N-` with 206, and fails the way the
hub does: 401 `RepoNotFound` for an unknown repository, 404 `EntryNotFound` / `RevisionNotFound`,
401 `GatedRepo` without the right token. A hosted file can also cut the connection part-way,
stall part-way, ignore ranges, advertise a checksum that its bytes do not match, answer 500, or
redirect to a "CDN" on another host name (`localhost` instead of `127.0.0.1`) as the real hub
does for LFS files.

    with FakeHub() as hub:
        hub.add("owner/repo", "model.gguf", data)
        ... HubSettings(endpoint=hub.url) ...
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote

TOKEN = "hf_fake_token_for_tests"
_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HostedFile:
    """A file on the fake hub and how it misbehaves."""

    data: bytes
    sha256: str = ""  # advertised; defaults to the real digest of `data`
    size: int | None = None  # advertised in X-Linked-Size; defaults to len(data)
    gated: bool = False
    cut_at: int | None = None  # a GET is cut once this absolute offset has been sent...
    cuts: int = 0  # ...this many times, then the file is served whole
    honour_range: bool = True
    fail_status: int | None = None  # every GET answers this status
    redirect: bool = False  # like the real hub: 302 to a CDN on another host (`localhost`)
    stall_at: int | None = None  # a GET sends up to this offset, then waits (for a Ctrl-C test)

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Request:
    """One request the fake hub received."""

    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class _State:
    files: dict[tuple[str, str], HostedFile] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)  # ends every stall


class FakeHub:
    """A threaded HTTP server on 127.0.0.1 (random port); use as a context manager."""

    def __init__(self) -> None:
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The endpoint to give huggingface_hub (HF_ENDPOINT)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Request]:
        """A snapshot of the requests received so far."""
        with self._state.lock:
            return list(self._state.requests)

    def add(self, repo: str, filename: str, data: bytes, **behaviour: object) -> HostedFile:
        """Host `data` as `repo/filename`; `behaviour` sets HostedFile's other fields."""
        hosted = HostedFile(data=data, **behaviour)  # type: ignore[arg-type]
        with self._state.lock:
            self._state.files[(repo, filename)] = hosted
        return hosted

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # a stuck client cannot hold a thread for long

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, *, body: bool) -> None:
            with state.lock:
                state.requests.append(
                    Request(
                        self.command,
                        self.path,
                        self.headers.get("Range"),
                        self.headers.get("Authorization"),
                    )
                )
            parts = unquote(self.path.split("?", 1)[0]).lstrip("/").split("/")
            if len(parts) >= 4 and parts[0] == "cdn":
                return self._serve_cdn("/".join(parts[1:3]), "/".join(parts[3:]), body=body)
            if len(parts) < 5 or parts[2] != "resolve":
                return self._error(404, "", "Not found")
            repo, revision, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
            with state.lock:
                in_repo = [f for (r, _), f in state.files.items() if r == repo]
                hosted = state.files.get((repo, filename))
            if not in_repo:
                return self._error(401, "RepoNotFound", "Repository not found")
            if any(f.gated for f in in_repo) and self.headers.get("Authorization") != (
                f"Bearer {TOKEN}"
            ):
                return self._error(401, "GatedRepo", f"Access to model {repo} is restricted.")
            if revision not in ("main", _COMMIT):
                return self._error(404, "RevisionNotFound", "Invalid rev id")
            if hosted is None:
                return self._error(404, "EntryNotFound", "Entry not found")
            if hosted.redirect:
                return self._send_redirect(hosted, repo, filename)
            if body and hosted.fail_status is not None:
                return self._error(hosted.fail_status, "", "Internal error")
            if body:
                self._send_bytes(hosted)
            else:
                self._send_head(hosted)

        def _serve_cdn(self, repo: str, filename: str, *, body: bool) -> None:
            with state.lock:
                hosted = state.files.get((repo, filename))
            if hosted is None:
                return self._error(404, "", "Not found")
            if body:
                self._send_bytes(hosted)
            else:
                self._send_head(hosted)

        def _send_redirect(self, hosted: HostedFile, repo: str, filename: str) -> None:
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/cdn/{repo}/{filename}?sig=x")
            self.send_header("X-Repo-Commit", _COMMIT)
            self.send_header("ETag", '"git-oid-of-the-lfs-pointer"')
            self.send_header("X-Linked-Etag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Size", str(hosted.size or len(hosted.data)))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send_head(self, hosted: HostedFile) -> None:
            self.send_response(200)
            self.send_header("X-Repo-Commit", _COMMIT)
            self.send_header("ETag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Etag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Size", str(hosted.size or len(hosted.data)))
            self.send_header("Content-Length", str(len(hosted.data)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def _send_bytes(self, hosted: HostedFile) -> None:
            total = len(hosted.data)
            start = _range_start(self.headers.get("Range")) if hosted.honour_range else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
            self.send_header("Content-Length", str(total - start))
            self.send_header("X-Repo-Commit", _COMMIT)
            self.send_header("ETag", f'"{hosted.sha256}"')
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            with state.lock:
                cut = hosted.cut_at if hosted.cuts > 0 and (hosted.cut_at or 0) > start else None
                if cut is not None:
                    hosted.cuts -= 1
            if hosted.stall_at is not None and hosted.stall_at > start:
                self.wfile.write(hosted.data[start : hosted.stall_at])
                self.wfile.flush()
                state.release.wait(timeout=30)
                start = hosted.stall_at
            if cut is None:
                with contextlib.suppress(OSError):  # the client may have gone while stalled
                    self.wfile.write(hosted.data[start:])
                return
            self.wfile.write(hosted.data[start:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # the client sees a short body

        def _error(self, status: int, code: str, message: str) -> None:
            payload = json.dumps({"error": message}).encode()
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    return Handler


def _range_start(header: str | None) -> int:
    """N from `bytes=N-`; 0 when absent."""
    if not header or not header.startswith("bytes="):
        return 0
    first = header[len("bytes=") :].split("-", 1)[0]
    return int(first) if first.isdigit() else 0
