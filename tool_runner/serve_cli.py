"""`tool-runner worker`: serve tools as a NATS service until interrupted.

    tool-runner worker --nats nats://127.0.0.1:4222 --tools-dir components [--workers 2]

The components (`-c`, repeatable, or every `*.wasm` of `--tools-dir`) run on a local
`WorkerPool` under the sandbox flags' policy, which applies to requests that bring none (the
agent's requests bring theirs). SIGINT or SIGTERM stops it; exit codes as `tool-runner`'s (2: a
load, policy or connection error, one line on stderr). This module only adapts.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tool_runner import PoolSettings, ToolRunnerError, WorkerPool, default_cache_dir
from tool_runner.options import policy_from_params, sandbox_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--nats", "url", required=True, metavar="URL", help="NATS server, nats://HOST:PORT.")
@click.option(
    "-c", "--component", "components", multiple=True, type=click.Path(path_type=Path),
    help="A tool component (repeatable).",
)  # fmt: skip
@click.option(
    "--tools-dir", type=click.Path(path_type=Path), help="Serve every *.wasm here (no -c given)."
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Worker processes.")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Do not use the on-disk compile cache.")
@sandbox_options
def worker(
    url: str,
    components: tuple[Path, ...],
    tools_dir: Path | None,
    workers: int,
    no_cache: bool,
    **sandbox: Any,
) -> None:
    """Serve tool components to agents over NATS (one endpoint per tool, load-balanced)."""
    if not components and tools_dir is None:
        raise click.UsageError("give -c COMPONENT or --tools-dir DIR")
    policy = policy_from_params(sandbox)
    settings = PoolSettings(workers=workers)
    with WorkerPool(
        components,
        policy,
        tools_dir=None if components else tools_dir,
        cache_dir=default_cache_dir(os.environ),
        cache=not no_cache,
        settings=settings,
    ) as pool:
        names = ", ".join(m.name for m in pool.tools())
        line = f"tool-runner: serving {names} at {url} ({workers} workers)"
        asyncio.run(_serve_until_signalled(url, pool, lambda: click.echo(line, err=True)))


async def _serve_until_signalled(url: str, pool: WorkerPool, ready: Callable[[], None]) -> None:
    from tool_runner.nats_service import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(url, pool, stop, ready)


def main(argv: list[str]) -> None:
    """`tool-runner worker ARGS`: run the command with one-line errors (exit 2)."""
    try:
        worker.main(args=argv, prog_name="tool-runner worker", standalone_mode=False)
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.ClickException as exc:
        click.echo(f"tool-runner: error: {exc.format_message()}", err=True)
        raise SystemExit(2) from None
    except ToolRunnerError as exc:
        click.echo(f"tool-runner: error: {exc}", err=True)
        raise SystemExit(2) from None
