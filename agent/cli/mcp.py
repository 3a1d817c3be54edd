"""`agent mcp`: serve the sandboxed tools over MCP, on stdio (default) or Streamable HTTP.

    agent mcp                                   # stdio: the components folder, hot-loaded
    agent mcp --http --port 8765 --dir files=~/notes

It takes `agent run`'s tool and sandbox flags (`-c`, `--tools-dir`, `--workers`, `--policy`,
`--dir files=PATH`, ...), so the tools and grants are exactly a run's, pinned by `tools.lock`
and with the grants approved "always" (the user's policy file). The library part is
`tool_runner.mcp_server` (it serves tools, not models, so it needs nothing from `agent`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from agent.capabilities import remember_grant
from agent.cli.run import agent_options, one_line_errors, settings_from
from agent.executor import component_paths
from agent.paths import user_paths
from agent.session import sandbox_policy
from tool_runner import (
    CapabilityRequest,
    PoolSettings,
    ToolGrants,
    WorkerPool,
    default_cache_dir,
    digest_key,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@agent_options
@click.option("--http", "http", is_flag=True, help="Serve Streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for --http.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port for --http.")
@click.pass_context
def mcp(ctx: click.Context, /, http: bool, host: str, port: int, **flags: Any) -> None:
    """Serve the sandboxed tools over MCP (stdio, or Streamable HTTP with --http)."""
    from tool_runner import McpToolServer  # loads the mcp SDK: only when serving

    with one_line_errors():
        settings = settings_from(ctx, flags)
        if settings.inherit_stdio and not http:
            raise click.UsageError("--inherit-stdio would write into the stdio protocol")
        policy = sandbox_policy(settings)
        tools_dir = settings.tools_dir or Path("components")
        paths = component_paths(settings.components, tools_dir)
        watched = not settings.components
        pool = WorkerPool(
            () if watched else paths,
            policy,
            tools_dir=tools_dir if watched else None,
            cache_dir=default_cache_dir(os.environ),
            settings=PoolSettings(workers=settings.workers, watch=watched),
            unique_names=True,  # MCP names: `<file stem>.<name>` for a name two components share
        )
    policy_file = user_paths(os.environ).policy_file

    def remember(request: CapabilityRequest, grants: ToolGrants) -> None:
        if request.digest:
            remember_grant(policy_file, digest_key(request.digest), grants)

    with pool:
        server = McpToolServer(pool, policy, remember=remember, workdir=str(Path.cwd()))
        if not http:
            import anyio

            anyio.run(server.run_stdio)
            return
        import uvicorn

        if host not in LOOPBACK:
            click.echo(f"agent mcp: listening on {host}, beyond this machine", err=True)
        click.echo(f"agent mcp: serving http://{host}:{port}/mcp", err=True)
        uvicorn.run(server.http_app(host), host=host, port=port, log_level="warning")
