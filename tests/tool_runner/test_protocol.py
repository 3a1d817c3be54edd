"""The tool host's protocol: every message survives its encoding, frames survive a pipe in
pieces, and errors cross it with their class and message."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tool_runner import (
    CacheError,
    ComponentNotFoundError,
    Limits,
    Policy,
    PolicyError,
    ProtocolError,
    ResultKind,
    ToolMetadata,
    ToolParam,
    ToolResult,
)
from tool_runner.protocol import (
    MAX_FRAME_BYTES,
    Call,
    Describe,
    Failed,
    FrameReader,
    Health,
    HealthReply,
    Result,
    Start,
    Tools,
    decode_reply,
    decode_request,
    encode,
    error_from,
    failure,
    frame,
    write_frame,
)

ECHO = ToolMetadata(
    name="Echo",
    description="Echos",
    version="0.1.0",
    params=(ToolParam(name="value", description="v", type="string", required=True),),
)


@pytest.mark.parametrize(
    "request_",
    [
        Start(components=(Path("a.wasm"),), policy=Policy(limits=Limits(timeout_s=2))),
        Describe(),
        Call(tool="Echo", arguments={"value": "hi", "n": 3, "b": True, "x": None}),
        Call(tool="Echo", policy=Policy(http_hosts=("example.org",))),
        Health(),
    ],
)
def test_requests_round_trip(request_: Start | Describe | Call | Health) -> None:
    assert decode_request(encode(request_)) == request_


@pytest.mark.parametrize(
    "reply",
    [
        Tools(tools=(ECHO,), problems=("cannot load x.wasm: not wasm",)),
        Result(result=ToolResult(tool="Echo", kind=ResultKind.CRASHED, error="died")),
        Result(result=ToolResult(tool="Echo", kind=ResultKind.SUCCESS, output="hi", log=("a",))),
        HealthReply(pid=1, calls=2, tools=("Echo",)),
        Failed(message="boom"),
    ],
)
def test_replies_round_trip(reply: Tools | Result | HealthReply | Failed) -> None:
    assert decode_reply(encode(reply)) == reply


def test_unreadable_messages_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="unreadable request"):
        decode_request(b'{"op": "launch"}')
    with pytest.raises(ProtocolError, match="unreadable reply"):
        decode_reply(b"not json")


def test_frames_arrive_whole_from_a_pipe_written_in_pieces() -> None:
    read_fd, write_fd = os.pipe()
    bodies = [b"x" * 100_000, b"", b'{"op":"health"}']
    data = b"".join(frame(body) for body in bodies)

    def dribble() -> None:
        for start in range(0, len(data), 7919):
            os.write(write_fd, data[start : start + 7919])
        os.close(write_fd)

    writer = threading.Thread(target=dribble)
    writer.start()
    reader = FrameReader(read_fd)
    got = [reader.read(time.monotonic() + 5) for _ in bodies]
    assert got == bodies and reader.read() is None
    writer.join()
    os.close(read_fd)


def test_a_reader_stops_at_its_deadline_and_refuses_oversized_frames() -> None:
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        reader.read(started + 0.1)
    assert time.monotonic() - started < 1
    os.write(write_fd, (MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(ProtocolError, match="over"):
        reader.read(time.monotonic() + 1)
    write_frame(write_fd, b"")  # a frame write is whole or raises
    os.close(read_fd)
    os.close(write_fd)


@pytest.mark.parametrize(
    "error",
    [
        ComponentNotFoundError(Path("/x/echo.wasm"), "no such file"),
        PolicyError("invalid directory grant 'x'"),
        CacheError(Path("/c"), "is writable by others", "chmod 700 /c"),
    ],
)
def test_errors_cross_with_their_class_and_message(error: Exception) -> None:
    assert isinstance(error, (ComponentNotFoundError, PolicyError, CacheError))
    back = error_from(decode_reply(encode(failure(error))))  # type: ignore[arg-type]
    assert type(back) is type(error) and str(back) == str(error)
    if isinstance(error, ComponentNotFoundError):
        assert isinstance(back, ComponentNotFoundError)
        assert (back.path, back.reason) == (error.path, error.reason)
