"""Fixtures for the tool tests: one shared runner, loaders for the built components, and the
Python tools' pure modules importable in CPython (their logic runs the same in both)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tool_loading import LoadTool

from tool_runner import Policy, Tool, ToolRunner, default_cache_dir

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"

# The Python tools keep their logic free of WIT bindings (`guest.py` alone imports them), so
# the same modules the components bundle are imported here directly.
for folder in ("calculator", "datetime", "files", "http-get"):  # pyguest: pytest's pythonpath
    path = str(TOOLS_DIR / folder)
    if path not in sys.path:
        sys.path.append(path)


@pytest.fixture(scope="session")
def runner() -> Iterator[ToolRunner]:
    """One runner for every tool test: components compile once (and hit the on-disk cache)."""
    with ToolRunner(policy=Policy(), cache_dir=default_cache_dir(os.environ)) as shared:
        yield shared


@pytest.fixture(scope="session")
def load_tool(runner: ToolRunner, component_path: Callable[[str], Path]) -> LoadTool:
    """`load_tool("calculator", policy=None)` loads `components/calculator-tool-component.wasm`;
    a missing component fails the test, saying to run `make components`."""

    def load(name: str, policy: Policy | None = None) -> Tool:
        return runner.load(component_path(name), policy=policy)

    return load
