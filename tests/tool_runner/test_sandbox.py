"""Hostile components against the sandbox: every failure is a clean result, and the next call
on the same runner succeeds."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fast_limits import FAST_LIMITS

from tool_runner import DirGrant, Limits, Policy, ResultKind, Tool, ToolRunner


def _recovers(tool: Tool) -> None:
    result = tool.call({"mode": "echo", "arg": "still alive"})
    assert result.ok, result
    assert result.output == "still alive"


def test_echo_round_trip(hostile: Tool) -> None:
    result = hostile.call({"mode": "echo", "arg": "héllo wörld"})
    assert (result.ok, result.kind, result.output) == (True, ResultKind.SUCCESS, "héllo wörld")
    assert result.arguments == {"mode": "echo", "arg": "héllo wörld"}
    assert result.error is None and result.elapsed_ms > 0


def test_tool_error_is_reported_as_such(hostile: Tool) -> None:
    result = hostile.call({"mode": "Error", "arg": "no such city"})
    assert (result.ok, result.kind, result.error) == (False, ResultKind.TOOL_ERROR, "no such city")
    _recovers(hostile)


def test_infinite_loop_stops_at_the_timeout(hostile: Tool) -> None:
    result = hostile.call({"mode": "loop"})
    assert result.kind is ResultKind.TIMEOUT
    assert result.error == "timed out after 0.3 s"
    assert 250 <= result.elapsed_ms < 2000
    _recovers(hostile)


def test_memory_bomb_fails_cleanly_at_the_cap(hostile: Tool) -> None:
    result = hostile.call({"mode": "memory"})
    assert result.kind is ResultKind.MEMORY_LIMIT
    assert "memory limit of 16 MiB" in (result.error or "")
    assert "memory allocation of" in result.stderr
    _recovers(hostile)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        # memory.grow refused, then the guest returns its own error saying so
        ({"mode": "alloc"}, "(out of memory: memory.grow refused)"),
        # memory.grow refused inside the guest's allocator, which traps without a word
        ({"mode": "Alloc"}, "(wasm trap: wasm `unreachable` instruction executed)"),
        # an argument bigger than the cap: the allocator traps while the host lowers it
        (
            {"mode": "echo", "arg": "x" * (17 * 1024 * 1024)},
            "(wasm trap: wasm `unreachable` instruction executed)",
        ),
    ],
    ids=["refused-then-error", "refused-in-allocator", "argument-allocation"],
)
def test_every_memory_bomb_shape_reports_the_memory_limit(
    hostile: Tool, args: dict[str, str], reason: str
) -> None:
    result = hostile.call(args)
    assert result.kind is ResultKind.MEMORY_LIMIT, result.error
    assert result.error == f"exceeded the memory limit of 16 MiB {reason}"
    _recovers(hostile)


def test_memory_growth_is_refused_at_the_cap(hostile: Tool) -> None:
    result = hostile.call({"mode": "Measure"})
    assert result.ok
    assert int(result.output or "0") * 64 * 1024 == 16 * 1024 * 1024


def test_trap_gives_the_reason_line_without_backtrace(hostile: Tool) -> None:
    result = hostile.call({"mode": "trap"})
    assert result.kind is ResultKind.TRAP
    assert result.error == "wasm trap: wasm `unreachable` instruction executed"
    _recovers(hostile)


def test_stdout_flood_is_truncated_at_the_output_cap(hostile: Tool) -> None:
    result = hostile.call({"mode": "flood"})
    assert result.kind is ResultKind.OUTPUT_TOO_LARGE
    assert result.error == "stdout exceeded the output limit of 65536 bytes"
    assert result.stdout == "A" * 65536
    _recovers(hostile)


def test_oversized_result_is_refused(hostile: Tool) -> None:
    result = hostile.call({"mode": "output"})
    assert result.kind is ResultKind.OUTPUT_TOO_LARGE
    assert result.output is None
    _recovers(hostile)


def test_exit_reports_the_code(hostile: Tool) -> None:
    result = hostile.call({"mode": "xit"})
    assert (result.kind, result.exit_code) == (ResultKind.EXIT, 1)
    _recovers(hostile)


def test_invalid_arguments_never_reach_the_guest(hostile: Tool) -> None:
    result = hostile.call({"mode": "echo", "colour": "red"})
    assert result.kind is ResultKind.INVALID_ARGUMENTS
    assert result.error == "unknown parameter 'colour' (expected: mode, arg)"
    assert result.stdout == "" and result.arguments == {}


def test_stdout_stderr_and_log_are_captured_not_inherited(
    hostile: Tool, capfd: pytest.CaptureFixture[str]
) -> None:
    printed = hostile.call({"mode": "print", "arg": "to the streams"})
    logged = hostile.call({"mode": "gossip", "arg": "a log line"})
    assert (printed.stdout, printed.stderr) == ("to the streams", "to the streams")
    assert logged.log == ("a log line",)
    assert capfd.readouterr() == ("", "")


def test_environment_is_empty_unless_granted(
    runner: ToolRunner, hostile: Tool, hostile_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("GRANTED", "yes")
    assert hostile.call({"mode": "vars"}).output == ""
    policy = Policy(limits=FAST_LIMITS, env=("GRANTED", "ABSENT"), env_values={"EXTRA": "1"})
    granted = runner.load(hostile_path, policy=policy).call({"mode": "vars"})
    assert granted.output == "EXTRA=1\nGRANTED=yes\n"
    assert "hunter2" not in (granted.output or "")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    return tmp_path / "ws"


def test_no_files_without_a_grant(hostile: Tool) -> None:
    assert hostile.call({"mode": "dirs"}).output == ""
    result = hostile.call({"mode": "read", "arg": "/etc/passwd"})
    assert (result.kind, result.error) == (ResultKind.TOOL_ERROR, "no preopened directories")


def test_read_only_grant_reads_inside_but_not_outside_and_cannot_write(
    runner: ToolRunner, hostile_path: Path, workspace: Path
) -> None:
    policy = Policy(limits=FAST_LIMITS, dirs=(DirGrant(host=workspace),))
    tool = runner.load(hostile_path, policy=policy)
    assert tool.call({"mode": "dirs"}).output == "/workspace=\n"
    assert tool.call({"mode": "read", "arg": "notes.txt"}).output == "inside"
    escape = tool.call({"mode": "read", "arg": "../secret.txt"})
    assert escape.kind is ResultKind.TOOL_ERROR
    assert escape.error == "open failed: error code 31"  # not-permitted
    write = tool.call({"mode": "write", "arg": "new.txt"})
    assert write.kind is ResultKind.TOOL_ERROR and write.error is not None
    assert write.error.startswith("open failed")
    assert sorted(os.listdir(workspace)) == ["notes.txt"]
    _recovers(tool)


def test_writable_grant_allows_writing(
    runner: ToolRunner, hostile_path: Path, workspace: Path
) -> None:
    policy = Policy(limits=FAST_LIMITS, dirs=(DirGrant(host=workspace, writable=True),))
    result = runner.load(hostile_path, policy=policy).call({"mode": "write", "arg": "new.txt"})
    assert result.ok, result
    assert (workspace / "new.txt").read_text() == "pwned"


def test_fuel_limit(runner: ToolRunner, hostile_path: Path) -> None:
    policy = Policy(limits=Limits(timeout_s=5, fuel=100_000))
    tool = runner.load(hostile_path, policy=policy)
    result = tool.call({"mode": "loop"})
    assert result.kind is ResultKind.FUEL_EXHAUSTED
    assert result.error == "ran out of fuel (100000 units)"
    _recovers(tool)


def test_per_tool_limits_override_the_defaults(runner: ToolRunner, hostile_path: Path) -> None:
    policy = Policy(limits=FAST_LIMITS, tool_limits={"hostile": Limits(timeout_s=0.05)})
    tool = runner.load(hostile_path, policy=policy)
    assert tool.limits.timeout_s == 0.05
    assert tool.call({"mode": "loop"}).error == "timed out after 0.05 s"


def test_each_call_gets_a_fresh_instance_unless_reuse_is_asked(
    runner: ToolRunner, hostile_path: Path
) -> None:
    fresh = runner.load(hostile_path)
    reused = runner.load(hostile_path, policy=Policy(limits=FAST_LIMITS, reuse_instance=True))
    # Growing memory is state: a fresh instance starts from 2 pages every time.
    assert fresh.call({"mode": "Measure"}).output == fresh.call({"mode": "Measure"}).output
    assert reused.call({"mode": "Measure"}).ok
    assert reused.call({"mode": "echo", "arg": "x"}).output == "x"
    assert reused.call({"mode": "trap"}).kind is ResultKind.TRAP
    _recovers(reused)  # the poisoned instance was dropped


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/drip":  # a byte at a time, each well inside the socket timeout
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass  # the client gave up
            return
        body = b"hello from " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_get_only_reaches_allowed_hosts(
    runner: ToolRunner, hostile: Tool, hostile_path: Path, local_server: str
) -> None:
    denied = hostile.call({"mode": "http", "arg": f"http://{local_server}/x"})
    assert denied.kind is ResultKind.TOOL_ERROR
    assert denied.error == (
        f"host '{local_server}' is not allowed; allow it with --allow-host {local_server} "
        "or http_hosts in the policy"
    )
    assert "scheme 'file'" in (
        hostile.call({"mode": "http", "arg": "file:///etc/passwd"}).error or ""
    )
    allowed = runner.load(hostile_path, policy=Policy(http_hosts=(local_server,)))
    result = allowed.call({"mode": "http", "arg": f"http://{local_server}/page"})
    assert result.output == "hello from /page"
    small = runner.load(hostile_path, policy=Policy(http_hosts=(local_server,), http_max_bytes=4))
    too_big = small.call({"mode": "http", "arg": f"http://{local_server}/page"})
    assert "larger than 4 bytes" in (too_big.error or "")


def test_http_get_deadline_covers_a_dripping_server(
    runner: ToolRunner, hostile_path: Path, local_server: str
) -> None:
    # The socket timeout alone would let this server hold the guest for 50 s.
    tool = runner.load(hostile_path, policy=Policy(http_hosts=(local_server,), http_timeout_s=0.3))
    start = time.monotonic()
    result = tool.call({"mode": "http", "arg": f"http://{local_server}/drip"})
    assert result.kind is ResultKind.TOOL_ERROR
    assert result.error == f"GET http://{local_server}/drip timed out after 0.3 s"
    assert time.monotonic() - start < 0.3 + 1


def test_wasi_sockets_cannot_reach_the_network(hostile: Tool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.05)
        port = listener.getsockname()[1]
        result = hostile.call({"mode": "net", "arg": str(port)})
        assert result.kind is ResultKind.TOOL_ERROR
        assert result.error in ("socket failed: error code 1", "connect failed: error code 1")
        with pytest.raises(TimeoutError):
            listener.accept()  # access-denied: nothing ever connected
