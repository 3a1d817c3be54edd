"""`agent chat`: an interactive session that keeps the conversation.

On a terminal, lines are read with prompt_toolkit (editing, and history recalled with the up
arrow from a file in the user's data folder); otherwise, plainly from stdin, so that a script can
drive it. A line starting with `/` is a command, handled here and never sent to the model
(`COMMANDS`; `//text` sends `/text`). Ctrl-C during a reply cancels that turn: the conversation
stays as it was before it. Ctrl-C at the prompt clears the line; Ctrl-D (or /exit) quits.
Requests that need a person's yes are asked on the terminal (`agent.cli.approve`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, Protocol

import click
from pydantic import BaseModel, ConfigDict

from agent import Session
from agent.cli.approve import TerminalApprover
from agent.cli.render import echo, footer
from agent.cli.run import (
    EXIT_INTERRUPTED,
    History,
    Output,
    agent_options,
    is_terminal,
    one_line_errors,
    open_session,
    report_host,
    session_options,
    settings_from,
)
from agent.messages import ChatMessage
from agent.paths import user_paths
from agent.transcript import Transcript

HISTORY_FILE = "chat_history"  # in the user's data folder: the lines typed, for the up arrow


class LineReader(Protocol):
    """Reads the person's next line; EOFError at the end (Ctrl-D), KeyboardInterrupt on
    Ctrl-C."""

    interactive: bool

    def read(self, prompt: str) -> str:
        """The next line, without its newline."""
        ...


class PlainReader:
    """Lines from stdin (a pipe, a file, a test's input)."""

    interactive = False

    def read(self, prompt: str) -> str:
        """The next line from stdin."""
        click.echo(prompt, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            raise EOFError
        return line.rstrip("\n")


class TerminalReader:
    """Lines edited with prompt_toolkit, with the history kept in `history_file`."""

    interactive = True

    def __init__(self, history_file: Path) -> None:
        from prompt_toolkit import PromptSession  # only on a terminal: its import is not free
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        try:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history: FileHistory | InMemoryHistory = FileHistory(str(history_file))
        except OSError:
            history = InMemoryHistory()  # no writable data folder: recall this session only
        self._session: PromptSession[str] = PromptSession(history=history)

    def read(self, prompt: str) -> str:
        """The next line, edited on the terminal."""
        return self._session.prompt(prompt)


def open_reader(environ: Mapping[str, str]) -> LineReader:
    """prompt_toolkit when stdin and stdout are a terminal, else plain stdin."""
    if is_terminal("stdin") and is_terminal("stdout"):
        return TerminalReader(user_paths(environ).data_dir / HISTORY_FILE)
    return PlainReader()


class SavedChat(BaseModel):
    """What `/save FILE` writes: the conversation and each exchange's transcript."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    conversation_id: str | None
    messages: tuple[ChatMessage, ...]
    exchanges: tuple[Transcript, ...]


class Chat:
    """One chat: the session, how it is shown and logged, and the commands."""

    def __init__(self, session: Session, output: Output, history: History) -> None:
        self.session = session
        self.output = output
        self.history = history
        self.exchanges: list[Transcript] = []
        self.done = False
        self._renderer = output.renderer()  # one for the chat: -vv shows each prompt's new part

    def command(self, line: str) -> None:
        """Carry out a `/command` line (an unknown one is refused, never sent)."""
        name, _, argument = line.partition(" ")
        found = COMMANDS.get(name.lower())
        if found is None:
            echo(f"Unknown command {name}: /help lists the commands (//text sends /text).")
            return
        found[1](self, argument.strip())

    def turn(self, text: str) -> None:
        """Send `text` and show the reply; Ctrl-C cancels the turn (the conversation stays as it
        was before it)."""
        renderer = self._renderer
        recorder = self.session.recorder()
        started = time.perf_counter()
        self.history.begin(text)
        events = self.session.ask(text)
        try:
            for event in events:
                renderer(event)
                recorder.add(event)
                self.history.add(event)
        except KeyboardInterrupt:
            if isinstance(events, Generator):  # let the run clean up (Session.ask is one)
                events.close()
            renderer.interrupted()
            echo("(cancelled: the conversation is as before this request)", err=True)
            return
        transcript = recorder.transcript()
        self.exchanges.append(transcript)
        if self.output.verbosity >= 1:
            echo(footer(transcript, time.perf_counter() - started), err=True)

    def _help(self, argument: str) -> None:
        for name, (summary, _) in COMMANDS.items():
            click.echo(f"  {name:<12} {summary}")
        click.echo("  Ctrl-C cancels a reply; Ctrl-D quits.")

    def _tools(self, argument: str) -> None:
        tools = self.session.tools
        if not tools:
            click.echo("No tools.")
        for tool in tools:
            echo(f"  {tool.name}: {tool.description}")

    def _reset(self, argument: str) -> None:
        self.session.reset()
        self.history.restart()
        self.exchanges.clear()
        click.echo("(conversation cleared)")

    def _save(self, argument: str) -> None:
        if not argument:
            click.echo("Usage: /save FILE")
            return
        path = Path(argument).expanduser()
        recorder = self.history.recorder
        saved = SavedChat(
            model=self.session.model,
            conversation_id=recorder.conversation_id if recorder is not None else None,
            messages=self.session.history,
            exchanges=tuple(self.exchanges),
        )
        try:
            path.write_text(saved.model_dump_json(indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            echo(f"Cannot write {path}: {exc.strerror or exc}")
            return
        echo(f"(saved {len(self.session.history)} messages to {path})")

    def _exit(self, argument: str) -> None:
        self.done = True


COMMANDS: dict[str, tuple[str, Callable[[Chat, str], None]]] = {
    "/help": ("this list", Chat._help),
    "/tools": ("the tools the model may call", Chat._tools),
    "/reset": ("start a new conversation", Chat._reset),
    "/save": ("/save FILE: write the conversation as JSON", Chat._save),
    "/exit": ("quit (also /quit, Ctrl-D)", Chat._exit),
    "/quit": ("quit", Chat._exit),
}


def converse(chat: Chat, reader: LineReader) -> None:
    """Read lines and answer them until the end of input or /exit."""
    while not chat.done:
        try:
            line = reader.read("> ")
        except EOFError:
            return
        except KeyboardInterrupt:
            if not reader.interactive:
                click.echo()
                return
            continue  # Ctrl-C at the prompt clears the line
        text = line.strip()
        if text.startswith("/") and not text.startswith("//"):
            chat.command(text)
        elif text:
            chat.turn(text[1:] if text.startswith("//") else text)


@click.command()
@agent_options
@session_options
@click.pass_context
def chat(ctx: click.Context, /, **flags: Any) -> None:
    """An interactive session that keeps the conversation; /help lists the commands.

    Ctrl-C cancels a reply in progress, Ctrl-D (or /exit) quits.
    """
    try:
        _chat(ctx, flags)
    except KeyboardInterrupt:  # while the model loads (a turn's Ctrl-C cancels only the turn)
        click.echo("\nInterrupted.", err=True)
        ctx.exit(EXIT_INTERRUPTED)


def _chat(ctx: click.Context, flags: dict[str, Any]) -> None:
    with one_line_errors():
        history = History(flags)
        settings = settings_from(ctx, flags)
        output = Output(flags, settings)
        reader = open_reader(os.environ)
        approver = TerminalApprover()
        history.prepare()
        with open_session(ctx, settings, output, approver=approver) as session:
            try:
                restored = history.open(session)
                names = ", ".join(spec.name for spec in session.tools)
                echo(f"Model {Path(session.model).name}; tools: {names or 'none'}.")
                if restored:
                    click.echo(
                        f"(continuing conversation {history.conversation_id}: "
                        f"{restored} earlier exchange{'s' if restored != 1 else ''})"
                    )
                click.echo("Type a request; /help lists the commands, Ctrl-D quits.")
                converse(Chat(session, output, history), reader)
            finally:
                history.close()
            click.echo("Bye.")
            report_host(session, output.verbosity)


__all__ = ["COMMANDS", "Chat", "LineReader", "PlainReader", "SavedChat", "TerminalReader", "chat"]
