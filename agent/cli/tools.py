"""`agent tools`: the tools the agent can load; subcommands load only when used."""

from __future__ import annotations

import click

from agent.cli.lazy import lazy_group

# subcommand name -> "module:attribute"
_COMMANDS = {
    "list": "agent.cli.tools_list:list_tools",
    "lock": "agent.cli.tools_list:lock",
    "show": "agent.cli.tools_library:show",
    "remove": "agent.cli.tools_library:remove",
    "new": "agent.cli.tools_library:new",
}


@click.group(cls=lazy_group(_COMMANDS))
def tools() -> None:
    """List, pin and manage the tools the agent loads."""
