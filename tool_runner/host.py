"""The host side of `llm-agent:tool/host@0.1.0`: services brokered for a tool under its policy.

`log(message)` appends a line to the current call's log; `http-get(url)` fetches an http(s)
URL when its host is on the policy's allow-list, with a size cap and one deadline over the whole
exchange (a guest blocked here is not interrupted by epochs, so the deadline is what bounds it).
The call in progress is found through a context variable that the sandbox sets around each call.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import ipaddress
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from tool_runner.grants import normalise_host
from tool_runner.policy import Policy

HOST_INTERFACE = "llm-agent:tool/host@0.1.0"
HOST_INTERFACES = (HOST_INTERFACE, "llm-agent:tool/host@0.2.0")  # the same services in both
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
DENIED_HOSTS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "tool_runner_denied_hosts", default=None
)
"""Where `http-get` records each `HOST:PORT` the policy refused during a call, when the caller
watches (`tool_runner.capabilities.watch_denials`)."""


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
        denied = DENIED_HOSTS.get()
        if isinstance(exc, HostNotAllowed) and denied is not None:
            denied.append(exc.host)
        return str(exc)
    response = Record()
    for name, value in (("status", status), ("headers", headers), ("body", body)):
        setattr(response, name, value)
    return response


class HttpDenied(Exception):
    """An http-get the policy refuses or that fails; the message goes back to the guest."""


class HostNotAllowed(HttpDenied):
    """A host and port the policy does not list (`host`: `HOST:PORT`, normalised)."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"host '{host}' is not allowed; allow it with --allow-host {host} "
            "or http_hosts in the policy"
        )
        self.host = host


_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_url(policy: Policy, url: str) -> urllib.parse.SplitResult:
    """Return the parsed URL if the policy allows fetching it; raises HttpDenied.

    A grant names a host and a port (`HOST:PORT`; a bare `HOST` is the scheme's default port),
    compared in normalised form (`tool_runner.grants.normalise_host`)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise HttpDenied(f"scheme {parts.scheme or '(none)'!r} is not allowed: use http or https")
    if not parts.hostname:
        raise HttpDenied(f"URL {url!r} has no host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        host = normalise_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
    except ValueError:
        raise HttpDenied(f"URL {url!r} has an invalid host or port") from None
    allowed = set(policy.http_hosts)
    default = port == _DEFAULT_PORTS[parts.scheme]
    if f"{host}:{port}" not in allowed and not (default and host in allowed):
        raise HostNotAllowed(f"{host}:{port}")
    return parts


def pinned_address(host: str, port: int) -> str:
    """The one address a connection to `host`:`port` may use, resolved once and then pinned
    (the name is not looked up again, so a second answer cannot rebind it). A host named by an
    IP literal is used as granted; a name that resolves to a loopback, private, link-local or
    otherwise non-public address is refused: grant that address itself. Raises HttpDenied."""
    literal = host.strip("[]")
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HttpDenied(f"cannot resolve host '{host}': {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            shown = f"[{ip}]" if ip.version == 6 else str(ip)
            raise HttpDenied(
                f"host '{host}' resolves to {ip}, a loopback or private address; grant that "
                f"address itself (--allow-host {shown}:{port}) if the tool may reach it"
            )
    if not addresses:
        raise HttpDenied(f"cannot resolve host '{host}'")
    return addresses[0]


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the policy allows."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        check_url(self.policy, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Deadline:
    """One deadline over a whole exchange: every connection made under it is shut down when it
    passes, whatever it is waiting for (connect, status line, headers, a body or chunk-size
    read). A socket timeout alone bounds each read, and a server that drips a byte a second
    would otherwise hold the guest, which epochs cannot interrupt here, for as long as it likes.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left (at least a millisecond, so that a socket timeout stays valid)."""
        return max(self.at - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def cancel(self) -> None:
        """Stop the timer (the exchange is over)."""
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: it wakes a blocked read at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _under(deadline: Deadline, cls: type[http.client.HTTPConnection]) -> Any:
    """A factory of `cls` connections that connect within `deadline` and are watched by it."""

    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        kwargs["timeout"] = deadline.remaining()
        connection = cls(host, **kwargs)
        plain_connect = connection.connect

        def create_connection(
            address: tuple[str, int], timeout: Any = None, source: Any = None
        ) -> socket.socket:
            pinned = pinned_address(address[0], address[1])
            return socket.create_connection((pinned, address[1]), timeout, source)

        def connect() -> None:
            connection.timeout = deadline.remaining()
            plain_connect()
            deadline.watch(connection.sock)

        setattr(connection, "connect", connect)  # noqa: B010 - an instance's own connect
        # http.client's one hook for the socket: the address is resolved and checked there
        setattr(connection, "_create_connection", create_connection)  # noqa: B010
        return connection

    return make


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens http and https connections under one `Deadline` (in place of both defaults)."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: Any) -> Any:
        return self.do_open(_under(self._deadline, http.client.HTTPConnection), req)

    def https_open(self, req: Any) -> Any:
        return self.do_open(_under(self._deadline, http.client.HTTPSConnection), req)


def http_get(policy: Policy, url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """GET `url` under `policy`: (status, lower-cased headers, body); raises HttpDenied.

    `policy.http_timeout_s` bounds the whole exchange, redirects included (`Deadline`).
    """
    check_url(policy, url)
    deadline = Deadline(policy.http_timeout_s)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # no proxy from the environment: we connect ourselves
        _CheckedRedirects(policy),
        _DeadlineHandler(deadline),
    )
    request = urllib.request.Request(url, headers={"User-Agent": "llm-agent-tool-runner"})
    try:
        try:
            response = opener.open(request, timeout=deadline.remaining())
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            body = _read_bounded(response, policy.http_max_bytes + 1)
            status = int(response.status if hasattr(response, "status") else response.code)
            headers = [(k.lower(), v) for k, v in response.headers.items()]
    except HttpDenied:
        raise
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        # the deadline shut the socket, or the socket's own timeout (the time left) came first
        if deadline.expired or isinstance(reason, TimeoutError):
            raise _timed_out(url, deadline) from None
        raise HttpDenied(f"GET {url} failed: {reason}") from exc
    finally:
        deadline.cancel()
    if deadline.expired:  # the body ended because the deadline shut the connection
        raise _timed_out(url, deadline)
    if len(body) > policy.http_max_bytes:
        raise HttpDenied(f"GET {url}: response larger than {policy.http_max_bytes} bytes")
    return status, headers, body


def _timed_out(url: str, deadline: Deadline) -> HttpDenied:
    return HttpDenied(f"GET {url} timed out after {deadline.seconds:g} s")


def _read_bounded(response: Any, limit: int) -> bytes:
    """Read at most `limit` bytes (the deadline ends a slow body by shutting its socket)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        read = getattr(response, "read1", response.read)
        chunk = read(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
