"""Every built tool: a real component with metadata, typed params and usage examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from tool_loading import LoadTool

from tool_runner import ToolRunner

TOOLS = {
    "echo": "Echo",
    "print": "Print",
    "calculator": "Calculator",
    "datetime": "DateTime",
    "files": "Files",
    "http-get": "HttpGet",
}
COMPONENT_LAYER = b"\x00asm\x0d\x00\x01\x00"  # magic, version 0x0d, layer 1
CORE_MODULE = b"\x00asm\x01\x00\x00\x00"


@pytest.mark.parametrize(("folder", "name"), sorted(TOOLS.items()))
def test_tool_describes_itself(load_tool: LoadTool, folder: str, name: str) -> None:
    tool = load_tool(folder)
    meta = tool.metadata
    assert meta.name == name
    assert re.fullmatch(r"[A-Z][A-Za-z]+", meta.name)
    assert meta.description and meta.version == "0.1.0"
    assert meta.params and all(p.description for p in meta.params)
    assert any(p.required for p in meta.params)
    assert meta.usage, "every tool shows the model at least one example"
    for usage in meta.usage:
        assert usage.user
        assert usage.assistant.startswith(f"USE_TOOL: {name}, ")
        for part in re.findall(r", (\w+)=", usage.assistant):
            assert meta.param(part) is not None, f"example uses unknown param {part!r}"


@pytest.mark.parametrize("folder", sorted(TOOLS))
def test_built_file_is_a_component(component_path: Callable[[str], Path], folder: str) -> None:
    path = component_path(folder)
    assert path.read_bytes()[:8] == COMPONENT_LAYER


def test_seed_flow_leaves_a_core_module_before_the_component(repo_root: Path) -> None:
    core = repo_root / "tools" / "echo" / "build" / "echo_tool.wasm"
    if not core.is_file():
        pytest.fail(f"{core} is missing: run `make echo-tool` first", pytrace=False)
    assert core.read_bytes()[:8] == CORE_MODULE


def test_the_components_directory_loads_as_the_six_tools(
    runner: ToolRunner, components_dir: Path, load_tool: LoadTool
) -> None:
    for folder in TOOLS:
        load_tool(folder)  # fails with the `make components` hint when one is missing
    names = {tool.name for tool in runner.load_dir(components_dir)}
    assert set(TOOLS.values()) <= names


def test_the_shipped_tools_declare_their_closed_sets_and_bounds(load_tool: LoadTool) -> None:
    datetime_op = load_tool("datetime").metadata.param("op")
    assert datetime_op is not None and datetime_op.enum == ("now", "days_between", "add", "weekday")
    files = load_tool("files").metadata
    assert files.param("op").enum == ("list", "read", "search")  # type: ignore[union-attr]
    max_bytes = files.param("max_bytes")
    assert max_bytes is not None and (max_bytes.minimum, max_bytes.maximum) == (1, 65536)
    schema = files.json_schema()["properties"]
    assert schema["op"]["enum"] == ["list", "read", "search"]
    assert (schema["max_bytes"]["minimum"], schema["max_bytes"]["maximum"]) == (1, 65536)
    max_chars = load_tool("http-get").metadata.param("max_chars")
    assert max_chars is not None and (max_chars.minimum, max_chars.maximum) == (1, 32000)


# which version of llm-agent:tool each shipped tool is built against (tools/tools.mk: WIT_<tool>)
WORLD_VERSIONS = {
    "echo": "0.1.0",
    "print": "0.1.0",
    "files": "0.1.0",
    "calculator": "0.2.0",
    "datetime": "0.2.0",
    "http-get": "0.2.0",
}


@pytest.mark.parametrize(("folder", "version"), sorted(WORLD_VERSIONS.items()))
def test_each_tool_exports_its_version_of_the_tool_interface(
    component_path: Callable[[str], Path], load_tool: LoadTool, folder: str, version: str
) -> None:
    data = component_path(folder).read_bytes()
    assert f"llm-agent:tool/tool@{version}".encode() in data
    other = "0.1.0" if version == "0.2.0" else "0.2.0"
    assert f"llm-agent:tool/tool@{other}".encode() not in data
    # both read into the same metadata: the closed sets and bounds above, whichever version
    assert load_tool(folder).world == "llm-agent"
