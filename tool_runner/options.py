"""The sandbox's command-line flags, shared by every CLI that runs tools (never by the library).

    @click.command()
    @sandbox_options
    def command(**params: Any) -> None:
        policy = policy_from_params(params)

The flags and the keyword each becomes: `--policy FILE` (policy_file), `--dir
[TOOL=]HOST[:GUEST][:ro|rw]` (dirs, repeatable), `--env [TOOL=]NAME[=VALUE]` (env, repeatable),
`--allow-host [TOOL=]HOST[:PORT]` (allow_hosts, repeatable; `TOOL=` scopes a grant to the tool
loaded under that name, see `tool_runner.grants`), `--timeout SECONDS` (timeout), `--memory
MIB` (memory), `--fuel UNITS` (fuel), `--max-output BYTES` (max_output), `--inherit-stdio`
(inherit_stdio).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tool_runner.policy import SANDBOX_PARAMS, policy_from_params

__all__ = ["SANDBOX_PARAMS", "policy_from_params", "sandbox_options"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--policy",
        "policy_file",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="Sandbox policy (TOML or JSON).",
    ),
    click.option("--timeout", type=float, metavar="SECONDS", help="Wall-clock limit per call."),
    click.option("--memory", type=int, metavar="MIB", help="Memory cap per call."),
    click.option("--fuel", type=int, metavar="UNITS", help="Instruction fuel per call."),
    click.option("--max-output", type=int, metavar="BYTES", help="Cap on output and stdio."),
    click.option(
        "--dir",
        "dirs",
        multiple=True,
        metavar="[TOOL=]HOST[:GUEST][:ro|rw]",
        help="Grant a dir (to TOOL, by its file stem: files=PATH).",
    ),
    click.option(
        "--env", "env", multiple=True, metavar="[TOOL=]NAME[=VALUE]", help="Grant an env var."
    ),
    click.option(
        "--allow-host",
        "allow_hosts",
        multiple=True,
        metavar="[TOOL=]HOST[:PORT]",
        help="Allow http-get to reach HOST:PORT.",
    ),
    click.option("--inherit-stdio", is_flag=True, help="Let the tool write to this terminal."),
)


def sandbox_options(func: F) -> F:
    """Add the sandbox's grant and limit flags (see the module docstring) to a click command."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func
