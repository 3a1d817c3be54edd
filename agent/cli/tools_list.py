"""`agent tools list` and `agent tools lock`: the components a run loads, their sha256, world,
grants and lock state; and pinning them (`agent.toolbook`).

They take the same flags as `agent run` (the same `-c`, `--tools-dir`, `--policy`, `--dir
files=PATH`, ...), so they show and pin exactly what a run with those flags would load.
"""

from __future__ import annotations

import os
from typing import Any

import click

from agent import toolbook
from agent.cli.run import agent_options, one_line_errors, settings_from
from agent.toolbook import ListedTool
from tool_runner import default_cache_dir, for_terminal


@click.command("list")
@agent_options
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@click.pass_context
def list_tools(ctx: click.Context, /, as_json: bool, **flags: Any) -> None:
    """Show each tool: the name it is loaded under, its sha256, world, grants and lock state."""
    with one_line_errors():
        settings = settings_from(ctx, flags)
        listing = toolbook.list_tools(
            settings, cache_dir=default_cache_dir(os.environ), environ=os.environ
        )
    if as_json:
        click.echo(listing.model_dump_json(indent=2))
        return
    if not listing.tools:
        click.echo("No tools.")
    for row in listing.tools:
        click.echo(for_terminal(_row(row)))
    click.echo(for_terminal(f"Lock: {listing.lock_file}"))


def _row(row: ListedTool) -> str:
    lock: str = row.lock
    if row.lock == "changed":
        lock = f"CHANGED (locked {row.locked_sha256}; refused until locked again)"
    grants = ", ".join(row.grants) or "none"
    return (
        f"{row.name}  tools: {', '.join(row.tools)}\n"
        f"  sha256: {row.sha256}\n  world: {row.world}  source: {row.source}  lock: {lock}\n"
        f"  grants: {grants}\n  path: {row.path}"
    )


@click.command("lock")
@agent_options
@click.pass_context
def lock(ctx: click.Context, /, **flags: Any) -> None:
    """Pin every tool a run loads to its current bytes (tools.lock in the config folder)."""
    with one_line_errors():
        settings = settings_from(ctx, flags)
        path, written = toolbook.lock_tools(
            settings, cache_dir=default_cache_dir(os.environ), environ=os.environ
        )
    for entry in written.tools:
        click.echo(for_terminal(f"locked {entry.name}  sha256 {entry.sha256}"))
    click.echo(for_terminal(f"wrote {path}"))
