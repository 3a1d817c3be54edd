"""PLACEHOLDER: `agent logs` is being built in this session."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def logs(args: tuple[str, ...]) -> None:
    """Past runs and chats (not built yet)."""
    raise click.UsageError("agent logs is not built yet")
