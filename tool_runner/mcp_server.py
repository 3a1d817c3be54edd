"""The sandboxed tools over MCP (the official `mcp` SDK's low-level server: the tools and their
JSON Schemas are only known at run time).

    with WorkerPool(paths, policy, tools_dir=..., settings=PoolSettings(watch=True)) as pool:
        server = McpToolServer(pool, policy)
        anyio.run(server.run_stdio)                       # or: server.http_app() under uvicorn

Every call goes to the `ToolHost` (normally the `WorkerPool`: supervised workers, deadlines,
each tool's own part of the policy). What MCP sees:

- `tools/list`: each tool's name, description and `inputSchema` (`ToolMetadata.input_schema`);
  names are unique: `agent mcp` opens its pool with `unique_names`, so a name that two
  components share is served as `<file stem>.<name>` for each of them (`echo.Echo`,
  `echo-copy.Echo`), and other names stay as they are.
- `tools/call`: the tool's text as one `TextContent`; every failure (bad arguments, the tool's
  own error, a timeout, a crash, a denied capability) is a result with `isError: true` whose
  text says what went wrong, never a protocol error, so the client's model can act on it.
- A call denied a capability (`ToolResult.capability_request`) is put to the person through
  MCP elicitation when the client declares it (a form with one field, `answer`: once /
  session / always / deny); an answer other than deny retries the call with the grant for that
  tool alone, `session` keeps it for this server's life, `always` also hands it to `remember`
  (the agent saves it in the user's policy file). Without elicitation the error says which
  flag grants it. A client's arguments never grant anything.
- `notifications/tools/list_changed` goes to every connection the server has heard from when
  the tool set changes (the host's hot-load of its tools directory), checked every `poll_s`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.session import ServerSession
from starlette.applications import Starlette

from tool_runner.grants import DirGrant, ToolGrants
from tool_runner.metadata import ToolMetadata
from tool_runner.policy import Policy
from tool_runner.result import CapabilityRequest, ToolResult
from tool_runner.tool_host import ToolHost

SERVER_NAME = "llm-agent-tools"
CHOICES = ("once", "session", "always", "deny")
Remember = Callable[[CapabilityRequest, ToolGrants], None]


def mcp_tool(metadata: ToolMetadata) -> types.Tool:
    """The MCP description of a tool: its name, description and input JSON Schema."""
    return types.Tool(
        name=metadata.name,
        description=metadata.description,
        input_schema=dict(metadata.input_schema),
    )


def mcp_result(result: ToolResult) -> types.CallToolResult:
    """A tool result as MCP's: its text, `isError` for every failure."""
    text = result.text if result.ok else f"{result.kind.value}: {result.text}"
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], is_error=not result.ok
    )


