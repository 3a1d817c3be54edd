"""The HttpGet tool: networking only through the host's brokered `http-get`, only to allowed
hosts; checked against a local HTTP server that this module starts and stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpget
import pytest
from tool_loading import LoadTool
from toolspec import ToolError

from tests.tool_runner.drip_server import drip_server
from tool_runner import Policy, ResultKind, Tool

PAGE = (
    b"<!doctype html><html><head><title>Local  page</title><style>p {}</style>"
    b"<script>var hidden = 1;</script></head><body><h1>Welcome</h1>"
    b"<p>Fish &amp; chips</p><p>Second   paragraph</p></body></html>"
)
ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/page.html": (200, "text/html; charset=utf-8", PAGE),
    "/data.json": (200, "application/json", b'{"answer": 42}'),
    "/latin1.txt": (200, "text/plain; charset=iso-8859-1", "café".encode("latin-1")),
    "/logo.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
    "/big.txt": (200, "text/plain", b"z" * 50_000),
}
SERVER_LIFETIME_S = 120.0


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        status, content_type, body = ROUTES.get(self.path, (404, "text/plain", b"no such page"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`127.0.0.1:<port>` of a local server; it shuts itself down after SERVER_LIFETIME_S even
    if the module's teardown never runs."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    watchdog = threading.Timer(SERVER_LIFETIME_S, httpd.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        watchdog.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def allowed(load_tool: LoadTool, server: str) -> Tool:
    return load_tool("http-get", Policy(http_hosts=(server,), http_max_bytes=20_000))


def _call(tool: Tool, **args: str | int | bool) -> tuple[ResultKind, str]:
    result = tool.call(args)
    text = result.output if result.ok else result.error
    assert text is not None
    return result.kind, text


def test_denied_by_default_naming_the_host_and_the_fix(load_tool: LoadTool, server: str) -> None:
    kind, error = _call(load_tool("http-get"), url=f"http://{server}/page.html")
    assert kind is ResultKind.TOOL_ERROR
    assert error == (
        f"host '{server}' is not allowed; "
        f"allow it with --allow-host {server} or http_hosts in the policy"
    )


def test_a_host_not_on_the_list_is_refused(allowed: Tool) -> None:
    kind, error = _call(allowed, url="http://example.com/")
    assert kind is ResultKind.TOOL_ERROR
    assert "host 'example.com:80' is not allowed" in error


def test_fetches_an_allowed_page_as_text(allowed: Tool, server: str) -> None:
    result = allowed.call({"url": f"http://{server}/page.html"})
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output == (
        "HTTP 200 OK\ncontent-type: text/html; charset=utf-8\n\n"
        "Local page\n\nWelcome\nFish & chips\nSecond paragraph"
    )
    assert result.log == (f"GET http://{server}/page.html", f"HTTP 200 OK, {len(PAGE)} bytes")


@pytest.mark.parametrize(
    ("args", "body"),
    [
        ({"path": "/data.json"}, '{"answer": 42}'),
        ({"path": "/latin1.txt"}, "café"),
        ({"path": "/logo.png"}, "[binary body of 108 bytes (image/png) not shown]"),
        ({"path": "/page.html", "raw": True}, PAGE.decode()),
        ({"path": "/data.json", "max_chars": 5}, '{"ans\n[truncated to 5 of 14 characters]'),
    ],
)
def test_bodies_become_readable_text(
    allowed: Tool, server: str, args: dict[str, str | int | bool], body: str
) -> None:
    call = {key: value for key, value in args.items() if key != "path"}
    kind, text = _call(allowed, url=f"http://{server}{args['path']}", **call)
    assert kind is ResultKind.SUCCESS, text
    assert text.split("\n\n", 1)[1] == body


def test_an_error_status_is_reported_with_its_body(allowed: Tool, server: str) -> None:
    kind, text = _call(allowed, url=f"http://{server}/missing")
    assert kind is ResultKind.SUCCESS
    assert text.startswith("HTTP 404 Not Found\n")
    assert text.endswith("\n\nno such page")


def test_the_size_cap_is_enforced_by_the_host(allowed: Tool, server: str) -> None:
    kind, error = _call(allowed, url=f"http://{server}/big.txt")
    assert kind is ResultKind.TOOL_ERROR
    assert "larger than 20000 bytes" in error


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/file", "only http:// and https:// URLs"),
        ("example.com", "has no scheme"),
        ("http://", "has no host name"),
        ("http://127.0.0.1:99999/", "not a valid URL"),
    ],
)
def test_bad_urls_are_refused_before_any_request(allowed: Tool, url: str, message: str) -> None:
    result = allowed.call({"url": url})
    assert result.kind is ResultKind.TOOL_ERROR
    assert message in (result.error or "")
    assert result.log == ()  # refused in the guest: the host was never asked


def test_fetch_failures_surface_as_tool_errors() -> None:
    def refuse(url: str) -> httpget.Response:
        raise ToolError(f"GET {url} failed: connection refused")

    with pytest.raises(ToolError, match="connection refused"):
        httpget.run({"url": "http://localhost:1/"}, refuse)


def test_a_server_that_drips_its_headers_cannot_hold_the_tool(load_tool: LoadTool) -> None:
    start = b"HTTP/1.1 200 OK\r\n"
    with drip_server(start, b"X-Slow: " + b"z" * 60 + b"\r\n\r\n", interval_s=1.0) as host:
        tool = load_tool("http-get", Policy(http_hosts=(host,), http_timeout_s=2))
        started = time.monotonic()
        result = tool.call({"url": f"http://{host}/slow"})
        elapsed = time.monotonic() - started
    assert elapsed < 2 + 1
    assert result.kind is ResultKind.TOOL_ERROR and result.error is not None
    assert "\n" not in result.error and "timed out after 2 s" in result.error
