"""`agent app`: apps and agent teams from one file (`run`, `chat`, `check`, `info`, `clean`).

The commands only adapt: `agent.app.load_app` checks the file, `agent.app.Team` runs it, and
`agent.app.inspect` says what `check`/`info`/`clean` found. An app file that cannot be used is a
one-line error naming the key and line, exit 2; a failure at run time exits 1; a request that
ends without an answer exits as `agent run` does (3: out of steps, also the team's step budget
or delegation depth; 4: cut off by max_tokens; 5: a repeated failing call).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from agent.app import Team, TeamEvent, TeamReply, load_app
from agent.app.inspect import AppReport, app_info, check_app, clean
from agent.app.sessions import DEFAULT_SESSION, SessionStore, check_session_name
from agent.cli.chat import open_reader
from agent.errors import AgentError, ConfigError
from agent.events import (
    Answer,
    CallRepeated,
    RunStopped,
    StepFinished,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.models import default_models_dir
from agent.paths import user_paths
from agent.session import ModelLoader
from agent.sizes import format_size
from tool_runner import ToolRunnerError, default_cache_dir, for_terminal

EXIT_FOR_STOP = {
    "step_limit": 3,
    "team_step_limit": 3,
    "depth_limit": 3,
    "max_tokens": 4,
    "repeated_call": 5,
}
"""Exit codes of a request that ended without an answer (0: answered, 1: failure, 2: bad file)."""

PREVIEW_CHARS = 160


@click.group()
def app() -> None:
    """Apps and agent teams from one config file (app.toml)."""


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except ConfigError as exc:  # AppFileError included: the file, key and line
        raise click.UsageError(for_terminal(str(exc))) from exc
    except (AgentError, ToolRunnerError) as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc


_app_file = click.argument("app_file", metavar="APP", type=click.Path(path_type=Path))
_session = click.option(
    "--session",
    help="Keep the conversation under this name and resume it next time (memory: per session, "
    f"'{DEFAULT_SESSION}' when not given).",
)
_verbose = click.option("-v", "--verbose", is_flag=True, help="Show every agent's steps.")


@app.command("run")
@_app_file
@click.argument("words", nargs=-1)
@click.option("-p", "--prompt", help="The request (or as arguments, or on stdin).")
@_session
@click.option("--json", "as_json", is_flag=True, help="Print the reply and every event as JSON.")
@_verbose
@click.pass_context
def run_app(
    ctx: click.Context,
    /,
    app_file: Path,
    words: tuple[str, ...],
    prompt: str | None,
    session: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Send one request to the app's entry agent."""
    text = prompt if prompt is not None else " ".join(words)
    if not text and not sys.stdin.isatty():
        text = sys.stdin.read().strip()
    if not text:
        raise click.UsageError("no request: give -p TEXT, words after APP, or text on stdin")
    with _one_line_errors():
        team, store, name = _open_team(ctx, app_file, session)
        with team:
            events: list[TeamEvent] = []
            show = events.append if as_json else TeamRenderer(verbose=verbose)
            try:
                reply = team.ask(text, observe=show)
            except KeyboardInterrupt:
                click.echo("Interrupted.", err=True)
                ctx.exit(130)
            if session is not None:
                store.save(name, team.history)
    if as_json:
        click.echo(_json_reply(reply, events))
    else:
        _print_reply(reply)
    if reply.stopped is not None:
        ctx.exit(EXIT_FOR_STOP[reply.stopped])


@app.command("chat")
@_app_file
@_session
@_verbose
@click.pass_context
def chat_app(ctx: click.Context, /, app_file: Path, session: str | None, verbose: bool) -> None:
    """Talk to the app's entry agent: /help, /reset, /exit; Ctrl-C cancels a reply."""
    with _one_line_errors():
        team, store, name = _open_team(ctx, app_file, session)
        with team:
            entry = team.app.spec.app.entry
            resumed = len(team.history)
            click.echo(
                for_terminal(
                    f"App {team.app.name}: talking to {entry}"
                    + (f"; session {name} resumed ({resumed} messages)" if resumed else "")
                    + ". /help for commands."
                )
            )
            renderer = TeamRenderer(verbose=verbose)
            for line in _lines():
                command = line.strip()
                if not command:
                    continue
                if command in ("/exit", "/quit"):
                    break
                if command == "/help":
                    click.echo("/reset forgets the conversation, /exit (or Ctrl-D) quits.")
                    continue
                if command == "/reset":
                    team.reset()
                    click.echo("(conversation cleared)")
                    if session is not None:
                        store.save(name, team.history)
                    continue
                if command.startswith("/"):
                    unknown = command.split()[0]
                    click.echo(for_terminal(f"unknown command {unknown}; /help lists them"))
                    continue
                try:
                    reply = team.ask(command, observe=renderer)
                except KeyboardInterrupt:
                    click.echo("\n(reply cancelled)", err=True)
                    continue
                _print_reply(reply)
                if session is not None:
                    store.save(name, team.history)
            click.echo("Bye.")


def _lines() -> Iterator[str]:
    """The user's lines until Ctrl-D (edited with history on a terminal, as `agent chat`); a
    Ctrl-C at the prompt just starts a new line."""
    reader = open_reader(os.environ)
    while True:
        try:
            yield reader.read("> ")
        except EOFError:
            return
        except KeyboardInterrupt:
            click.echo()


@app.command("check")
@_app_file
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def check_command(ctx: click.Context, /, app_file: Path, as_json: bool) -> None:
    """Check the file, load every component, check every grant and resolve every model
    (no model is run)."""
    with _one_line_errors():
        report = check_app(
            load_app(app_file), loader=ctx.obj, cache_dir=_cache_dir(), models_dir=_models_dir()
        )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    _print_report(report)
    click.echo(
        f"OK: {len(report.agents)} agents, {len(report.tools)} tools, {len(report.models)} models."
    )


