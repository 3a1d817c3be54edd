"""`agent logs list|show|path`: the history of runs and chats (`agent.history`), read back.

The database is the user's (`agent.paths.UserPaths.logs_db`); `agent run` and `agent chat` write
it unless `--no-log`, and continue a conversation with `--continue` or `--cid ID`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from agent.cli.render import echo
from agent.cli.run import one_line_errors
from agent.history import Conversation, Exchange, HistoryStore
from agent.paths import user_paths

PROMPT_WIDTH = 60


@contextmanager
def _store() -> Iterator[HistoryStore | None]:
    """The history database, or None when nothing was ever logged."""
    path = user_paths(os.environ).logs_db
    if not path.exists():
        yield None
        return
    with one_line_errors(), HistoryStore.open(path) as store:
        yield store


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.group()
def logs() -> None:
    """Past runs and chats: list them, show one, or where the database is."""


@logs.command("list")
@click.option(
    "-n",
    "--count",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many conversations to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as a JSON array.")
def list_logs(count: int, as_json: bool) -> None:  # fmt: skip
    """The most recent conversations, newest first."""
    with _store() as store:
        found = store.conversations(limit=count) if store is not None else []
    if as_json:
        click.echo(json.dumps([c.model_dump(mode="json") for c in found], indent=2))
        return
    if not found:
        click.echo("No conversations logged yet.")
        return
    for c in found:
        model = c.model.rsplit("/", 1)[-1]
        turns = f"{c.exchanges} exchange{'s' if c.exchanges != 1 else ''}"
        echo(f"{c.id}  {_when(c.updated)}  {model}  {turns}  {_clip(c.first_prompt, PROMPT_WIDTH)}")


@logs.command("show")
@click.argument("conversation_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the conversation as JSON.")
def show_log(conversation_id: str, as_json: bool) -> None:
    """One conversation, whole: each request, its tool calls and the answer (ID: the id from
    `agent logs list`, or enough of its start to be unique)."""
    with _store() as store:
        if store is None:
            raise click.ClickException("no conversations logged yet")
        with one_line_errors():
            conversation = store.conversation(conversation_id)
    if as_json:
        click.echo(conversation.model_dump_json(indent=2))
        return
    _show(conversation)


@logs.command("path")
def log_path() -> None:
    """Where the history database is."""
    click.echo(str(user_paths(os.environ).logs_db))


def _show(conversation: Conversation) -> None:
    echo(f"Conversation {conversation.id} · {conversation.model}")
    for exchange in conversation.exchanges:
        click.echo()
        _show_exchange(exchange)


def _show_exchange(exchange: Exchange) -> None:
    t = exchange.transcript
    echo(f"## {exchange.seq} · {_when(exchange.started)} · {exchange.duration_s:.1f}s")
    echo(f"> {exchange.prompt}")
    for step in t.steps:
        for call in step.calls:
            arguments = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
            state = "" if call.result.ok else f" ({call.result.kind.value})"
            echo(f"Tool call: {call.name}({arguments}){state}")
            echo(f"  -> {call.result.text}")
    if t.answer is not None:
        echo(t.answer)
    else:
        echo(f"(stopped: {t.stopped})")


__all__ = ["logs"]
