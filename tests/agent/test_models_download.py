"""Downloads through the real huggingface_hub client against the local fake hub (no network)."""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakehub import TOKEN, FakeHub

from agent.errors import (
    ChecksumMismatchError,
    DownloadError,
    DownloadInterruptedError,
    GatedModelError,
    HubUnreachableError,
    ModelConflictError,
    NotEnoughSpaceError,
    RemoteNotFoundError,
)
from agent.models import DownloadProgress, HubSettings, ModelStore, download_model, resolve_model

_names = itertools.count()


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    with FakeHub() as server:
        yield server


@pytest.fixture
def repo() -> str:
    """A fresh repository name, so that tests sharing the hub never see each other's files."""
    return f"tester/repo-{next(_names)}"


@pytest.fixture
def settings(hub: FakeHub) -> HubSettings:
    return HubSettings(endpoint=hub.url, retry_wait_s=0, retries=0)


@pytest.fixture
def blob() -> bytes:
    """3 MiB of incompressible bytes: several of the client's 256 KiB chunks."""
    return os.urandom(3 << 20)


def _only_file(models_dir: Path, *, sources: bool = False) -> list[str]:
    """Every file under models_dir, relative, so a test can say nothing else was left behind
    (the `.sources/` records of complete downloads only when `sources`)."""
    if not models_dir.exists():
        return []
    files = (str(p.relative_to(models_dir)) for p in models_dir.rglob("*") if p.is_file())
    return sorted(f for f in files if sources or not f.startswith(".sources/"))


def test_downloads_a_gguf_that_llama_cpp_loads(
    hub: FakeHub, repo: str, settings: HubSettings, tiny_model_path: Path, tmp_path: Path
) -> None:
    import llama_cpp

    data = tiny_model_path.read_bytes()
    hub.add(repo, "sub/tiny-Q8_0.gguf", data)
    events: list[DownloadProgress] = []

    path = download_model(
        f"{repo}/sub/tiny-Q8_0.gguf",
        models_dir=tmp_path,
        settings=settings,
        on_progress=events.append,
    )

    assert path == tmp_path / "tiny-Q8_0.gguf"
    assert path.read_bytes() == data
    assert _only_file(tmp_path) == ["tiny-Q8_0.gguf"]
    assert events[-1].phase == "verify" and events[-1].done == len(data)
    assert [e.done for e in events if e.phase == "download"][-1] == len(data)
    model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        assert model.tokenize(b"hello") != []
    finally:
        model.close()


def test_a_downloaded_file_is_returned_without_any_request(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "m.gguf", b"GGUF" + b"\0" * 100)
    first = download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings)
    before = len(hub.requests)

    again = download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings)
    offline = download_model(
        f"{repo}/m.gguf",
        models_dir=tmp_path,
        settings=settings.model_copy(update={"offline": True}),
    )

    assert first == again == offline
    assert resolve_model(f"{repo}/m.gguf", models_dir=tmp_path) == first
    assert len(hub.requests) == before


def test_offline_mode_refuses_to_download_and_makes_no_request(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "m.gguf", b"GGUF")
    before = len(hub.requests)

    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE.*MODEL=path/to/file.gguf"):
        download_model(
            f"{repo}/m.gguf",
            models_dir=tmp_path,
            settings=settings.model_copy(update={"offline": True}),
        )

    assert len(hub.requests) == before
    assert _only_file(tmp_path) == []


def test_a_cut_connection_keeps_the_partial_file_and_the_next_run_resumes(
    hub: FakeHub, repo: str, settings: HubSettings, blob: bytes, tmp_path: Path
) -> None:
    hub.add(repo, "big.gguf", blob, cut_at=1_500_000, cuts=1)

    with pytest.raises(DownloadError, match="partial file kept at .*rerun to resume") as caught:
        download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=settings)

    assert caught.value.partial is not None
    kept = Path(caught.value.partial).stat().st_size
    assert 0 < kept <= 1_500_000
    assert not (tmp_path / "big.gguf").exists()

    path = download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=settings)

    assert path.read_bytes() == blob
    gets = [r for r in hub.requests if r.method == "GET" and "big.gguf" in r.path]
    assert [r.range for r in gets] == [None, f"bytes={kept}-"]
    assert _only_file(tmp_path) == ["big.gguf"]


