"""The C tools built through the seed's flow: Echo (the seed transcript) and Print (WASI
stdout reaches the runner)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tool_loading import LoadTool

from tool_runner import ResultKind


@pytest.mark.parametrize(
    "value", ["Hello", "", "a, b = c", "üñíçødé ✓ 日本", "line one\nline two", "x" * 100_000]
)
def test_echo_returns_its_value(load_tool: LoadTool, value: str) -> None:
    result = load_tool("echo").call({"value": value})
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output == value
    assert result.stdout == ""


def test_echo_has_the_seed_metadata(load_tool: LoadTool) -> None:
    meta = load_tool("echo").metadata
    assert (meta.name, meta.description, meta.version) == (
        "Echo",
        "Echos the passed in value",
        "0.1.0",
    )
    assert [(p.name, p.description, p.type, p.required) for p in meta.params] == [
        ("value", "Value to be echoed", "string", True)
    ]
    assert meta.usage[0].assistant == "USE_TOOL: Echo, value=hello"


def test_echo_refuses_bad_arguments_before_running(load_tool: LoadTool) -> None:
    echo = load_tool("echo")
    missing = echo.call({})
    assert missing.kind is ResultKind.INVALID_ARGUMENTS
    assert "value" in (missing.error or "")
    assert echo.call({"value": "x", "other": "y"}).kind is ResultKind.INVALID_ARGUMENTS


def test_echo_through_the_tool_runner_command(component_path: Callable[[str], Path]) -> None:
    script = Path(sys.executable).with_name("tool-runner")
    path = component_path("echo")
    done = subprocess.run(
        [str(script), "-c", str(path), "--value", "Hello"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "  Name: Echo\n" in done.stdout
    assert done.stdout.endswith("[Success] Tool output: Hello\n")


def test_print_writes_to_captured_stdout(load_tool: LoadTool) -> None:
    result = load_tool("print").call({"message": "héllo, wasi"})
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.stdout == "héllo, wasi\n"
    assert result.output == f"printed {len('héllo, wasi'.encode()) + 1} bytes to stdout"


def test_print_state_does_not_leak_between_calls(load_tool: LoadTool) -> None:
    tool = load_tool("print")
    tool.call({"message": "first"})
    assert tool.call({"message": "second"}).stdout == "second\n"


def test_print_output_over_the_cap_is_reported_not_trapped(load_tool: LoadTool) -> None:
    result = load_tool("print").call({"message": "y" * (2 * 1024 * 1024)})
    assert not result.ok
    assert result.kind is not ResultKind.TRAP
    assert result.error
