"""PLACEHOLDER: being built in this session."""

from __future__ import annotations

import click


@click.command("show", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def show(args: tuple[str, ...]) -> None:
    """(not built yet)."""
    raise click.UsageError("agent tools show is not built yet")


@click.command("remove", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def remove(args: tuple[str, ...]) -> None:
    """(not built yet)."""
    raise click.UsageError("agent tools remove is not built yet")


@click.command("new", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def new(args: tuple[str, ...]) -> None:
    """(not built yet)."""
    raise click.UsageError("agent tools new is not built yet")