def test_cuts_during_one_run_are_resumed_at_once(
    hub: FakeHub, repo: str, settings: HubSettings, blob: bytes, tmp_path: Path
) -> None:
    hub.add(repo, "big.gguf", blob, cut_at=2_000_000, cuts=2)
    patient = settings.model_copy(update={"retries": 3})

    path = download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=patient)

    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(blob).digest()
    gets = [r.range for r in hub.requests if r.method == "GET" and repo in r.path]
    assert gets[0] is None and gets[-1] is not None


def test_a_server_that_ignores_ranges_is_downloaded_from_the_start(
    hub: FakeHub, repo: str, settings: HubSettings, blob: bytes, tmp_path: Path
) -> None:
    hub.add(repo, "big.gguf", blob, cut_at=1_000_000, cuts=1, honour_range=False)
    with pytest.raises(DownloadError):
        download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=settings)

    path = download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=settings)

    assert path.read_bytes() == blob


def test_ctrl_c_keeps_the_partial_file_for_resume(
    hub: FakeHub, repo: str, settings: HubSettings, blob: bytes, tmp_path: Path
) -> None:
    hub.add(repo, "big.gguf", blob)

    def interrupt(event: DownloadProgress) -> None:
        raise KeyboardInterrupt

    with pytest.raises(DownloadInterruptedError, match="interrupted after 262.1 KB") as caught:
        download_model(
            f"{repo}/big.gguf", models_dir=tmp_path, settings=settings, on_progress=interrupt
        )

    assert not (tmp_path / "big.gguf").exists()
    assert Path(str(caught.value.partial)).stat().st_size == 256 << 10
    assert download_model(f"{repo}/big.gguf", models_dir=tmp_path, settings=settings).is_file()


def test_a_checksum_mismatch_removes_the_bad_file(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "bad.gguf", b"GGUF" + b"x" * 1000, sha256="ab" * 32)

    with pytest.raises(ChecksumMismatchError, match=f"expected sha256 {'ab' * 32}.*removed"):
        download_model(f"{repo}/bad.gguf", models_dir=tmp_path, settings=settings)

    assert _only_file(tmp_path) == []


def test_a_missing_file_is_a_not_found_error(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "present.gguf", b"GGUF")

    with pytest.raises(RemoteNotFoundError, match=f"file absent.gguf in {repo} not found"):
        download_model(f"{repo}/absent.gguf", models_dir=tmp_path, settings=settings)

    assert _only_file(tmp_path) == []


def test_a_missing_repository_is_a_not_found_error(settings: HubSettings, tmp_path: Path) -> None:
    with pytest.raises(RemoteNotFoundError, match="repository nobody/nothing not found"):
        download_model("nobody/nothing/x.gguf", models_dir=tmp_path, settings=settings)


def test_a_missing_revision_is_a_not_found_error(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "m.gguf", b"GGUF")

    with pytest.raises(RemoteNotFoundError, match="revision v9 of"):
        download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings, revision="v9")


def test_a_gated_model_needs_a_token_and_says_how_to_log_in(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "gated.gguf", b"GGUF gated", gated=True)

    with pytest.raises(GatedModelError, match="hf auth login.*HF_TOKEN"):
        download_model(f"{repo}/gated.gguf", models_dir=tmp_path, settings=settings)
    assert _only_file(tmp_path) == []

    with_token = settings.model_copy(update={"token": TOKEN})
    path = download_model(f"{repo}/gated.gguf", models_dir=tmp_path, settings=with_token)
    assert path.read_bytes() == b"GGUF gated"
    assert hub.requests[-1].authorization == f"Bearer {TOKEN}"


def test_a_server_error_is_a_download_error(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "m.gguf", b"GGUF", fail_status=500)

    with pytest.raises(DownloadError, match="HTTP 500") as caught:
        download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings)

    assert caught.value.partial is None and "kept" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_no_space_is_refused_before_any_byte_is_fetched(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "huge.gguf", b"GGUF", size=10**18)

    with pytest.raises(NotEnoughSpaceError, match="not enough disk space for huge.gguf"):
        download_model(f"{repo}/huge.gguf", models_dir=tmp_path, settings=settings)

    assert [r.method for r in hub.requests if repo in r.path] == ["HEAD"]
    assert _only_file(tmp_path) == []


