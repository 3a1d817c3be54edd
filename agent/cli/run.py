"""`agent run` (one request) and `agent chat` (an interactive session).

The commands only adapt: flags (only those given on the command line) become settings
(`agent.config`), an `agent.Session` opens the tools and the model and runs each request, and
its events are rendered (`agent.cli.render`, or one JSON object with `--json`). Library errors
become one-line click errors in one place: exit 2 for bad settings, 1 for anything that fails at
run time; a run that ends without an answer exits with its reason's code (`EXIT_CODES`). The
model loader comes from the click context object when one is given (tests pass
`agent.fake.FakeLoader`), else llama.cpp.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from agent import AgentError, ConfigError, RunStopped, Session, resolve_settings
from agent.choices import SYNTAX_CHOICES, TOOL_CHOICES
from agent.cli.render import HumanRenderer
from agent.config import AgentSettings, field_help
from agent.events import STOP_REASONS, StopReason
from agent.session import ModelLoader
from tool_runner import ToolRunnerError, default_cache_dir, for_terminal
from tool_runner.options import sandbox_options

F = TypeVar("F", bound=Callable[..., Any])

# `--policy` is `policy` in the settings (and the config file), `policy_file` in tool-runner's
_SETTING_FOR_PARAM = {"policy_file": "policy"}

EXIT_CODES: dict[StopReason, int] = {"step_limit": 3, "max_tokens": 4, "repeated_call": 5}
"""`agent run`'s exit code for a run that ends without an answer (0: answered; 1: a failure at
run time; 2: unusable settings)."""
if tuple(EXIT_CODES) != STOP_REASONS:  # pragma: no cover - a new stop reason needs its code
    raise ImportError(f"exit codes {tuple(EXIT_CODES)} do not match {STOP_REASONS}")


def _names(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    """A comma-separated list of names as a tuple."""
    return tuple(name.strip() for name in (value or "").split(",") if name.strip())


def _agent_options(func: F) -> F:
    """The options `run` and `chat` share. Only the ones given on the command line override the
    config file and the environment; help texts and defaults come from the settings' fields."""
    options = [
        click.option("-m", "--model", help=field_help("model")),
        click.option("--models-dir", type=click.Path(path_type=Path),
                     help=field_help("models_dir")),
        click.option("--config", "config_file", type=click.Path(path_type=Path),
                     help="TOML settings file (also $LLM_AGENT_CONFIG)."),
        click.option("-c", "--component", "components", multiple=True,
                     type=click.Path(path_type=Path), help=field_help("components")),
        click.option("--tools-dir", type=click.Path(path_type=Path), help=field_help("tools_dir")),
        click.option("--syntax", type=click.Choice(SYNTAX_CHOICES),
                     help=field_help("syntax", "auto, from the chat template")),
        click.option("--grammar/--no-grammar", default=None,
                     help=field_help("grammar", "on for the directive syntax")),
        click.option("--tool-choice", type=click.Choice(TOOL_CHOICES),
                     help=field_help("tool_choice")),
        click.option("--max-steps", type=int, help=field_help("max_steps")),
        click.option("--parallel-calls/--no-parallel-calls", default=None,
                     help=field_help("parallel_calls")),
        click.option("--tools", metavar="NAME,...|nats://HOST:PORT", callback=_names,
                     help=field_help("tools")),
        click.option("--system", help=field_help("system")),
        click.option("--ctx", type=int, help=field_help("ctx")),
        click.option("--gpu-layers", type=int, help=field_help("gpu_layers")),
        click.option("--threads", type=int, help=field_help("threads", "llama.cpp's choice")),
        click.option("--seed", type=int, help=field_help("seed", "random")),
        click.option("--temperature", type=float, help=field_help("temperature")),
        click.option("--top-p", type=float, help=field_help("top_p")),
        click.option("--top-k", type=int, help=field_help("top_k")),
        click.option("--min-p", type=float, help=field_help("min_p")),
        click.option("--repeat-penalty", type=float, help=field_help("repeat_penalty")),
        click.option("--max-tokens", type=int, help=field_help("max_tokens")),
        click.option("-v", "--verbose", is_flag=True, help=field_help("verbose")),
        click.option("--workers", type=int, help=field_help("workers")),
        click.option("--in-process", is_flag=True, default=None, help=field_help("in_process")),
        click.option("--tool-host", metavar="nats://HOST:PORT", help=field_help("tool_host")),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return sandbox_options(func)  # the grant and limit flags, the same as tool-runner's


def _settings(ctx: click.Context, flags: dict[str, Any]) -> AgentSettings:
    """Settings from the config file, the environment and the flags given on the command line."""
    config_file = flags.pop("config_file", None)
    given = {
        _SETTING_FOR_PARAM.get(name, name): value
        for name, value in flags.items()
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }
    return resolve_settings(given, config_file=config_file, environ=os.environ)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Library errors as click errors: unusable settings exit 2, everything else 1."""
    try:
        yield
    except ConfigError as exc:
        raise click.UsageError(for_terminal(str(exc))) from exc
    except (AgentError, ToolRunnerError) as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc


def _open(ctx: click.Context, flags: dict[str, Any]) -> tuple[AgentSettings, Session]:
    settings = _settings(ctx, flags)
    loader: ModelLoader | None = ctx.obj
    cache_dir = default_cache_dir(os.environ)
    return settings, Session.open(settings, loader=loader, cache_dir=cache_dir)


@click.command()
@_agent_options
@click.option("-p", "--prompt", required=True, help="The request.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole transcript as JSON.")
@click.pass_context
def run(ctx: click.Context, /, prompt: str, as_json: bool, **flags: Any) -> None:
    """Answer one request, calling the sandboxed tools as the model asks.

    Exits 0 with an answer, 3 when the step limit ends the run, 4 when a reply is cut off by
    --max-tokens, 5 when the model keeps repeating a failing call (1: failure, 2: bad settings).
    """
    stopped: StopReason | None = None
    with _one_line_errors():
        settings, session = _open(ctx, flags)
        with session:
            recorder = session.recorder()
            show = recorder.add if as_json else HumanRenderer(verbose=settings.verbose)
            for event in session.ask(prompt):
                show(event)
                if isinstance(event, RunStopped):
                    stopped = event.reason
            if as_json:
                click.echo(recorder.transcript().model_dump_json(indent=2))
            else:
                _report_host(session, settings.verbose)
    if stopped is not None:
        ctx.exit(EXIT_CODES[stopped])


@click.command()
@_agent_options
@click.pass_context
def chat(ctx: click.Context, /, **flags: Any) -> None:
    """An interactive session: keeps the conversation; Ctrl-D, Ctrl-C or /exit to quit."""
    with _one_line_errors():
        settings, session = _open(ctx, flags)
        with session:
            names = ", ".join(spec.name for spec in session.tools)
            click.echo(for_terminal(f"Model {Path(session.model).name}; tools: {names or 'none'}."))
            click.echo("Type a request; /reset starts over, /exit (or Ctrl-D) quits.")
            renderer = HumanRenderer(verbose=settings.verbose, show_answer=False)
            try:
                _converse(session, renderer)
            except KeyboardInterrupt:
                click.echo()
            click.echo("Bye.")
            _report_host(session, settings.verbose)


def _report_host(session: Session, verbose: bool) -> None:
    """With -v, when a worker was restarted, a call crashed or timed out, or a reload failed:
    the tool host's figures in one line (and the reload problems)."""
    stats = session.host_stats()
    if not verbose or stats is None:
        return
    if stats.restarts or stats.crashed or stats.timeouts or stats.problems:
        click.echo(
            f"Tool host ({stats.transport}): {stats.alive}/{stats.workers} workers alive, "
            f"{stats.calls} calls, {stats.restarts} restarts, {stats.crashed} crashed, "
            f"{stats.timeouts} timed out",
            err=True,
        )
        for problem in stats.problems:
            click.echo(for_terminal(f"Tool host: {problem}"), err=True)


def _converse(session: Session, renderer: HumanRenderer) -> None:
    while True:
        click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            return
        text = line.strip()
        if text in ("/exit", "/quit"):
            return
        if text == "/reset":
            session.reset()
            click.echo("(conversation cleared)")
        elif text:
            for event in session.ask(text):
                renderer(event)


__all__ = ["chat", "run"]
