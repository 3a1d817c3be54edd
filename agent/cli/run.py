"""`agent run`: one request, answered on stdout (and the options `agent chat` shares).

The command only adapts: flags (only those given on the command line) become settings
(`agent.config`, with the user's config file and folders as defaults), an `agent.Session` opens
the tools and the model and runs the request, its events are rendered (`agent.cli.render`, or
one JSON object with `--json`) and logged (`agent.history`, unless `--no-log`). Library errors
become one-line click errors in one place (`one_line_errors`). The model loader comes from the
click context object when one is given (tests pass `agent.fake.FakeLoader`), else llama.cpp.

Exit codes (`EXIT_CODES`): 0 an answer; 1 a failure at run time; 2 unusable settings or usage;
3 the step limit; 4 a reply cut off by --max-tokens; 5 a failing call repeated; 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

import click
from click.core import ParameterSource

from agent import AgentError, ConfigError, RunStopped, Session, resolve_settings
from agent.capabilities import refusal_line
from agent.choices import SYNTAX_CHOICES, TOOL_CHOICES
from agent.cli.render import HumanRenderer, Spinner, echo, footer
from agent.config import AgentSettings, field_help, with_default_dirs
from agent.errors import HistoryError
from agent.events import STOP_REASONS, Event, StopReason
from agent.history import Conversation, HistoryRecorder, HistoryStore
from agent.paths import user_paths
from agent.session import ModelLoader
from agent.toolsmith import AutoApprove
from tool_runner import CapabilityRequest, ToolRunnerError, default_cache_dir, for_terminal
from tool_runner.options import sandbox_options

F = TypeVar("F", bound=Callable[..., Any])

# `--policy` is `policy` in the settings (and the config file), `policy_file` in tool-runner's
_SETTING_FOR_PARAM = {"policy_file": "policy"}

EXIT_INTERRUPTED = 130
EXIT_CODES: dict[StopReason, int] = {"step_limit": 3, "max_tokens": 4, "repeated_call": 5}
EXIT_DENIED = 6
"""`agent run`'s exit code when a tool was denied a capability it asked for (a line on stderr
names the flag that would grant it; the run is never interactive)."""
"""`agent run`'s exit code for a run that ends without an answer (0: answered; 1: a failure at
run time; 2: unusable settings; 130: interrupted)."""
if tuple(EXIT_CODES) != STOP_REASONS:  # pragma: no cover - a new stop reason needs its code
    raise ImportError(f"exit codes {tuple(EXIT_CODES)} do not match {STOP_REASONS}")

# the options that are not settings: how a run is shown and logged
_OUTPUT_PARAMS = ("verbose", "quiet", "stream", "resume_latest", "cid", "no_log")


def _names(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    """A comma-separated list of names as a tuple."""
    return tuple(name.strip() for name in (value or "").split(",") if name.strip())


def agent_options(func: F) -> F:
    """The options `run` and `chat` share. Only the ones given on the command line override the
    config file and the environment; help texts and defaults come from the settings' fields."""
    options = [
        click.option("-m", "--model", help=field_help("model")),
        click.option("--models-dir", type=click.Path(path_type=Path),
                     help=field_help("models_dir")),
        click.option("--config", "config_file", type=click.Path(path_type=Path),
                     help="TOML settings file [default: $LLM_AGENT_CONFIG, else the user's "
                          "config.toml when present]."),
        click.option("-c", "--component", "components", multiple=True,
                     type=click.Path(path_type=Path), help=field_help("components")),
        click.option("--tools-dir", type=click.Path(path_type=Path), help=field_help("tools_dir")),
        click.option("--no-tools", is_flag=True, default=None, help=field_help("no_tools")),
        click.option("--create-tools", is_flag=True, default=None,
                     help=field_help("create_tools")),
        click.option("--syntax", type=click.Choice(SYNTAX_CHOICES),
                     help=field_help("syntax", "auto, from the chat template")),
        click.option("--grammar/--no-grammar", default=None,
                     help=field_help("grammar", "on")),
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
        click.option("--workers", type=int, help=field_help("workers")),
        click.option("--in-process", is_flag=True, default=None, help=field_help("in_process")),
        click.option("--tool-host", metavar="nats://HOST:PORT", help=field_help("tool_host")),
        click.option("-v", "--verbose", count=True,
                     help="-v: a timing line after the run; -vv: also the prompts, per-step "
                          "figures and llama.cpp's log (stderr)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return sandbox_options(func)  # the grant and limit flags, the same as tool-runner's


def session_options(func: F) -> F:
    """The options of `run` and `chat` that are not settings: output and history."""
    options = [
        click.option("-q", "--quiet", is_flag=True,
                     help="Only the answer: no tool progress on stderr."),
        click.option("--stream/--no-stream", default=None,
                     help="Print the answer as it is generated [default: when stdout is a "
                          "terminal]."),
        click.option("--continue", "resume_latest", is_flag=True,
                     help="Continue the latest logged conversation."),
        click.option("--cid", metavar="ID", help="Continue the logged conversation ID."),
        click.option("--no-log", is_flag=True, help="Do not log this conversation."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def settings_from(ctx: click.Context, flags: dict[str, Any]) -> AgentSettings:
    """Settings from the config file, the environment and the flags given on the command line,
    with the default folders filled in; `flags` loses the output options (see `Output`)."""
    config_file = flags.pop("config_file", None)
    given = {
        _SETTING_FOR_PARAM.get(name, name): value
        for name, value in flags.items()
        if name not in _OUTPUT_PARAMS
        and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }
    if flags.get("verbose", 0) >= 2:
        given["verbose"] = True  # llama.cpp's log
    settings = resolve_settings(given, config_file=config_file, environ=os.environ)
    return with_default_dirs(settings, os.environ, Path.cwd())


class Output:
    """How a run is shown: verbosity (0-2), quiet, streaming (None: when stdout is a
    terminal) and the spinner (when stderr is a terminal)."""

    def __init__(self, flags: dict[str, Any], settings: AgentSettings) -> None:
        self.verbosity = max(int(flags.get("verbose") or 0), 2 if settings.verbose else 0)
        self.quiet = bool(flags.get("quiet"))
        stream = flags.get("stream")
        self.stream = is_terminal("stdout") if stream is None else bool(stream)
        self.spinner = Spinner(sys.stderr) if is_terminal("stderr") and not self.quiet else None

    def renderer(self) -> HumanRenderer:
        """A renderer for one run."""
        return HumanRenderer(
            stream=self.stream, quiet=self.quiet, verbosity=self.verbosity, spinner=self.spinner
        )

    def stop_spinner(self) -> None:
        """Erase the status line, if shown."""
        if self.spinner is not None:
            self.spinner.stop()


def is_terminal(name: Literal["stdin", "stdout", "stderr"]) -> bool:
    """Whether the standard stream `name` is a terminal."""
    stream: TextIO | None = {"stdin": sys.stdin, "stdout": sys.stdout, "stderr": sys.stderr}[name]
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed stream
        return False


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Library errors as click errors: unusable settings exit 2, everything else 1."""
    try:
        yield
    except ConfigError as exc:
        raise click.UsageError(for_terminal(str(exc))) from exc
    except (AgentError, ToolRunnerError) as exc:
        raise click.ClickException(for_terminal(str(exc))) from exc


def open_session(
    ctx: click.Context, settings: AgentSettings, output: Output, **kwargs: Any
) -> Session:
    """Open the session (`kwargs` go to `Session.open`), with the status line while loading."""
    loader: ModelLoader | None = ctx.obj
    if output.spinner is not None:
        output.spinner.start("loading the model and tools")
    try:
        return Session.open(
            settings, loader=loader, cache_dir=default_cache_dir(os.environ), **kwargs
        )
    finally:
        output.stop_spinner()


class History:
    """The conversation's log (`--no-log`: none) and where it resumes (`--continue`/`--cid`)."""

    def __init__(self, flags: dict[str, Any]) -> None:
        self.enabled = not flags.get("no_log")
        self.resume_latest = bool(flags.get("resume_latest"))
        self.cid: str | None = flags.get("cid")
        if self.resume_latest and self.cid:
            raise click.UsageError("--continue and --cid cannot be combined")
        self.store: HistoryStore | None = None
        self.recorder: HistoryRecorder | None = None
        self.conversation_id: str | None = None
        """The conversation continued (None: a new one)."""
        self._conversation: Conversation | None = None
        self._warned = False

    @property
    def resuming(self) -> bool:
        """Whether a logged conversation is continued."""
        return self.resume_latest or self.cid is not None

    def prepare(self) -> None:
        """Read the conversation to continue, if any, before the model loads (a bad --cid
        fails at once). Raises HistoryError."""
        if self.resuming and self._conversation is None:
            with HistoryStore.open(user_paths(os.environ).logs_db) as store:
                self._conversation = self._find(store)

    def _find(self, store: HistoryStore) -> Conversation:
        given = self.cid if self.cid is not None else store.latest_id()
        if given is None:
            raise HistoryError("no logged conversation to continue (agent logs list)")
        return store.conversation(given)

    def open(self, session: Session) -> int:
        """Open the log and restore the conversation to continue into `session`; returns the
        number of exchanges restored. Raises HistoryError."""
        if not self.enabled and not self.resuming:
            return 0
        try:
            self.store = HistoryStore.open(user_paths(os.environ).logs_db)
        except HistoryError as exc:
            if self.resuming:
                raise
            self._warn(exc)  # an unusable log does not stop the request
            return 0
        cid: str | None = None
        restored = 0
        if self.resuming:
            conversation = self._conversation or self._find(self.store)
            session.restore(conversation.messages)
            cid, restored = conversation.id, len(conversation.exchanges)
            self.conversation_id = cid
        if self.enabled:
            self.recorder = HistoryRecorder(
                self.store, model=session.model, load_s=session.load_s, conversation_id=cid
            )
        return restored

    def begin(self, prompt: str) -> None:
        """A request starts."""
        if self.recorder is not None:
            self.recorder.begin(prompt)

    def add(self, event: Event) -> None:
        """Log one event; a failure to write is a warning on stderr, once (the answer stands)."""
        if self.recorder is None:
            return
        try:
            self.recorder.add(event)
        except HistoryError as exc:
            self._warn(exc)

    def _warn(self, exc: HistoryError) -> None:
        if not self._warned:
            echo(f"Warning: not logged: {exc}", err=True)
            self._warned = True

    def restart(self) -> None:
        """Go on in a new conversation (a chat's /reset)."""
        if self.recorder is not None:
            self.recorder.restart()

    def close(self) -> None:
        """Close the log."""
        if self.store is not None:
            self.store.close()


def report_host(session: Session, verbosity: int) -> None:
    """With -v, when a worker was restarted, a call crashed or timed out, or a reload failed:
    the tool host's figures in one line (and the reload problems)."""
    stats = session.host_stats()
    if not verbosity or stats is None:
        return
    if stats.restarts or stats.crashed or stats.timeouts or stats.problems:
        click.echo(
            f"Tool host ({stats.transport}): {stats.alive}/{stats.workers} workers alive, "
            f"{stats.calls} calls, {stats.restarts} restarts, {stats.crashed} crashed, "
            f"{stats.timeouts} timed out",
            err=True,
        )
        for problem in stats.problems:
            echo(f"Tool host: {problem}", err=True)


def _prompt_text(option: str | None, argument: str | None) -> str:
    """The request: -p, the argument, or stdin when it is piped; a usage error otherwise."""
    if option is not None and argument is not None:
        raise click.UsageError("give the prompt once: as an argument or with -p, not both")
    text = option if option is not None else argument
    if text is None and not is_terminal("stdin"):
        text = sys.stdin.read()
    if text is None or not text.strip():
        raise click.UsageError("no prompt: pass it as an argument, with -p TEXT, or on stdin")
    return text


@click.command()
@agent_options
@session_options
@click.argument("prompt_argument", metavar="[PROMPT]", required=False)
@click.option("-p", "--prompt", help="The request (or give it as an argument, or on stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole transcript as JSON.")
@click.option(
    "--approve-new-tools",
    is_flag=True,
    help="Let tools the model writes (--create-tools) run without asking.",
)
@click.pass_context
def run(
    ctx: click.Context,
    /,
    prompt_argument: str | None,
    prompt: str | None,
    as_json: bool,
    approve_new_tools: bool,
    **flags: Any,
) -> None:
    """Answer one request, calling the sandboxed tools as the model asks.

    The answer goes to stdout (streamed on a terminal), tool progress to stderr. Exits 0 with
    an answer, 1 on a failure, 2 for bad usage or settings, 3 when the step limit ends the
    run, 4 when a reply is cut off by --max-tokens, 5 when the model keeps repeating a failing
    call, 6 when a tool was denied a capability (a line on stderr names the flag that grants
    it), 130 when interrupted (Ctrl-C).
    """
    stopped: StopReason | None = None
    output: Output | None = None
    refused: list[CapabilityRequest] = []
    try:
        with one_line_errors():
            text = _prompt_text(prompt, prompt_argument)
            history = History(flags)
            settings = settings_from(ctx, flags)
            output = Output(flags, settings)
            approver = AutoApprove() if approve_new_tools else None
            history.prepare()
            with open_session(ctx, settings, output, approver=approver) as session:
                try:
                    history.open(session)
                    stopped = _answer(session, text, output, history, as_json)
                finally:
                    history.close()
                refused = list(session.refused)
    except KeyboardInterrupt:
        if output is not None:
            output.stop_spinner()
        click.echo("\nInterrupted.", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    for request in refused:  # never asked: `agent run` is not interactive
        click.echo(for_terminal(f"agent: {refusal_line(request)}"), err=True)
    if stopped is not None:
        ctx.exit(EXIT_CODES[stopped])
    if refused:
        ctx.exit(EXIT_DENIED)


def _answer(
    session: Session, text: str, output: Output, history: History, as_json: bool
) -> StopReason | None:
    """Run the request, rendering and logging its events; returns why it stopped, if it did."""
    recorder = session.recorder()
    show = recorder.add if as_json else output.renderer()
    stopped: StopReason | None = None
    started = time.perf_counter()
    history.begin(text)
    for event in session.ask(text):
        show(event)
        if not as_json:
            recorder.add(event)
        history.add(event)
        if isinstance(event, RunStopped):
            stopped = event.reason
    transcript = recorder.transcript()
    if as_json:
        click.echo(transcript.model_dump_json(indent=2))
    elif output.verbosity >= 1:
        echo(footer(transcript, time.perf_counter() - started), err=True)
    report_host(session, output.verbosity)
    return stopped


# the names other commands imported before these became public
_agent_options = agent_options
_one_line_errors = one_line_errors
_settings = settings_from

__all__ = [
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "History",
    "Output",
    "agent_options",
    "is_terminal",
    "one_line_errors",
    "open_session",
    "report_host",
    "run",
    "session_options",
    "settings_from",
]
