"""The models directory: offline lookup (`resolve_model`), listing, removal, disk space."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli.models import models
from agent.errors import ModelNotDownloadedError, NotEnoughSpaceError, UnknownModelError
from agent.models import (
    MODELS_DIR_ENV,
    HubSettings,
    ModelStore,
    default_models_dir,
    parse_ref,
    resolve_model,
)

PHI = "Phi-3-mini-4k-instruct-q4.gguf"


def test_the_default_models_dir_is_the_checkouts_else_the_users(
    repo_root: Path, tmp_path: Path
) -> None:
    user = {"LLM_AGENT_DATA_DIR": str(tmp_path)}
    assert default_models_dir(user, cwd=repo_root) == repo_root / "models"
    assert default_models_dir(user, cwd=tmp_path) == tmp_path / "models"  # the user's data dir
    assert default_models_dir({MODELS_DIR_ENV: "/data/gguf"}) == Path("/data/gguf")
    assert default_models_dir({**user, MODELS_DIR_ENV: " "}, cwd=tmp_path) == tmp_path / "models"


def test_the_library_reads_no_environment_the_cli_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    (tmp_path / PHI).write_bytes(b"GGUF")
    assert ModelStore().models_dir == Path("models")  # the variable is resolved at the edge
    assert resolve_model("phi-mini-instruct", models_dir=tmp_path) == tmp_path / PHI
    listed = CliRunner().invoke(models, ["path", "phi-mini-instruct"])
    assert listed.exit_code == 0 and listed.output.strip() == str(tmp_path / PHI)


def test_resolve_accepts_a_path_a_file_name_a_registry_name_and_a_hub_name(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    (tmp_path / PHI).write_bytes(b"GGUF")
    (tmp_path / "model-Q4_K_M.gguf").write_bytes(b"GGUF")

    assert resolve_model(str(tiny_model_path), models_dir=tmp_path) == tiny_model_path
    assert resolve_model(PHI, models_dir=tmp_path) == tmp_path / PHI
    assert resolve_model("phi-mini-instruct", models_dir=tmp_path) == tmp_path / PHI
    assert (
        resolve_model("someone/Some-GGUF/Q4_K_M/model-Q4_K_M.gguf", models_dir=tmp_path)
        == tmp_path / "model-Q4_K_M.gguf"
    )


def test_resolve_never_downloads_and_says_how_to(tmp_path: Path) -> None:
    with pytest.raises(ModelNotDownloadedError) as caught:
        resolve_model("qwen2.5-0.5b-instruct", models_dir=tmp_path)
    message = str(caught.value)
    assert "agent models download qwen2.5-0.5b-instruct" in message
    assert "-m PATH" in message and "MODEL=" not in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_removing_a_model_that_is_not_there_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelNotDownloadedError) as caught:
        ModelStore(tmp_path).remove(parse_ref("qwen2.5-0.5b-instruct"))
    assert "is not downloaded: nothing to remove" in str(caught.value)
    assert "agent models download" not in str(caught.value)


def test_resolve_a_missing_path_or_an_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ModelNotDownloadedError, match="no model file nowhere/x.gguf"):
        resolve_model("nowhere/x.gguf", models_dir=tmp_path)
    with pytest.raises(UnknownModelError, match="unknown model 'gpt-5'"):
        resolve_model("gpt-5", models_dir=tmp_path)


def test_a_partial_download_is_not_a_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    ref = parse_ref("phi-mini-instruct")
    partial = store.partial_path(ref, "a" * 64)
    partial.parent.mkdir()
    partial.write_bytes(b"GGUF half")

    assert store.find(ref) is None
    assert partial.name == f"{PHI}.aaaaaaaaaaaaaaaa.incomplete"
    with pytest.raises(ModelNotDownloadedError):
        resolve_model("phi-mini-instruct", models_dir=tmp_path)


def test_statuses_list_every_entry_and_other_local_files(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    (tmp_path / PHI).write_bytes(b"GGUF" * 10)
    (tmp_path / "mine.gguf").write_bytes(b"GGUF")
    partial = store.partial_path(parse_ref("qwen2.5-0.5b-instruct"), "b" * 64)
    partial.parent.mkdir()
    partial.write_bytes(b"12345")

    by_name = {s.name: s for s in store.statuses()}

    assert by_name["phi-mini-instruct"].state == "downloaded"
    assert by_name["phi-mini-instruct"].size_bytes == 40
    assert by_name["qwen2.5-0.5b-instruct"].state == "partial"
    assert by_name["qwen2.5-0.5b-instruct"].partial_bytes == 5
    assert by_name["llama-3.2-1b-instruct"].state == "missing"
    assert by_name["mine.gguf"].state == "downloaded" and by_name["mine.gguf"].entry is None


def test_statuses_of_a_missing_directory_create_nothing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "absent")
    assert {s.state for s in store.statuses()} == {"missing"}
    assert not (tmp_path / "absent").exists()


def test_remove_deletes_the_file_and_its_partials(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    ref = parse_ref("phi-mini-instruct")
    (tmp_path / PHI).write_bytes(b"GGUF")
    partial = store.partial_path(ref, "c" * 64)
    partial.parent.mkdir()
    partial.write_bytes(b"GG")

    assert store.remove(ref) == [tmp_path / PHI, partial]
    assert not (tmp_path / PHI).exists() and not partial.exists()
    with pytest.raises(ModelNotDownloadedError):
        store.remove(ref)


def test_a_bare_local_file_can_be_named_for_removal(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    (tmp_path / "mine.gguf").write_bytes(b"GGUF")
    assert store.remove(store.ref_for("mine.gguf")) == [tmp_path / "mine.gguf"]
    with pytest.raises(UnknownModelError):
        store.ref_for("mine.gguf")


def test_check_space_compares_with_the_disk_of_the_nearest_existing_parent(
    tmp_path: Path,
) -> None:
    store = ModelStore(tmp_path / "not" / "yet")
    assert store.free_bytes() > 0
    store.check_space("m.gguf", 1)
    with pytest.raises(NotEnoughSpaceError, match="needs 1000.0 TB more"):
        store.check_space("m.gguf", 10**15)


def test_hub_settings_come_from_the_environment() -> None:
    settings = HubSettings.from_env(
        {"HF_ENDPOINT": "http://mirror.local/", "HF_TOKEN": "hf_x", "HF_HUB_OFFLINE": "1"}
    )
    assert (settings.endpoint, settings.token, settings.offline) == (
        "http://mirror.local",
        "hf_x",
        True,
    )
    assert "hf_x" not in repr(settings)
    assert HubSettings.from_env({}) == HubSettings()
    assert HubSettings.from_env({"HF_HUB_OFFLINE": "0"}).offline is False
