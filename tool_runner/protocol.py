"""The tool host's call protocol: typed requests and replies, one encoding for every transport.

    Request:  Start (first message to a local worker) | Describe | Call | Health
    Reply:    Tools | Result | HealthReply | Failed

A worker answers `Start` and `Describe` with `Tools` (the metadata of what it serves, plus one
line per component it could not load on a hot reload), `Call` with `Result` (a `ToolResult`,
never an exception: the guest's failures are result kinds) and `Health` with `HealthReply`.
`Failed` is a host-side failure (a component that does not load at start, a request that does
not read): the caller raises it.

Encoding: the JSON of these pydantic models, UTF-8. On a pipe each message is framed by a 4-byte
big-endian length (`frame`, `FrameReader`); a NATS message carries exactly the same JSON bytes
(NATS frames its messages itself). JSON rather than msgpack because pydantic's Rust core parses
and validates JSON bytes in one pass (`model_validate_json`: no intermediate Python objects, no
second validation step), because the payloads are mostly text (arguments and outputs are
strings, which msgpack does not shrink), because it needs no extra dependency, and because a
person can read the messages on the wire (`nats req tools.Echo '{...}'`). A length prefix
rather than newline-delimited JSON because a reader then knows how much to wait for and can
refuse an oversized frame (`MAX_FRAME_BYTES`) before reading it.
"""

from __future__ import annotations

import os
import select
import struct
import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tool_runner import errors
from tool_runner.errors import LoadError, ProtocolError, ToolRunnerError
from tool_runner.metadata import ArgValue, ToolMetadata
from tool_runner.policy import Policy
from tool_runner.result import ToolResult

MAX_FRAME_BYTES = 256 * 1024 * 1024
_LENGTH = struct.Struct(">I")


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Start(_Message):
    """What a local worker loads (sent once, first): component files and/or every `*.wasm` of
    `tools_dir` (rescanned on `Describe`), under a policy; the compile cache folder (None: the
    worker's default, `cache=False`: none) and the OS memory ceiling of the worker process."""

    op: Literal["start"] = "start"
    components: tuple[Path, ...] = ()
    tools_dir: Path | None = None
    policy: Policy
    cache_dir: Path | None = None
    cache: bool = True
    memory_ceiling_mib: int | None = None
    unique_names: bool = False


class Describe(_Message):
    """Ask for the tools a worker serves (after a reload if its directory changed)."""

    op: Literal["describe"] = "describe"


class Call(_Message):
    """Run `tool` with `arguments` under `policy` (None: the policy the worker started with)."""

    op: Literal["call"] = "call"
    tool: str
    arguments: dict[str, ArgValue] = Field(default_factory=dict)
    policy: Policy | None = None


class Health(_Message):
    """Ask a worker how it is."""

    op: Literal["health"] = "health"


class Tools(_Message):
    """The tools a worker serves, sorted by name; `problems` are one-line reports of components
    that failed to (re)load while the previous version, if any, keeps serving."""

    op: Literal["tools"] = "tools"
    tools: tuple[ToolMetadata, ...]
    problems: tuple[str, ...] = ()
    generation: int = 0


class Result(_Message):
    """The outcome of one `Call`."""

    op: Literal["result"] = "result"
    result: ToolResult


class HealthReply(_Message):
    """A worker's process id, the calls it has served and its tools' names."""

    op: Literal["health"] = "health"
    pid: int
    calls: int
    tools: tuple[str, ...]


class Failed(_Message):
    """A host-side failure: the `tool_runner.errors` class name, its one-line message, and
    `path` and `reason` when a component did not load (`failure`, `error_from`)."""

    op: Literal["failed"] = "failed"
    error: str = "ToolHostError"
    message: str
    path: str | None = None
    reason: str | None = None


Request = Annotated[Start | Describe | Call | Health, Field(discriminator="op")]
Reply = Annotated[Tools | Result | HealthReply | Failed, Field(discriminator="op")]
_REQUESTS: TypeAdapter[Start | Describe | Call | Health] = TypeAdapter(Request)
_REPLIES: TypeAdapter[Tools | Result | HealthReply | Failed] = TypeAdapter(Reply)


def encode(message: BaseModel) -> bytes:
    """A message as its JSON bytes (the body of a frame or of a NATS message)."""
    return message.model_dump_json().encode()


def decode_request(data: bytes) -> Start | Describe | Call | Health:
    """The request in `data`; raises ProtocolError."""
    try:
        return _REQUESTS.validate_json(data)
    except ValidationError as exc:
        raise ProtocolError(f"unreadable request: {_first(exc)}") from exc


def decode_reply(data: bytes) -> Tools | Result | HealthReply | Failed:
    """The reply in `data`; raises ProtocolError."""
    try:
        return _REPLIES.validate_json(data)
    except ValidationError as exc:
        raise ProtocolError(f"unreadable reply: {_first(exc)}") from exc


def frame(body: bytes) -> bytes:
    """`body` with its length prefix, ready for a pipe."""
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes is over {MAX_FRAME_BYTES}")
    return _LENGTH.pack(len(body)) + body


def write_frame(fd: int, body: bytes) -> None:
    """Write one framed message to the pipe `fd` (blocking); raises OSError (BrokenPipeError
    when the other end is gone)."""
    view = memoryview(frame(body))
    while view:
        view = view[os.write(fd, view) :]


class FrameReader:
    """Reads length-prefixed frames from a pipe, each within an optional deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def read(self, deadline: float | None = None) -> bytes | None:
        """The next frame's body, or None at end of file; raises TimeoutError when
        `time.monotonic()` passes `deadline` first, ProtocolError for an oversized frame."""
        while True:
            if len(self._buffer) >= _LENGTH.size:
                (size,) = _LENGTH.unpack_from(self._buffer)
                if size > MAX_FRAME_BYTES:
                    raise ProtocolError(f"frame of {size} bytes is over {MAX_FRAME_BYTES}")
                end = _LENGTH.size + size
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[_LENGTH.size : end])
                    del self._buffer[:end]
                    return body
            if not self._fill(deadline):
                return None

    def _fill(self, deadline: float | None) -> bool:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not self._poll.poll(left * 1000):
                raise TimeoutError("no reply before the deadline")
        chunk = os.read(self.fd, 1 << 16)
        self._buffer += chunk
        return bool(chunk)


def failure(exc: ToolRunnerError) -> Failed:
    """The reply that carries `exc` to the caller."""
    if isinstance(exc, LoadError):
        path, reason = str(exc.path), exc.reason
        return Failed(error=type(exc).__name__, message=str(exc), path=path, reason=reason)
    return Failed(error=type(exc).__name__, message=str(exc))


def error_from(reply: Failed) -> ToolRunnerError:
    """The error `reply` carries, as the same `tool_runner.errors` class with the same message
    (and `path`/`reason` for a LoadError; other attributes stay behind)."""
    found = getattr(errors, reply.error, None)
    cls = found if isinstance(found, type) and issubclass(found, ToolRunnerError) else None
    exc = (cls or errors.ToolHostError).__new__(cls or errors.ToolHostError)
    Exception.__init__(exc, reply.message)
    if isinstance(exc, LoadError):
        exc.path, exc.reason = Path(reply.path or ""), reply.reason or ""
    return exc


def _first(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
