"""The `agent` command line: a click group whose subcommands load only when used.

Loading lazily keeps `agent models list` from importing llama.cpp.
"""

from __future__ import annotations

import click

from agent.cli.lazy import lazy_group

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


@click.group(cls=lazy_group(_COMMANDS), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llm-agent")
def main() -> None:
    """A local, offline AI agent whose tools run in a WebAssembly sandbox."""
