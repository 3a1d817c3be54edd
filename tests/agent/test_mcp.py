"""`agent mcp` driven by the official `mcp` SDK client, over stdio and over Streamable HTTP, with
real components: schemas, calls, errors as `isError` results, a timeout, a denied capability
(refused, and granted through elicitation), and `notifications/tools/list_changed` on a
hot-load."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from agent.paths import user_paths
from tests.tool_runner.wat_components import HOSTILE, component_wat
from tool_runner import Policy, ToolGrants

AGENT = str(Path(sys.executable).with_name("agent"))


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        body = b"hello from the page"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page() -> Iterator[str]:
    """A local page: `http://127.0.0.1:PORT/`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's approvals in its own config folder (the server is a child process)."""
    monkeypatch.setenv("LLM_AGENT_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def tools_dir(tmp_path: Path, component_path: Callable[[str], Path]) -> Path:
    folder = tmp_path / "tools"
    folder.mkdir()
    shutil.copy(component_path("echo"), folder / "echo-tool-component.wasm")
    shutil.copy(component_path("http-get"), folder / "http-get-tool-component.wasm")
    (folder / "hostile.wasm").write_text(component_wat(HOSTILE))  # WAT text loads too
    return folder


def _text(result: types.CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, types.TextContent)
    return content.text


def _stdio(tools_dir: Path) -> StdioServerParameters:
    args = ["mcp", "--tools-dir", str(tools_dir), "--workers", "1", "--timeout", "1"]
    # the SDK passes only a few variables on by default: the test's config folder must follow
    return StdioServerParameters(command=AGENT, args=args, cwd=str(tools_dir), env=dict(os.environ))


async def _session(client: Client, names: list[str]) -> None:
    """What both transports must do."""
    listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == names
    echo = "Echo" if "Echo" in names else "echo.Echo"
    schema = next(t for t in listed if t.name == echo).input_schema
    assert schema["properties"]["value"]["type"] == "string"
    assert schema["required"] == ["value"]
    said = await client.call_tool(echo, {"value": "hi there"})
    assert not said.is_error and _text(said) == "hi there"
    bad = await client.call_tool(echo, {"value": "x", "other": 1})
    assert bad.is_error and _text(bad).startswith("invalid_arguments: ")
    unknown = await client.call_tool("Nope", {})
    assert unknown.is_error and "unknown tool 'Nope'" in _text(unknown)
    started = time.monotonic()
    spun = await client.call_tool("hostile", {"mode": "loop"})
    assert spun.is_error and _text(spun).startswith("timeout: ")
    assert time.monotonic() - started < 1 + 5
    assert (await client.call_tool(echo, {"value": "still here"})).is_error is False


def test_stdio_session_with_elicitation_and_list_changed(
    tools_dir: Path, page: str, component_path: Callable[[str], Path]
) -> None:
    asked: list[str] = []
    answers = iter(["deny", "always"])
    changes: list[Any] = []

    async def elicit(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"answer": next(answers)})

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ServerNotification) or "list_changed" in repr(message):
            changes.append(message)

    async def main() -> None:
        async with Client(
            _stdio(tools_dir),
            mode="legacy",
            elicitation_callback=elicit,
            message_handler=on_message,
        ) as client:
            await _session(client, ["Echo", "HttpGet", "hostile"])
            host = page.split("/")[2]
            refused = await client.call_tool("HttpGet", {"url": page})
            assert refused.is_error
            assert _text(refused).endswith(
                f"(not granted; it can be granted with --allow-host http-get={host})"
            )
            granted = await client.call_tool("HttpGet", {"url": page})
            assert not granted.is_error, _text(granted)
            assert "hello from the page" in _text(granted)
            assert asked[0] == asked[1] and f"was denied the host {host}" in asked[0]
            # always: kept for the session (no third question) and saved by the tool's digest
            again = await client.call_tool("HttpGet", {"url": page})
            assert not again.is_error and len(asked) == 2
            saved = Policy.from_file(user_paths(os.environ).policy_file)
            digest = hashlib.sha256((tools_dir / "http-get-tool-component.wasm").read_bytes())
            assert saved.tools == {f"sha256:{digest.hexdigest()}": ToolGrants(http_hosts=(host,))}
            # hot-load: a new component in the folder is announced
            shutil.copy(component_path("print"), tools_dir / "print-tool-component.wasm")
            with anyio.fail_after(30):
                while not any("list_changed" in repr(c) for c in changes):
                    await anyio.sleep(0.1)
            names = [t.name for t in (await client.list_tools()).tools]
            assert names == ["Echo", "HttpGet", "Print", "hostile"]

    anyio.run(main)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_streamable_http_session(
    tools_dir: Path, page: str, component_path: Callable[[str], Path]
) -> None:
    # a second component serving Echo: both are served, each under its file's stem
    shutil.copy(component_path("echo"), tools_dir / "echo-copy.wasm")
    port = _free_port()
    args = [AGENT, "mcp", "--http", "--port", str(port), "--tools-dir", str(tools_dir)]
    server = subprocess.Popen(
        [*args, "--workers", "1", "--timeout", "1"],
        cwd=tools_dir,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert line == f"agent mcp: serving http://127.0.0.1:{port}/mcp\n", line
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)

        async def main() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client:
                names = ["HttpGet", "echo-copy.Echo", "echo.Echo", "hostile"]
                await _session(client, names)
                copy = await client.call_tool("echo-copy.Echo", {"value": "from the copy"})
                assert _text(copy) == "from the copy"
                # no elicitation from this client: the denial says which flag grants it
                refused = await client.call_tool("HttpGet", {"url": page})
                assert refused.is_error and "--allow-host http-get=127.0.0.1:" in _text(refused)

        anyio.run(main)
    finally:
        server.terminate()
        server.wait(10)
