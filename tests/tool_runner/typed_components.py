"""Components that export plain typed functions, built here from source (`typed/`), for the
tests of any component becoming tools.

- `inventory`: C (`typed/inventory.c`, the canonical ABI by hand) through the seed's flow: zig cc
  (wasm32-wasi reactor) -> `wasm-tools component embed` -> `component new` with the WASI
  preview1 adapter. Exports `test:inventory/stock@0.2.0` (a record, an enum, an option, a list,
  a result) and a top-level `describe` that clashes with the interface's.
- `dice`: C through the same flow, a tool of `llm-agent:tool@0.2.0` (`wit-lib/c/llm_agent_tool.h`
  with LLM_AGENT_TOOL_0_2): typed choices and bounds.
- `shop`: Python (`typed/shop_app.py`) through componentize-py. Exports
  `test:typed/shop@1.0.0` (records, an enum, flags, a variant, a char, options, lists, results)
  and a top-level `greet`.

Each gets its WIT docs appended (`scripts/attach_wit_docs.py`). Builds are cached under
`.make/typed-components/`, keyed on the sha256 of their sources and tools, so only the first
run pays for them (componentize-py takes ~20 s).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import attach_wit_docs

SOURCES = Path(__file__).resolve().parent / "typed"
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".make" / "typed-components"
ADAPTER = REPO / "wit-lib" / "wasi_snapshot_preview1.reactor.wasm"
BIN = Path(sys.executable).parent


def _key(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in (*paths, Path(attach_wit_docs.__file__), Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"building a test component failed: {command[0]}\n{done.stderr}")


def _cached(name: str, key: str) -> tuple[Path, Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / f"{name}-{key}.{os.getpid()}.build"  # concurrent test runs build apart
    work.mkdir(exist_ok=True)
    return CACHE / f"{name}-{key}.wasm", work


def _publish(built: Path, wit: Path, target: Path) -> Path:
    staged = target.with_suffix(f".{os.getpid()}.tmp")
    attach_wit_docs.attach(built, wit, staged)
    staged.replace(target)
    shutil.rmtree(built.parent, ignore_errors=True)
    name = target.name.rsplit("-", 1)[0]
    for stale in CACHE.glob(f"{name}-*.wasm"):  # builds of older sources
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def build_inventory() -> Path:
    """The C component (see the module docstring), built once per source change."""
    wit, source = SOURCES / "inventory.wit", SOURCES / "inventory.c"
    target, work = _cached("inventory", _key(wit, source, ADAPTER))
    if target.exists():
        return target
    core, embedded, built = work / "core.wasm", work / "embedded.wasm", work / "component.wasm"
    zig_cc = (BIN / "python", "-m", "ziglang", "cc", "-target", "wasm32-wasi")
    _run(*zig_cc, "-mexec-model=reactor", "-Os", "-Wall", "-Wextra", "-Werror", "-o", core, source)
    tools = attach_wit_docs.wasm_tools()
    _run(tools, "component", "embed", "--world", "inventory", wit, core, "-o", embedded)
    _run(tools, "component", "new", embedded, "--adapt", ADAPTER, "-o", built)
    return _publish(built, wit, target)


def build_dice() -> Path:
    """The C tool of llm-agent:tool@0.2.0 (see the module docstring)."""
    source, header = SOURCES / "dice.c", REPO / "wit-lib" / "c" / "llm_agent_tool.h"
    wit = REPO / "wit-lib" / "tool-0.2" / "tool.wit"
    target, work = _cached("dice", _key(wit, source, header, ADAPTER))
    if target.exists():
        return target
    core, embedded, built = work / "core.wasm", work / "embedded.wasm", work / "component.wasm"
    zig_cc = (BIN / "python", "-m", "ziglang", "cc", "-target", "wasm32-wasi", "-I", header.parent)
    _run(*zig_cc, "-mexec-model=reactor", "-Os", "-Wall", "-Wextra", "-Werror", "-o", core, source)
    tools = attach_wit_docs.wasm_tools()
    _run(tools, "component", "embed", "--world", "tool-world", wit.parent, core, "-o", embedded)
    _run(tools, "component", "new", embedded, "--adapt", ADAPTER, "-o", built)
    return _publish(built, wit, target)


def build_shop() -> Path:
    """The Python component (see the module docstring), built once per source change."""
    wit, source = SOURCES / "shop.wit", SOURCES / "shop_app.py"
    target, work = _cached("shop", _key(wit, source))
    if target.exists():
        return target
    no_site = work / "no-site"
    (no_site / "lib" / "site-packages").mkdir(parents=True, exist_ok=True)
    built = work / "component.wasm"
    # componentize-py bundles $VIRTUAL_ENV's site-packages: point it at an empty one
    env = dict(os.environ, VIRTUAL_ENV=str(no_site))
    _run(BIN / "componentize-py", "-q", "-d", wit, "-w", "typed", "componentize",
         "-p", SOURCES, "shop_app", "-o", built, env=env)  # fmt: skip
    return _publish(built, wit, target)


@pytest.fixture(scope="session")
def inventory_path() -> Path:
    """The C inventory component."""
    return build_inventory()


@pytest.fixture(scope="session")
def dice_path() -> Path:
    """The C dice tool of llm-agent:tool@0.2.0."""
    return build_dice()


@pytest.fixture(scope="session")
def shop_path() -> Path:
    """The Python shop component."""
    return build_shop()
