"""`agent tools show|remove|new`: the library of self-built tools (agent.toolsmith).

Only adapts: the library folder comes from the user's paths, `agent.toolsmith` does the work,
and its errors become one-line click errors.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from agent.approval import Refuse
from agent.paths import user_paths
from agent.toolsmith import DraftError, Library, Toolsmith, ToolsmithError, check_draft
from agent.toolsmith.draft import draft_from_source
from agent.toolsmith.library import describe
from tool_runner import for_terminal


def _library() -> Library:
    return Library(user_paths(os.environ).library_dir)


@click.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Print a library tool's record and its full source."""
    try:
        stored = _library().load(name)
    except ToolsmithError as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc
    click.echo(for_terminal(describe(stored.entry)))
    click.echo("--- source ---")
    click.echo(for_terminal(stored.source))


@click.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Delete a tool from the library."""
    try:
        _library().remove(name)
    except ToolsmithError as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc
    click.echo(f"removed {name}")


@click.command("new")
@click.option(
    "--from",
    "source_file",
    required=True,
    type=click.Path(path_type=Path),
    help="A Python file defining the tool's function.",
)
@click.option("--name", help="The function to use (default: the file's only function).")
@click.option("--description", help="The tool's description (default: the docstring).")
def new(source_file: Path, name: str | None, description: str | None) -> None:
    """Add a tool to the library from a Python file (you approve it by adding it)."""
    try:
        source = source_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {source_file}: {exc}") from exc
    library = _library()
    try:
        draft = draft_from_source(source, name=name, description=description)
        check_draft(draft, taken=set())
        with Toolsmith(library, Refuse()) as smith:
            stored = smith.save(draft, approved_by=f"{_user()} (agent tools new)")
    except (DraftError, ToolsmithError) as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc
    params = ", ".join(f"{p.name}: {p.type}" for p in stored.metadata.params)
    click.echo(for_terminal(f"added {stored.metadata.name}({params}) to {library.directory}"))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"
