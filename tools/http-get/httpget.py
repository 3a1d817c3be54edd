"""Fetch a web page through the host's brokered `http-get`, for the HttpGet tool.

The component has no sockets: the runner's `llm-agent:tool/host` import does the request and
enforces the policy (allowed hosts, http/https only, size cap, timeout). This module checks
the URL to give early, clear messages, passes the host's refusals on unchanged, and turns the
response into text a model can read (HTML reduced to its visible text unless raw=true).
"""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from urllib.parse import urlsplit

from toolspec import Param, ToolError, ToolSpec, Usage, optional_int, required

DEFAULT_MAX_CHARS = 4_000
MAX_CHARS = 32_000

# A componentize-py component can load only the modules imported while it was built, and
# each codec is a module: look up the charsets the web uses now, so that they are bundled.
COMMON_CHARSETS = (
    "utf-8", "ascii", "latin-1", "iso-8859-2", "iso-8859-15", "windows-1250", "windows-1251",
    "windows-1252", "utf-16", "utf-16-le", "utf-16-be", "koi8-r", "mac-roman",
    "shift_jis", "euc-jp", "iso-2022-jp", "gb2312", "gbk", "gb18030", "big5", "euc-kr",
)  # fmt: skip
for _name in COMMON_CHARSETS:
    with contextlib.suppress(LookupError):
        codecs.lookup(_name)

SPEC = ToolSpec(
    name="HttpGet",
    description=(
        "Fetches an http(s) URL from a host the user allowed: the status and the body as text"
    ),
    version="0.1.0",
    params=(
        Param("url", "The http:// or https:// URL to fetch"),
        Param(
            "max_chars",
            f"At most this many characters of the body (default {DEFAULT_MAX_CHARS})",
            "integer",
            False,
            minimum=1,
            maximum=MAX_CHARS,
        ),
        Param("raw", "HTML markup as is, not its text", "boolean", False),
    ),
    usage=(
        Usage(
            "What does https://example.com say?",
            "USE_TOOL: HttpGet, url=https://example.com",
        ),
        Usage(
            "Get the first 500 characters of http://localhost:8000/status.json",
            "USE_TOOL: HttpGet, url=http://localhost:8000/status.json, max_chars=500",
        ),
    ),
)


@dataclass(frozen=True)
class Response:
    """What the host returned: status, lower-cased headers and the (capped) body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header called `name` (lower case), or None."""
        return next((value for key, value in self.headers if key == name), None)


Fetch = Callable[[str], Response]  # raises ToolError with the host's refusal
Log = Callable[[str], None]

_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = {
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/wasm",
}


def check_url(url: str) -> str:
    """`url` stripped, if it is an absolute http(s) URL; ToolError saying what is wrong."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise ToolError(f"{text!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme!r}" if parts.scheme else "no scheme"
        raise ToolError(f"only http:// and https:// URLs can be fetched, and {text!r} has {shown}")
    if not parts.hostname:
        raise ToolError(f"{text!r} has no host name: write it like https://example.com/page")
    return text


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document."""

    SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in self.SKIP:
            self.skipping += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.SKIP and self.skipping:
            self.skipping -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The title and visible text of `markup`, one paragraph per line."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    body = "\n".join(line for line in lines if line)
    title = " ".join(parser.title.split())
    return f"{title}\n\n{body}" if title else body


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip("\"'")
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return "utf-8"


def body_text(response: Response, raw: bool) -> str:
    """The body as text, or a one-line note for binary content."""
    content_type = (response.header("content-type") or "").strip()
    media = content_type.split(";")[0].strip().lower()
    if media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES:
        return f"[binary body of {len(response.body)} bytes ({media}) not shown]"
    text = response.body.decode(_charset(content_type), errors="replace")
    if not raw and (media in ("text/html", "application/xhtml+xml") or "<html" in text[:512]):
        return html_to_text(text)
    return text


def _flag(args: Mapping[str, str], name: str) -> bool:
    raw = args.get(name, "false").strip().lower()
    if raw not in ("true", "false", ""):
        raise ToolError(f"parameter '{name}' must be true or false, got {raw!r}")
    return raw == "true"


def _status_line(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def run(args: Mapping[str, str], fetch: Fetch, log: Log | None = None) -> str:
    """GET the `url` argument through `fetch`; the status line, content type and body text."""
    url = check_url(required(args, "url"))
    limit = optional_int(args, "max_chars", DEFAULT_MAX_CHARS)
    if limit <= 0:
        raise ToolError("max_chars must be a positive number of characters")
    limit = min(limit, MAX_CHARS)
    raw = _flag(args, "raw")
    if log is not None:
        log(f"GET {url}")
    response = fetch(url)
    if log is not None:
        log(f"{_status_line(response.status)}, {len(response.body)} bytes")
    text = body_text(response, raw)
    if len(text) > limit:
        text = text[:limit] + f"\n[truncated to {limit} of {len(text)} characters]"
    content_type = response.header("content-type") or "unknown"
    return f"{_status_line(response.status)}\ncontent-type: {content_type}\n\n{text}"
