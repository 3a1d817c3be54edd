"""A hostile HTTP server on 127.0.0.1 for deadline tests: it answers every request with a prepared
start sent at once and the rest one byte at a time, `interval_s` apart (or stays silent)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def drip_server(start: bytes, drip: bytes, interval_s: float = 1.0) -> Iterator[str]:
    """Serve `start`, then `drip` byte by byte; yields `127.0.0.1:<port>`. Stops when the block
    ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request
            conn.sendall(start)
            for byte in drip:
                if stop.wait(interval_s):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up
            stop.wait()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
