"""`agent tools`: the tools the agent can load; subcommands load only when used."""

from __future__ import annotations

import importlib

import click

# subcommand name -> "module:attribute"
_COMMANDS = {
    "list": "agent.cli.tools_list:list_tools",
    "lock": "agent.cli.tools_list:lock",
    "show": "agent.cli.tools_library:show",
    "remove": "agent.cli.tools_library:remove",
    "new": "agent.cli.tools_library:new",
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


@click.group(cls=_LazyGroup)
def tools() -> None:
    """List, pin and manage the tools the agent loads."""
