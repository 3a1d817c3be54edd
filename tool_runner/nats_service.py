"""Serve a `WorkerPool`'s tools as a NATS service (nats-py's `micro` services API).

    tool-runner worker --nats nats://127.0.0.1:4222 --tools-dir components

The service is `SERVICE_NAME`; each tool is an endpoint named after it on the subject
`tools.<name>` (queue group `SERVICE_NAME`: several workers share the load, each request goes
to one), whose metadata holds the tool's `ToolMetadata` as JSON, so a client discovers the
tools from the services' INFO. The micro API answers PING, INFO and STATS by itself. A request
is a protocol `Call` (JSON; its policy, when it brings one, is the one the tools run under) and
the reply a `Result`, or `Failed` for a request that does not read. Calls run on the pool's
supervised workers, so a guest blocked in a host call or a crashing one never stalls the
service: the pool times it out or restarts the worker.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, Service

from tool_runner.errors import ProtocolError, ToolHostError
from tool_runner.metadata import ToolMetadata
from tool_runner.pool import WorkerPool
from tool_runner.protocol import Call, Failed, Result, decode_request, encode

SERVICE_NAME = "llm-agent-tools"
SERVICE_VERSION = "0.1.0"
SUBJECT_PREFIX = "tools"
TOOL_METADATA_KEY = "tool"
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


async def _quiet(_error: Exception) -> None:
    """nats-py's error callback: it would print tracebacks; failures reach callers as errors."""


async def connect(url: str, timeout_s: float = 5.0) -> Client:
    """A connection to `url` that fails within `timeout_s` instead of retrying forever and
    prints nothing; raises what nats-py raises (OSError, its errors, TimeoutError)."""
    client: Client = await asyncio.wait_for(
        nats.connect(
            url,
            connect_timeout=timeout_s,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            error_cb=_quiet,
        ),
        timeout_s,
    )
    return client


def tool_subject(name: str) -> str:
    """The subject a tool's calls are sent to."""
    return f"{SUBJECT_PREFIX}.{name}"


def _handler(pool: WorkerPool) -> Callable[[Request], Awaitable[None]]:
    async def handle(request: Request) -> None:
        try:
            call = decode_request(request.data)
        except ProtocolError as exc:
            await request.respond(encode(Failed(message=str(exc))))
            return
        if not isinstance(call, Call):
            await request.respond(encode(Failed(message=f"expected a call, not {call.op!r}")))
            return
        result = await asyncio.to_thread(pool.call, call.tool, call.arguments, policy=call.policy)
        await request.respond(encode(Result(result=result)))

    return handle


def _endpoint(metadata: ToolMetadata, pool: WorkerPool) -> EndpointConfig:
    if not _ENDPOINT_NAME.match(metadata.name):
        raise ToolHostError(
            f"tool name {metadata.name!r} cannot be a NATS endpoint (letters, digits, - and _)"
        )
    return EndpointConfig(
        name=metadata.name,
        handler=_handler(pool),
        subject=tool_subject(metadata.name),
        queue_group=SERVICE_NAME,
        metadata={TOOL_METADATA_KEY: metadata.model_dump_json()},
    )


async def serve(
    url: str, pool: WorkerPool, stop: asyncio.Event, ready: Callable[[], None] | None = None
) -> None:
    """Serve `pool`'s tools at the NATS server `url` until `stop` is set, calling `ready` once
    every endpoint is up; raises ToolHostError when the server cannot be reached."""
    try:
        client = await connect(url)
    except Exception as exc:  # nats-py raises a variety (OSError, its own errors, timeouts)
        reason = str(exc) or type(exc).__name__
        raise ToolHostError(f"cannot connect to NATS at {url}: {reason}") from exc
    service: Service | None = None
    try:
        service = await add_service(
            client,
            name=SERVICE_NAME,
            version=SERVICE_VERSION,
            description="llm-agent's sandboxed WebAssembly tools",
            queue_group=SERVICE_NAME,
        )
        for metadata in pool.tools():
            await service.add_endpoint(_endpoint(metadata, pool))
        await client.flush()  # the subscriptions are on the server before anyone is told
        if ready is not None:
            ready()
        await stop.wait()
    finally:
        if service is not None:
            await service.stop()
        await client.drain()
