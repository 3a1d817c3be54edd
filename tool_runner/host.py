"""The host side of `llm-agent:tool/host@0.1.0`: services brokered for a tool under its policy.

`log(message)` appends a line to the current call's log; `http-get(url)` fetches an http(s)
URL when its host is on the policy's allow-list, with a size cap and a timeout (a guest blocked
here is not interrupted by epochs, so the timeout is what bounds it). The call in progress is
found through a context variable that the sandbox sets around each call.
"""

from __future__ import annotations

import contextvars
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tool_runner.policy import Policy

HOST_INTERFACE = "llm-agent:tool/host@0.1.0"
MAX_LOG_LINE = 4096


@dataclass
class CallContext:
    """Per-call state shared with host functions: the policy, the log and its byte budget."""

    policy: Policy
    log_budget: int
    log: list[str] = field(default_factory=list)

    def add_log(self, message: str) -> None:
        """Record one log line, bounded per line and in total."""
        line = message[:MAX_LOG_LINE]
        if self.log_budget <= 0:
            return
        self.log_budget -= len(line.encode("utf-8", "replace"))
        self.log.append(line)


CURRENT_CALL: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar(
    "tool_runner_current_call", default=None
)


def host_log(_store: Any, message: str) -> None:
    """`host.log`: append `message` to the current call's log."""
    context = CURRENT_CALL.get()
    if context is not None:
        context.add_log(message)


def host_http_get(_store: Any, url: str) -> Any:
    """`host.http-get`: a wasmtime Record for the response, or an error string."""
    from wasmtime.component import Record

    context = CURRENT_CALL.get()
    if context is None:
        return "http-get is not available outside a tool call"
    try:
        status, headers, body = http_get(context.policy, url)
    except HttpDenied as exc:
        return str(exc)
    response = Record()
    for name, value in (("status", status), ("headers", headers), ("body", body)):
        setattr(response, name, value)
    return response


class HttpDenied(Exception):
    """An http-get the policy refuses or that fails; the message goes back to the guest."""


def check_url(policy: Policy, url: str) -> urllib.parse.SplitResult:
    """Return the parsed URL if the policy allows fetching it; raises HttpDenied."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise HttpDenied(f"scheme {parts.scheme or '(none)'!r} is not allowed: use http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise HttpDenied(f"URL {url!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise HttpDenied(f"URL {url!r} has an invalid port") from None
    allowed = set(policy.http_hosts)
    if host not in allowed and (port is None or f"{host}:{port}" not in allowed):
        raise HttpDenied(
            f"host '{host}' is not allowed; allow it with --allow-host {host} "
            "or http_hosts in the policy"
        )
    return parts


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the policy allows."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        check_url(self.policy, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def http_get(policy: Policy, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """GET `url` under `policy`: (status, lower-cased headers, body); raises HttpDenied."""
    check_url(policy, url)
    deadline = time.monotonic() + policy.http_timeout_s
    opener = urllib.request.build_opener(_CheckedRedirects(policy))
    request = urllib.request.Request(url, headers={"User-Agent": "llm-agent-tool-runner"})
    try:
        try:
            response = opener.open(request, timeout=policy.http_timeout_s)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            body = _read_bounded(response, policy.http_max_bytes + 1, deadline, url)
            status = int(response.status if hasattr(response, "status") else response.code)
            headers = [(k.lower(), v) for k, v in response.headers.items()]
    except HttpDenied:
        raise
    except (OSError, ValueError) as exc:
        raise HttpDenied(f"GET {url} failed: {getattr(exc, 'reason', exc)}") from exc
    if len(body) > policy.http_max_bytes:
        raise HttpDenied(f"GET {url}: response larger than {policy.http_max_bytes} bytes")
    return status, headers, body


def _read_bounded(response: Any, limit: int, deadline: float, url: str) -> bytes:
    """Read at most `limit` bytes, giving up once the whole request passes its deadline.

    The socket timeout only bounds each read; a server that drips a byte at a time would
    otherwise hold the guest (which epochs cannot interrupt here) for as long as it likes.
    """
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() > deadline:
            raise HttpDenied(f"GET {url} timed out")
        read = getattr(response, "read1", response.read)
        chunk = read(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
