"""The type of the `load_tool` fixture (a module of its own: `conftest` is not importable by
name when pytest loads several test directories' conftests in one run)."""

from __future__ import annotations

from collections.abc import Callable

from tool_runner import Tool

LoadTool = Callable[..., Tool]
