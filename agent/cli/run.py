"""`agent run` (one request) and `agent chat` (an interactive session).

The commands only adapt: they resolve settings (`agent.config`), load the tools
(`agent.tools`) and the model (`agent.backend`), drive `agent.loop.run_agent` and render its
events (`agent.cli.render`, or one JSON object with `--json`). Library errors become one-line
click errors: exit 2 for bad settings, 1 for anything that fails at run time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from agent.backend import LlamaBackend, load_backend
from agent.cli.render import HumanRenderer
from agent.config import AgentSettings, resolve_settings
from agent.errors import AgentError, ConfigError
from agent.events import Answer, Event, StepLimitReached
from agent.loop import choose_syntax, run_agent
from agent.messages import ChatMessage
from agent.tools import RunnerExecutor, build_policy, open_executor
from agent.transcript import TranscriptRecorder
from tool_runner import ToolRunnerError

F = TypeVar("F", bound=Callable[..., Any])

_SYNTAX_CHOICES = ["auto", "directive", "hermes", "llama3", "mistral", "json"]


def _agent_options(func: F) -> F:
    """The options `run` and `chat` share; each defaults to None ("not given") so that the
    config file and the environment can supply it."""
    options = [
        click.option("-m", "--model",
                     help="GGUF path or registry name.  [default: phi-mini-instruct]"),
        click.option("--models-dir", type=click.Path(path_type=Path), help="Where models live."),
        click.option("--config", "config_file", type=click.Path(path_type=Path),
                     help="TOML settings file (also $LLM_AGENT_CONFIG)."),
        click.option("-c", "--component", "components", multiple=True,
                     type=click.Path(path_type=Path), help="A tool component (repeatable)."),
        click.option("--tools-dir", type=click.Path(path_type=Path),
                     help="Load every component here when no -c is given.  [default: components]"),
        click.option("--syntax", type=click.Choice(_SYNTAX_CHOICES),
                     help="Tool-call syntax.  [default: auto, from the chat template]"),
        click.option("--grammar/--no-grammar", default=None,
                     help="Constrained decoding.  [default: on for the directive syntax]"),
        click.option("--tool-choice", type=click.Choice(["auto", "required"]),
                     help="'required' makes the first step a tool call."),
        click.option("--max-steps", type=int, help="Model turns before giving up.  [default: 5]"),
        click.option("--system", help="Replace the assistant's role preamble."),
        click.option("--ctx", type=int, help="Context size in tokens.  [default: 4096]"),
        click.option("--gpu-layers", type=int, help="Layers to offload; -1 all.  [default: -1]"),
        click.option("--threads", type=int, help="CPU threads.  [default: llama.cpp's choice]"),
        click.option("--seed", type=int, help="Sampling seed.  [default: random]"),
        click.option("--temperature", type=float, help="[default: 0.2]"),
        click.option("--top-p", type=float, help="[default: 0.95]"),
        click.option("--top-k", type=int, help="[default: 40]"),
        click.option("--min-p", type=float, help="[default: 0.05]"),
        click.option("--repeat-penalty", type=float, help="[default: 1.0]"),
        click.option("--max-tokens", type=int, help="Tokens per model turn.  [default: 512]"),
        click.option("--policy", type=click.Path(path_type=Path),
                     help="Sandbox policy file (TOML or JSON)."),
        click.option("--dir", "dirs", multiple=True, metavar="HOST[:GUEST][:ro|rw]",
                     help="Grant the tools a directory (repeatable)."),
        click.option("--env", multiple=True, metavar="NAME[=VALUE]",
                     help="Grant the tools an environment variable (repeatable)."),
        click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST",
                     help="Let the tools http-get from HOST (repeatable)."),
        click.option("--timeout", type=float, metavar="SECONDS", help="Per tool call."),
        click.option("--memory", type=int, metavar="MIB", help="Memory cap per tool call."),
        click.option("-v", "--verbose", is_flag=True, default=None,
                     help="Show prompts, per-step figures and llama.cpp's log."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _settings(flags: dict[str, Any]) -> AgentSettings:
    config_file = flags.pop("config_file", None)
    flags = {k: (None if v is False and k == "verbose" else v) for k, v in flags.items()}
    try:
        return resolve_settings(flags, config_file=config_file, environ=os.environ)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _model_path(settings: AgentSettings) -> Path:
    from agent.models import resolve_model

    return resolve_model(settings.model, models_dir=settings.models_dir)


@contextmanager
def _session(settings: AgentSettings) -> Iterator[tuple[RunnerExecutor, LlamaBackend, float]]:
    """Find the model, load the tools (quick to fail), then the model; both closed on exit.
    Maps library errors to one-line click errors."""
    try:
        policy = build_policy(settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        with ExitStack() as stack:
            path = _model_path(settings)
            executor = stack.enter_context(
                open_executor(settings.components, settings.tools_dir, policy)
            )
            started = time.perf_counter()
            backend = stack.enter_context(
                load_backend(settings.model_settings(path), settings.sampling())
            )
            yield executor, backend, time.perf_counter() - started
    except (AgentError, ToolRunnerError) as exc:
        if isinstance(exc, ConfigError):
            raise click.UsageError(str(exc)) from exc
        raise click.ClickException(str(exc)) from exc


def _drive(
    prompt: str | Sequence[ChatMessage],
    backend: LlamaBackend,
    executor: RunnerExecutor,
    settings: AgentSettings,
    on_event: Callable[[Event], None],
) -> Event | None:
    """Run the loop, passing each event to `on_event`; returns the final event."""
    last: Event | None = None
    try:
        for event in run_agent(prompt, backend, executor, settings.loop()):
            on_event(event)
            last = event
    except (AgentError, ToolRunnerError) as exc:
        raise click.ClickException(str(exc)) from exc
    return last


@click.command()
@_agent_options
@click.option("-p", "--prompt", required=True, help="The request.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole transcript as JSON.")
def run(prompt: str, as_json: bool, **flags: Any) -> None:
    """Answer one request, calling the sandboxed tools as the model asks."""
    settings = _settings(flags)
    with _session(settings) as (executor, backend, load_s):
        if as_json:
            syntax = choose_syntax(settings.loop(), backend.chat_template).name
            recorder = TranscriptRecorder(
                model=str(backend.model_path), syntax=syntax, load_s=load_s
            )
            _drive(prompt, backend, executor, settings, recorder.add)
            click.echo(recorder.transcript().model_dump_json(indent=2))
        else:
            _drive(prompt, backend, executor, settings, HumanRenderer(verbose=settings.verbose))


@click.command()
@_agent_options
def chat(**flags: Any) -> None:
    """An interactive session: keeps the conversation; Ctrl-D, Ctrl-C or /exit to quit."""
    settings = _settings(flags)
    with _session(settings) as (executor, backend, _):
        names = ", ".join(spec.name for spec in executor.specs())
        click.echo(f"Model {backend.model_path.name}; tools: {names or 'none'}.")
        click.echo("Type a request; /reset starts over, /exit (or Ctrl-D) quits.")
        renderer = HumanRenderer(verbose=settings.verbose, show_answer=False)
        history: list[ChatMessage] = []
        try:
            while True:
                click.echo("> ", nl=False)
                line = sys.stdin.readline()
                if not line:
                    click.echo()
                    break
                text = line.strip()
                if text in ("/exit", "/quit"):
                    break
                if text == "/reset":
                    history = []
                    click.echo("(conversation cleared)")
                    continue
                if not text:
                    continue
                conversation = [*history, ChatMessage(role="user", content=text)]
                last = _drive(conversation, backend, executor, settings, renderer)
                if isinstance(last, (Answer, StepLimitReached)):
                    history = list(last.messages)
        except KeyboardInterrupt:
            click.echo()
        click.echo("Bye.")


__all__ = ["chat", "run"]
