"""PLACEHOLDER: being built in this session."""

from __future__ import annotations

import click


@click.command("list", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def list_tools(args: tuple[str, ...]) -> None:
    """(not built yet)."""
    raise click.UsageError("agent tools list is not built yet")


@click.command("lock", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def lock(args: tuple[str, ...]) -> None:
    """(not built yet)."""
    raise click.UsageError("agent tools lock is not built yet")