@app.command("info")
@_app_file
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def info_command(ctx: click.Context, /, app_file: Path, as_json: bool) -> None:
    """The app's agents, their tools and grants, its models, sessions and what is cached."""
    paths = user_paths(os.environ)
    with _one_line_errors():
        report = app_info(
            load_app(app_file),
            data_dir=paths.data_dir,
            cache_dir=_cache_dir(),
            loader=ctx.obj,
            models_dir=_models_dir(),
        )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    _print_report(report)
    sessions = ", ".join(f"{k} ({v})" for k, v in report.sessions.items()) or "none"
    click.echo(for_terminal(f"sessions: {sessions}"))
    cache = format_size(report.compile_cache_bytes)
    click.echo(for_terminal(f"compiled components: {cache} in {report.compile_cache}"))


@app.command("clean")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def clean_command(dry_run: bool, as_json: bool) -> None:
    """Remove the compiled-component cache and stale partial downloads; say what it freed."""
    with _one_line_errors():
        report = clean(cache_dir=_cache_dir(), models_dir=_models_dir(), dry_run=dry_run)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    for path in report.removed:
        click.echo(for_terminal(f"{'would remove' if dry_run else 'removed'} {path}"))
    verb = "would free" if dry_run else "freed"
    click.echo(f"{verb} {format_size(report.freed_bytes)}")


def _cache_dir() -> Path:
    return default_cache_dir(os.environ)


def _models_dir() -> Path:
    return default_models_dir(os.environ)


def _open_team(
    ctx: click.Context, app_file: Path, session: str | None
) -> tuple[Team, SessionStore, str]:
    app_ = load_app(app_file)
    name = check_session_name(session if session is not None else DEFAULT_SESSION)
    store = SessionStore.for_app(app_, user_paths(os.environ).data_dir)
    history = store.load(name) if session is not None else ()
    loader: ModelLoader | None = ctx.obj
    team = Team.open(
        app_,
        loader=loader,
        cache_dir=_cache_dir(),
        history=history,
        memory_file=store.memory_file(name),
        models_dir=_models_dir(),
    )
    return team, store, name


class TeamRenderer:
    """Every agent's progress on stderr, indented by delegation depth; the answer is printed
    by the command. All text passes `for_terminal`."""

    def __init__(self, *, verbose: bool = False) -> None:
        self.verbose = verbose

    def __call__(self, item: TeamEvent) -> None:
        event = item.event
        pad = "  " * item.depth
        who = f"{pad}[{item.agent} {item.t:6.2f}s]"
        if isinstance(event, ToolCallStarted):
            args = ", ".join(f"{k}={_preview(v)}" for k, v in event.call.arguments.items())
            _err(f"{who} -> {event.call.name}({args})")
        elif isinstance(event, (ToolCallFinished, CallRepeated)):
            result = event.result
            text = result.output if result.ok else f"error: {result.error}"
            repeated = " (repeated call, not run again)" if isinstance(event, CallRepeated) else ""
            _err(f"{who} <- {event.call.name}: {_preview(text or '')}{repeated}")
        elif isinstance(event, Answer) and item.depth > 0:
            _err(f"{who} answered: {_preview(event.text)}")
        elif isinstance(event, RunStopped):
            _err(f"{who} stopped: {event.message}")
        elif isinstance(event, StepFinished) and self.verbose:
            c = event.completion
            _err(
                f"{who} step {event.step}: {c.prompt_tokens} prompt tokens "
                f"({c.cached_tokens} cached), {c.completion_tokens} generated, {c.total_s:.2f}s"
            )
        elif isinstance(event, Token):
            return


def _preview(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _err(text: str) -> None:
    click.echo(for_terminal(text), err=True)


def _print_reply(reply: TeamReply) -> None:
    if reply.answer is not None:
        click.echo(for_terminal(reply.answer))
    else:
        _err(f"No answer: {reply.message}")


def _json_reply(reply: TeamReply, events: list[TeamEvent]) -> str:
    kept = [e.model_dump(mode="json") for e in events if not isinstance(e.event, Token)]
    return json.dumps({**reply.model_dump(mode="json"), "events": kept}, indent=2)


def _print_report(report: AppReport) -> None:
    click.echo(for_terminal(f"app {report.app} ({report.path}); entry agent: {report.entry}"))
    chain = " -> ".join(report.longest_chain)
    click.echo(
        for_terminal(
            f"limits: max_depth {report.max_depth}, max_total_steps {report.max_total_steps}; "
            f"longest delegation chain: {chain}"
        )
    )
    if len(report.longest_chain) - 1 > report.max_depth:
        _err(f"warning: the chain {chain} is deeper than max_depth; it will be stopped")
    for agent in report.agents:
        tools = ", ".join(agent.tools) or "none"
        click.echo(
            for_terminal(
                f"agent {agent.name}{' (entry)' if agent.entry else ''}: model {agent.model}; "
                f"tools: {tools}; grants: {agent.grants.text()}"
            )
        )
    for tool in report.tools:
        digest = ", ".join(d[:12] for d in tool.sha256)
        click.echo(
            for_terminal(
                f"tool {tool.name}: {', '.join(tool.tools) or 'no tools'} "
                f"(sha256 {digest}); grants: {tool.grants.text()}"
            )
        )
    for model in report.models:
        click.echo(for_terminal(f"model {model.name}: {model.path} ({format_size(model.size)})"))


__all__ = ["TeamRenderer", "app"]
