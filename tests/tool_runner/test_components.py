"""The real tools built into components/ by `make components` (a missing one fails)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tool_runner import ResultKind, ToolRunner
from tool_runner.cli import command


@pytest.fixture
def default_runner() -> ToolRunner:
    """A runner with the default policy and the suite's shared compile cache."""
    return ToolRunner()


def test_echo_component_reproduces_the_seed_transcript(
    component_path: Callable[[str], Path],
) -> None:
    path = component_path("echo")
    result = CliRunner().invoke(command, ["-c", str(path), "--value", "Hello"])
    assert result.exit_code == 0
    assert result.stdout == (
        f'Component path: "{path}"\n'
        "Tool metadata:\n"
        "  Name: Echo\n"
        "  Description: Echos the passed in value\n"
        "  Version: 0.1.0\n"
        "  Parameters:\n"
        "    - value: Value to be echoed (string)\n"
        "\n"
        "Executing tool...\n"
        "[Success] Tool output: Hello\n"
    )


def test_print_component_output_is_captured(
    default_runner: ToolRunner, component_path: Callable[[str], Path]
) -> None:
    tool = default_runner.load(component_path("print"))
    result = tool.call({"message": "hello from wasm"})
    assert result.kind is ResultKind.SUCCESS
    assert result.stdout == "hello from wasm\n"
    assert tool.call({"nope": "x"}).kind is ResultKind.INVALID_ARGUMENTS


def test_components_directory_loads(default_runner: ToolRunner, components_dir: Path) -> None:
    names = [tool.name for tool in default_runner.load_dir(components_dir)]
    assert {"Echo", "Print"} <= set(names)
    assert names == sorted(names)
