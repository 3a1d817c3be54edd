"""The `agent` command line: a click group whose subcommands load only when used.

Loading lazily keeps `agent models list` from importing llama.cpp.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute"
_COMMANDS = {
    "run": "agent.cli.run:run",
    "chat": "agent.cli.chat:chat",
    "models": "agent.cli.models:models",
    "eval": "agent.cli.eval:eval_command",
    "serve": "agent.cli.serve:serve",
    "logs": "agent.cli.logs:logs",
    "tools": "agent.cli.tools:tools",
    "mcp": "agent.cli.mcp:mcp",
    "app": "agent.cli.app:app",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)  # our own table, not user input
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llm-agent")
def main() -> None:
    """A local, offline AI agent whose tools run in a WebAssembly sandbox."""