class McpToolServer:
    """Serves a `ToolHost`'s tools over MCP (see the module docstring). `workdir` is the host
    folder a directory request is answered with (read-only, at the guest path asked for)."""

    def __init__(
        self,
        host: ToolHost,
        policy: Policy,
        *,
        remember: Remember | None = None,
        workdir: str | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.host = host
        self.policy = policy
        self._remember = remember
        self._workdir = workdir
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._granted = False
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self.server: Server[Any] = Server(
            SERVER_NAME,
            version="0.1.0",
            instructions="Sandboxed WebAssembly tools (llm-agent).",
            lifespan=self._lifespan,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    @asynccontextmanager
    async def _lifespan(self, _server: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        async with anyio.create_task_group() as group:
            group.start_soon(self._watch)
            yield {}
            group.cancel_scope.cancel()

    async def _watch(self) -> None:
        """Tell every known session when the tool set changes."""
        seen = await anyio.to_thread.run_sync(self._names)
        while True:
            await anyio.sleep(self._poll_s)
            names = await anyio.to_thread.run_sync(self._names)
            if names == seen:
                continue
            seen = names
            for connection in list(self._connections):
                try:
                    await connection.send_tool_list_changed()
                except Exception:  # a connection that went away: it is forgotten
                    self._connections.discard(connection)

    def _heard_from(self, session: ServerSession) -> None:
        # a low-level request context has a per-request session; the connection behind it is
        # what lasts (the SDK keeps it private and offers no other handle for notifications)
        connection = getattr(session, "_connection", None)
        if connection is not None:
            self._connections.add(connection)

    def _names(self) -> tuple[tuple[str, str], ...]:
        return tuple((m.name, m.model_dump_json()) for m in self.host.tools())

    async def _list_tools(
        self, ctx: Any, _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self._heard_from(ctx.session)
        tools = await anyio.to_thread.run_sync(self.host.tools)
        return types.ListToolsResult(tools=[mcp_tool(m) for m in tools])

    async def _call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        self._heard_from(ctx.session)
        arguments: Mapping[str, Any] = params.arguments or {}
        names = {m.name for m in await anyio.to_thread.run_sync(self.host.tools)}
        if params.name not in names:
            listed = ", ".join(sorted(names)) or "none"
            message = f"unknown_tool: unknown tool {params.name!r}; the tools are: {listed}"
            text = types.TextContent(type="text", text=message)
            return types.CallToolResult(content=[text], is_error=True)
        result = await anyio.to_thread.run_sync(self._call, params.name, arguments, None)
        request = result.capability_request
        if request is None or result.ok:
            return mcp_result(result)
        answer = await self._ask(ctx.session, request)
        if answer not in CHOICES[:3]:
            hint = f" (not granted; it can be granted with {request.flag()})"
            return mcp_result(result.model_copy(update={"error": (result.error or "") + hint}))
        grants = self._grants(request)
        with self._lock:
            granted = self.policy.with_tool_grants(request.tool, grants)
            if answer in ("session", "always"):
                self.policy, self._granted = granted, True
        if answer == "always" and self._remember is not None:
            await anyio.to_thread.run_sync(self._remember, request, grants)
        retried = await anyio.to_thread.run_sync(self._call, params.name, arguments, granted)
        return mcp_result(retried)

    def _call(self, name: str, arguments: Mapping[str, Any], policy: Policy | None) -> ToolResult:
        with self._lock:
            if policy is None and self._granted:
                policy = self.policy
        return self.host.call(name, dict(arguments), policy=policy)

    def _grants(self, request: CapabilityRequest) -> ToolGrants:
        if request.kind == "dir":
            return ToolGrants(dirs=(DirGrant(host=self._workdir or ".", guest=request.value),))
        if request.kind == "host":
            return ToolGrants(http_hosts=(request.value,))
        return ToolGrants(env=(request.value,))

    async def _ask(self, session: ServerSession, request: CapabilityRequest) -> str:
        """The person's answer through elicitation, or "deny" when the client cannot ask."""
        wanted = types.ClientCapabilities(elicitation=types.ElicitationCapability())
        if not session.check_client_capability(wanted):
            return "deny"
        what = {"dir": "a directory at", "host": "the host", "env": "the environment variable"}
        message = (
            f"The tool {request.tool!r} (sha256 {(request.digest or '')[:16]}…) was denied "
            f"{what[request.kind]} {request.value}. Allow it?"
        )
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {"answer": {"type": "string", "enum": list(CHOICES)}},
            "required": ["answer"],
        }
        try:
            reply = await session.elicit_form(message=message, requested_schema=schema)
        except Exception:  # the client failed to answer: refused
            return "deny"
        answer = (reply.content or {}).get("answer") if reply.action == "accept" else None
        return answer if isinstance(answer, str) and answer in CHOICES else "deny"

    async def run_stdio(self) -> None:
        """Serve one client on this process's stdin and stdout until it disconnects."""
        from mcp.server.lowlevel.server import NotificationOptions
        from mcp.server.stdio import stdio_server

        options = self.server.create_initialization_options(NotificationOptions(tools_changed=True))
        async with stdio_server() as (read_stream, write_stream):
            await self.server.run(read_stream, write_stream, options)

    def http_app(self, host: str = "127.0.0.1") -> Starlette:
        """The Streamable HTTP app (at `/mcp`), its DNS-rebinding protection on for loopback."""
        return self.server.streamable_http_app(host=host)
