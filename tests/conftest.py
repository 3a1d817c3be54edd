"""Fixtures shared by the whole suite: the repository layout, a generated tiny GGUF model, and
isolation from the user's own directories (caches, models, Hugging Face settings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tests.hypothesis_profiles  # noqa: F401  (loads the Hypothesis profile before any test module)
from scripts import make_test_model

REPO_ROOT = Path(__file__).resolve().parent.parent


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
