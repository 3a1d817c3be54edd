"""Fixtures for the tool_runner tests: WAT components written to files, runners, policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fast_limits import FAST_LIMITS
from wat_components import HOSTILE, Spec, component_wat

from tool_runner import Policy, Tool, ToolRunner


@pytest.fixture(scope="session")
def wat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for generated component files."""
    return tmp_path_factory.mktemp("wat")


@pytest.fixture(scope="session")
def write_component(wat_dir: Path) -> Callable[[Spec, str], Path]:
    """`write_component(spec, "name")` writes the spec's component WAT and returns the path."""

    def write(spec: Spec, name: str) -> Path:
        path = wat_dir / f"{name}.wat"
        path.write_text(component_wat(spec))
        return path

    return write


@pytest.fixture(scope="session")
def echo_path(write_component: Callable[[Spec, str], Path]) -> Path:
    """An echo tool in the llm-agent world."""
    return write_component(Spec(), "echo")


@pytest.fixture(scope="session")
def seed_echo_path(write_component: Callable[[Spec, str], Path]) -> Path:
    """An echo tool in the seed's llama-cpp:tool world."""
    return write_component(Spec(world="seed"), "seed-echo")


@pytest.fixture(scope="session")
def hostile_path(write_component: Callable[[Spec, str], Path]) -> Path:
    """The misbehaving tool (see wat_components.MODES)."""
    return write_component(HOSTILE, "hostile")


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[ToolRunner]:
    """A runner with default (deny-all) policy and a private compile cache."""
    with ToolRunner(policy=Policy(limits=FAST_LIMITS), cache_dir=tmp_path / "cache") as r:
        yield r


@pytest.fixture
def hostile(runner: ToolRunner, hostile_path: Path) -> Tool:
    """The hostile tool under the deny-all policy with small, fast limits."""
    return runner.load(hostile_path)
