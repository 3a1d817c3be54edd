"""The terminal approver: puts an `agent.approval.ApprovalRequest` to the person at the terminal.

    approver = TerminalApprover(read_line)      # read_line(prompt) -> str; EOFError at the end
    session = Session.open(settings, approver=approver)

The request's title and detail come from tools and models, so they are shown escaped
(`tool_runner.for_terminal`); the answer must be one of the request's choices (a unique prefix
will do: `o` for `once`). Ctrl-C, Ctrl-D or three unusable answers refuse.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from agent.approval import ApprovalRequest
from agent.cli.render import echo

ReadLine = Callable[[str], str]
ATTEMPTS = 3


def read_stdin_line(prompt: str) -> str:
    """One line from stdin after `prompt` (EOFError at the end of input)."""
    click.echo(prompt, nl=False, err=True)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


class TerminalApprover:
    """An `Approver` that asks on the terminal (stderr for the question, `read_line` for the
    answer)."""

    def __init__(self, read_line: ReadLine = read_stdin_line) -> None:
        self._read_line = read_line

    def ask(self, request: ApprovalRequest) -> str:
        """Show the request and return the person's choice (the refusal when none is made)."""
        echo(f"Approval needed ({request.kind}, {request.subject}): {request.title}", err=True)
        if request.detail:
            for line in request.detail.splitlines():
                echo(f"  {line}", err=True)
        question = f"Answer [{'/'.join(request.choices)}]: "
        for _ in range(ATTEMPTS):
            try:
                given = self._read_line(question).strip().lower()
            except (EOFError, KeyboardInterrupt):
                echo(f"(no answer: {request.refusal})", err=True)
                return request.refusal
            choice = match_choice(given, request.choices)
            if choice is not None:
                return choice
            echo(f"Please answer one of: {', '.join(request.choices)}", err=True)
        echo(f"(no usable answer: {request.refusal})", err=True)
        return request.refusal


def match_choice(given: str, choices: tuple[str, ...]) -> str | None:
    """The choice `given` names: exactly, or as the unique prefix of one (None otherwise)."""
    given = given.strip().lower()
    if not given:
        return None
    lowered = {choice.lower(): choice for choice in choices}
    if given in lowered:
        return lowered[given]
    found = [choice for key, choice in lowered.items() if key.startswith(given)]
    return found[0] if len(found) == 1 else None


__all__ = ["TerminalApprover", "match_choice", "read_stdin_line"]
