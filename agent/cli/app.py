"""PLACEHOLDER: `agent app` is being built in this session."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def app(args: tuple[str, ...]) -> None:
    """Apps and agent teams from one config file (not built yet)."""
    raise click.UsageError("agent app is not built yet")
