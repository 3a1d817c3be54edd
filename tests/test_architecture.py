"""The dependency rules of STYLE.md, checked on the source and on what imports really load."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# third-party module -> the only places in our packages allowed to import it
CONFINED = {
    "wasmtime": ("tool_runner/",),
    "llama_cpp": ("agent/backend.py",),
    "huggingface_hub": ("agent/models/hub.py",),
    "agent": ("agent/",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _sources() -> list[Path]:
    return sorted(p for pkg in ("agent", "tool_runner") for p in (REPO / pkg).rglob("*.py"))


def test_packages_exist() -> None:
    assert len(_sources()) > 5


@pytest.mark.parametrize("module", sorted(CONFINED))
def test_third_party_imports_stay_in_their_module(module: str) -> None:
    allowed = CONFINED[module]
    offenders = [
        str(p.relative_to(REPO))
        for p in _sources()
        if module in _imports(p) and not str(p.relative_to(REPO)).startswith(allowed)
    ]
    assert offenders == [], f"{module} imported outside {allowed}: {offenders}"


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return {name.split(".")[0] for name in json.loads(out.stdout)}


def test_tool_runner_never_loads_the_agent_or_model_libraries() -> None:
    loaded = _loaded_after("import tool_runner, tool_runner.cli")
    assert not loaded & {"agent", "llama_cpp", "huggingface_hub"}


def test_agent_cli_loads_heavy_libraries_only_when_a_command_needs_them() -> None:
    loaded = _loaded_after("import agent.cli")
    assert not loaded & {"llama_cpp", "huggingface_hub", "wasmtime"}
