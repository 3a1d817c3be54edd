"""`NatsHost`: the tools of a NATS tool service (`tool_runner.nats_service`), as a `ToolHost`.

    with NatsHost("nats://127.0.0.1:4222", policy) as host:
        host.tools()                          # discovered from the services' INFO
        host.call("Echo", {"value": "hi"})    # request-reply with the call's deadline

Opening connects and asks every `SERVICE_NAME` service for its INFO (the tools are the
endpoints' metadata); it raises `ToolHostError` when the server cannot be reached or no
service answers. Each call is one request to the tool's subject carrying the protocol `Call`
with this host's policy (the worker enforces it), answered by one worker of the queue group.
The call waits at most the tool's `timeout_s` plus `grace_s`: a worker that dies during the call
never answers, and the call reports `timeout` at its deadline (nothing can tell a dead worker
from a slow one); with no worker left the server says so at once and the call reports
`crashed`. nats-py is asyncio; this class runs its own event loop on a daemon thread and offers
blocking calls, safe from several threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import nats.errors
from nats.aio.client import Client
from pydantic import ValidationError

from tool_runner.closing import Closing
from tool_runner.errors import ProtocolError, ToolHostError
from tool_runner.metadata import ArgValue, ToolMetadata
from tool_runner.nats_service import SERVICE_NAME, TOOL_METADATA_KEY, connect, tool_subject
from tool_runner.policy import Policy
from tool_runner.protocol import Call, Failed, Result, decode_reply, encode
from tool_runner.result import ResultKind, ToolResult
from tool_runner.tool_host import HostStats, host_failure

T = TypeVar("T")
DISCOVER_TIMEOUT_S = 2.0
_MORE_REPLIES_S = 0.1  # after the first INFO reply, how long to wait for other services'


class NatsHost(Closing):
    """The tools served at the NATS server `url`, called under `policy`."""

    def __init__(
        self,
        url: str,
        policy: Policy | None = None,
        *,
        grace_s: float = 1.0,
        discover_timeout_s: float = DISCOVER_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.policy = policy if policy is not None else Policy()
        self.grace_s = grace_s
        self._lock = threading.Lock()
        self._calls = self._crashed = self._timeouts = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats", daemon=True)
        self._thread.start()
        self._client: Client | None = None
        try:
            self._client = self._run(self._connect(), None)
            self._services, self._tools = self._run(self._discover(discover_timeout_s), None)
        except BaseException:
            self.close()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> Client:
        try:
            return await connect(self.url)
        except Exception as exc:  # nats-py raises OSError, its own errors and timeouts
            reason = str(exc) or type(exc).__name__
            raise ToolHostError(f"cannot connect to NATS at {self.url}: {reason}") from exc

    async def _discover(self, timeout_s: float) -> tuple[int, tuple[ToolMetadata, ...]]:
        assert self._client is not None  # set by __init__ before discovery
        inbox = self._client.new_inbox()
        subscription = await self._client.subscribe(inbox)
        await self._client.publish(f"$SRV.INFO.{SERVICE_NAME}", b"", reply=inbox)
        replies = []
        wait = timeout_s
        try:
            while True:
                message = await subscription.next_msg(timeout=wait)
                if not message.data:  # the server's "no responders" status: nobody serves
                    break
                replies.append(message.data)
                wait = _MORE_REPLIES_S
        except nats.errors.TimeoutError:
            pass
        finally:
            await subscription.unsubscribe()
        if not replies:
            raise ToolHostError(f"no {SERVICE_NAME} service answered at {self.url}")
        tools: dict[str, ToolMetadata] = {}
        for data in replies:
            for metadata in _endpoint_tools(data):
                tools.setdefault(metadata.name, metadata)
        return len(replies), tuple(tools[name] for name in sorted(tools))

    def tools(self) -> Sequence[ToolMetadata]:
        """Every tool the services announced, sorted by name."""
        return self._tools

    def call(
        self,
        tool: str,
        arguments: Mapping[str, ArgValue] | None = None,
        *,
        policy: Policy | None = None,
    ) -> ToolResult:
        """Run `tool` on one of the service's workers under `policy` (None: this host's); never
        raises for what the tool, the worker or the network does (see the module docstring)."""
        started = time.monotonic()
        policy = policy if policy is not None else self.policy
        deadline_s = policy.limits_for(tool).timeout_s + self.grace_s
        request = encode(Call(tool=tool, arguments=dict(arguments or {}), policy=policy))
        try:
            result = self._run(self._request(tool, request, deadline_s), deadline_s + 1)
        except (TimeoutError, nats.errors.TimeoutError):
            result = host_failure(
                tool,
                started,
                ResultKind.TIMEOUT,
                f"no reply from the tool service within "
                f"{deadline_s:g}s (the worker was slow, stuck or died)",
            )
        except nats.errors.NoRespondersError:
            result = host_failure(
                tool, started, ResultKind.CRASHED, f"no tool worker serves {tool!r} any more"
            )
        except (nats.errors.Error, ProtocolError, OSError) as exc:
            result = host_failure(tool, started, ResultKind.CRASHED, f"the call failed: {exc}")
        with self._lock:
            self._calls += 1
            self._crashed += result.kind is ResultKind.CRASHED
            self._timeouts += result.kind is ResultKind.TIMEOUT
        return result

    async def _request(self, tool: str, body: bytes, timeout_s: float) -> ToolResult:
        if self._client is None:
            raise ToolHostError("the NATS connection is closed")
        message = await self._client.request(tool_subject(tool), body, timeout=timeout_s)
        headers = message.headers or {}
        if "Nats-Service-Error" in headers:
            raise ProtocolError(f"the tool service failed: {headers['Nats-Service-Error']}")
        reply = decode_reply(message.data)
        if isinstance(reply, Result):
            return reply.result
        raise ProtocolError(reply.message if isinstance(reply, Failed) else f"{reply.op!r}")

    def stats(self) -> HostStats:
        """Calls so far; `workers` is the number of services that answered discovery."""
        with self._lock:
            return HostStats(
                transport="nats",
                workers=self._services,
                alive=self._services,
                calls=self._calls,
                crashed=self._crashed,
                timeouts=self._timeouts,
            )

    def close(self) -> None:
        """Close the connection and stop the event loop's thread."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # a broken connection: nothing to release
                self._run(client.close(), 5)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running():
            self._loop.close()


def _endpoint_tools(data: bytes) -> list[ToolMetadata]:
    """The tools in one service INFO reply; raises ToolHostError for one that does not read."""
    try:
        info = json.loads(data)
        return [
            ToolMetadata.model_validate_json(endpoint["metadata"][TOOL_METADATA_KEY])
            for endpoint in info.get("endpoints") or ()
            if TOOL_METADATA_KEY in (endpoint.get("metadata") or {})
        ]
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise ToolHostError(f"a {SERVICE_NAME} service sent an unreadable INFO: {exc}") from exc
