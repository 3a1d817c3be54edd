"""PLACEHOLDER: `agent mcp` is being built in this session."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def mcp(args: tuple[str, ...]) -> None:
    """Serve the sandboxed tools over MCP (not built yet)."""
    raise click.UsageError("agent mcp is not built yet")
