"""Serving an app with uvicorn: in the foreground (`agent serve`) or in a thread (tests, benches).

    with Server.start(app, host="127.0.0.1", port=0) as server:   # port 0: any free port
        client = OpenAI(base_url=server.url + "/v1", api_key="...")

The socket is bound here, so that an address in use or not allowed is a `ServeError` with one
line rather than uvicorn's exit.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from agent.serve.errors import ServeError
from tool_runner import Closing


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port`; raises ServeError when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def url_of(sock: socket.socket) -> str:
    """`http://HOST:PORT` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _uvicorn(app: Any, *, access_log: bool) -> uvicorn.Server:
    level = "info" if access_log else "warning"  # uvicorn logs requests at info
    config = uvicorn.Config(app, log_level=level, access_log=access_log, lifespan="off")
    return uvicorn.Server(config)


def serve_forever(app: Any, sock: socket.socket, *, access_log: bool = False) -> None:
    """Serve `app` on `sock` until Ctrl-C (or SIGTERM) and return once the requests in flight
    are done; closes the socket."""
    try:
        _uvicorn(app, access_log=access_log).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn stopped gracefully and then raised again the Ctrl-C it had caught
    finally:
        sock.close()


class Server(Closing):
    """`app` served in a background thread; `close()` stops it."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._server = server
        self._sock = sock
        self.url = url_of(sock)
        """`http://HOST:PORT`, the port the system chose when 0 was asked."""
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="agent-serve", daemon=True
        )

    @classmethod
    def start(
        cls, app: Any, *, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 30.0
    ) -> Server:
        """Start serving and wait until it accepts requests; raises ServeError."""
        server = cls(_uvicorn(app, access_log=False), bind(host, port))
        server._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server._server.started:
            if not server._thread.is_alive() or time.monotonic() > deadline:
                server.close()
                raise ServeError(f"the server on {server.url} did not start")
            time.sleep(0.01)
        return server

    def close(self) -> None:
        """Stop serving and wait for the server's thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._sock.close()