def test_an_unreachable_hub_says_how_to_go_on_offline(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = HubSettings(endpoint=f"http://127.0.0.1:{port}", timeout_s=2)

    with pytest.raises(HubUnreachableError, match="MODEL=path/to/file.gguf make run-agent") as e:
        download_model("phi-mini-instruct", models_dir=tmp_path, settings=settings)

    assert "\n" not in str(e.value)
    assert _only_file(tmp_path) == []


def test_a_partial_file_of_another_version_is_discarded(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    hub.add(repo, "m.gguf", b"GGUF new version")
    stale = ModelStore(tmp_path).partial_path(
        ModelStore(tmp_path).ref_for(f"{repo}/m.gguf"), "f" * 64
    )
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"GGUF old")

    path = download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings)

    assert path.read_bytes() == b"GGUF new version"
    assert _only_file(tmp_path) == ["m.gguf"]


def test_a_redirect_to_a_cdn_is_followed_without_the_token(
    hub: FakeHub, repo: str, settings: HubSettings, blob: bytes, tmp_path: Path
) -> None:
    hub.add(repo, "cdn.gguf", blob, redirect=True, gated=True, cut_at=700_000, cuts=1)
    with_token = settings.model_copy(update={"token": TOKEN})
    with pytest.raises(DownloadError):
        download_model(f"{repo}/cdn.gguf", models_dir=tmp_path, settings=with_token)

    path = download_model(f"{repo}/cdn.gguf", models_dir=tmp_path, settings=with_token)

    assert path.read_bytes() == blob
    seen = [r for r in hub.requests if "cdn.gguf" in r.path]
    cdn = [r for r in seen if r.path.startswith("/cdn/")]
    assert [r.method for r in cdn] == ["GET", "GET"] and cdn[1].range is not None
    assert all(r.authorization is None for r in cdn)
    assert all(r.authorization == f"Bearer {TOKEN}" for r in seen if r not in cdn)


def test_a_disk_that_fills_up_mid_download_is_a_space_error(
    hub: FakeHub, repo: str, settings: HubSettings, tmp_path: Path
) -> None:
    """The partial file points at /dev/full, where every write fails with ENOSPC."""
    data = b"GGUF" + b"\0" * 1000
    hub.add(repo, "m.gguf", data)
    store = ModelStore(tmp_path)
    partial = store.partial_path(store.ref_for(f"{repo}/m.gguf"), hashlib.sha256(data).hexdigest())
    partial.parent.mkdir()
    partial.symlink_to("/dev/full")

    with pytest.raises(NotEnoughSpaceError, match="not enough disk space for m.gguf.*kept at"):
        download_model(f"{repo}/m.gguf", models_dir=tmp_path, settings=settings)

    assert not (tmp_path / "m.gguf").exists()


def test_the_same_file_name_from_another_repository_is_never_taken_for_it(
    hub: FakeHub, settings: HubSettings, tmp_path: Path
) -> None:
    first, second = f"tester/repo-{next(_names)}", f"tester/repo-{next(_names)}"
    hub.add(first, "same.gguf", b"GGUF first")
    hub.add(second, "same.gguf", b"GGUF second")
    path = download_model(f"{first}/same.gguf", models_dir=tmp_path, settings=settings)
    before = len(hub.requests)

    for lookup in (download_model, resolve_model):
        with pytest.raises(ModelConflictError) as caught:
            lookup(f"{second}/same.gguf", models_dir=tmp_path)  # type: ignore[operator]
        assert str(caught.value) == (
            f"{tmp_path}/same.gguf was downloaded from {first}, not {second}: remove it with "
            "`agent models remove same.gguf` or use another --models-dir"
        )
    assert len(hub.requests) == before and path.read_bytes() == b"GGUF first"
    assert resolve_model(f"{first}/same.gguf", models_dir=tmp_path) == path
    assert resolve_model("same.gguf", models_dir=tmp_path) == path  # a bare name: any source
    assert [s.filename for s in ModelStore(tmp_path).statuses() if s.entry is None] == ["same.gguf"]

    ModelStore(tmp_path).remove(ModelStore(tmp_path).ref_for("same.gguf"))
    assert _only_file(tmp_path, sources=True) == []
    path = download_model(f"{second}/same.gguf", models_dir=tmp_path, settings=settings)
    assert path.read_bytes() == b"GGUF second"
    assert _only_file(tmp_path, sources=True) == [".sources/same.gguf.json", "same.gguf"]
