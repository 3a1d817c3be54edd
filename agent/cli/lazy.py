"""A click group whose subcommands are imported only when used (`agent`, `agent tools`).

Loading lazily keeps `agent models list` from importing llama.cpp.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click


def lazy_group(commands: Mapping[str, str]) -> type[click.Group]:
    """A click.Group class for `commands` (name -> "module:attribute")."""

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(commands)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            target = commands.get(cmd_name)
            if target is None:
                return None
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)  # our own table, not user input
            return command

    return LazyGroup


__all__ = ["lazy_group"]
