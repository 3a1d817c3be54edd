"""The dependency rules of STYLE.md, checked on the source and on what imports really load."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "tool_runner")

# module -> the only places in our packages allowed to import it
CONFINED = {
    "wasmtime": ("tool_runner/",),
    # the eval's baseline is llama-cpp-python's own chat handler, loaded as its users load it
    "llama_cpp": ("agent/backend.py", "agent/decode.py", "agent/eval/baseline.py"),
    "huggingface_hub": ("agent/models/hub.py",),
    "agent": ("agent/",),
}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, in full dotted form: `import`, `from ... import` (relative
    ones resolved) and `importlib.import_module("...")` with a literal name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def _sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages or PACKAGES for p in (REPO / pkg).rglob("*.py"))


def _where(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_the_scan_covers_both_packages_and_sees_their_imports() -> None:
    for package in PACKAGES:
        sources = _sources(package)
        assert REPO / package / "__init__.py" in sources
        assert any(_imports(p) for p in sources), f"no imports found in {package}"
    # The scanner itself: wasmtime is imported somewhere in tool_runner, llama_cpp in agent.
    assert any("wasmtime" in _top_level(_imports(p)) for p in _sources("tool_runner"))
    assert any("llama_cpp" in _top_level(_imports(p)) for p in _sources("agent"))


@pytest.mark.parametrize("module", sorted(CONFINED))
def test_third_party_imports_stay_in_their_module(module: str) -> None:
    allowed = CONFINED[module]
    offenders = [
        _where(p)
        for p in _sources()
        if module in _top_level(_imports(p)) and not _where(p).startswith(allowed)
    ]
    assert offenders == [], f"{module} imported outside {allowed}: {offenders}"


def test_tool_runner_never_imports_the_agent_or_model_libraries() -> None:
    forbidden = {"agent", "llama_cpp", "huggingface_hub"}
    offenders = {
        _where(p): sorted(_top_level(_imports(p)) & forbidden)
        for p in _sources("tool_runner")
        if _top_level(_imports(p)) & forbidden
    }
    assert offenders == {}


def _is_submodule(module: str) -> bool:
    first = module.split(".")[1]
    return (REPO / "tool_runner" / f"{first}.py").is_file() or (
        REPO / "tool_runner" / first
    ).is_dir()


# tool_runner's one public submodule: the sandbox flags every CLI shares (it imports click), for
# the agent's CLI only
CLI_MODULES = {"tool_runner.options", "tool_runner.options.sandbox_options"}


def test_agent_uses_only_the_public_tool_runner_api() -> None:
    # `from tool_runner import Name` records `tool_runner.Name`, which is public unless `Name`
    # is one of the package's modules.
    offenders = {
        _where(p): sorted(
            m
            for m in _imports(p)
            if m.startswith("tool_runner.")
            and _is_submodule(m)
            and not (m in CLI_MODULES and p.parent.name == "cli")
        )
        for p in _sources("agent")
    }
    assert {where: modules for where, modules in offenders.items() if modules} == {}


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return {name.split(".")[0] for name in json.loads(out.stdout)}


def test_tool_runner_never_loads_the_agent_or_model_libraries() -> None:
    loaded = _loaded_after("import tool_runner, tool_runner.cli")
    assert not loaded & {"agent", "llama_cpp", "huggingface_hub"}


def test_tool_runner_types_load_without_wasmtime() -> None:
    loaded = _loaded_after(
        "import tool_runner\n"
        "from tool_runner import ToolMetadata, ToolResult, Policy, ResultKind, policy_from_options"
    )
    assert "wasmtime" not in loaded
    assert "wasmtime" in _loaded_after("from tool_runner import ToolRunner")


def test_agent_cli_loads_heavy_libraries_only_when_a_command_needs_them() -> None:
    loaded = _loaded_after("import agent.cli")
    assert not loaded & {"llama_cpp", "huggingface_hub", "wasmtime"}
