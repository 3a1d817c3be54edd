"""PLACEHOLDER: `agent serve` is being built in this session."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def serve(args: tuple[str, ...]) -> None:
    """An OpenAI-compatible HTTP server (not built yet)."""
    raise click.UsageError("agent serve is not built yet")
