"""The on-disk compile cache: hits on a second load, never stale, never fatal, never poisoned.

A poisoned artifact is made of another tool's real compiled code, so "never executed" shows as
the tool's own metadata: had the planted artifact run, `get-metadata` would answer for the
other tool.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from wat_components import Spec, component_wat

from tool_runner import CacheError, DirGrant, Limits, Policy, PolicyError, ToolRunner
from tool_runner.cache import CacheStats
from tool_runner.cli import command


def _load(cache: Path, path: Path) -> tuple[str, CacheStats]:
    """Load `path` through `cache` in a new runner: (the tool's description, the stats)."""
    with ToolRunner(cache_dir=cache) as runner:
        tool = runner.load(path)
        assert tool.call({"value": "ok"}).output == "ok"
        return tool.metadata.description, runner.cache.stats


@pytest.fixture
def other_path(write_component: Callable[[Spec, str], Path]) -> Path:
    """A second echo tool that describes itself differently (the planted code's tell)."""
    return write_component(Spec(description="PLANTED: another tool's code"), "other")


def _artifact(cache: Path, path: Path) -> Path:
    """Compile `path` alone into the fresh `cache` and return its artifact."""
    _load(cache, path)
    (artifact,) = cache.glob("*.cwasm")
    return artifact


def test_second_load_uses_the_cache_even_from_a_new_runner(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _load(cache, echo_path)[1] == CacheStats(hits=0, compiled=1)
    assert len(list(cache.glob("*.cwasm"))) == len(list(cache.glob("*.sha256"))) == 1
    assert _load(cache, echo_path)[1] == CacheStats(hits=1, compiled=0)


def test_the_folder_is_created_private(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "a" / "cache"
    _load(cache, echo_path)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / "index").stat().st_mode) == 0o700
    for entry in cache.glob("*"):
        assert entry.is_dir() or stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_folder_readable_by_others_is_tightened(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    cache.chmod(0o755)
    _load(cache, echo_path)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def test_a_folder_writable_by_others_is_refused(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    for mode in (0o777, 0o720, 0o702):
        cache.chmod(mode)
        with ToolRunner(cache_dir=cache) as runner, pytest.raises(CacheError) as caught:
            runner.load(echo_path)
        message = str(caught.value)
        assert "\n" not in message and f"mode {mode:04o}" in message
        assert f"rm -r '{cache}'" in message and "--no-cache" in message
    assert list(cache.iterdir()) == []
    with ToolRunner(cache_dir=cache, cache=False) as runner:
        assert runner.load(echo_path).call({"value": "fine"}).ok


def test_a_folder_owned_by_someone_else_is_refused(tmp_path: Path, echo_path: Path) -> None:
    if os.geteuid() == 0:
        cache = tmp_path / "cache"
        cache.mkdir(mode=0o700)
        os.chown(cache, 65534, 65534)
    else:  # pragma: no cover - depends on who runs the tests
        cache = Path("/")
    with ToolRunner(cache_dir=cache) as runner, pytest.raises(CacheError) as caught:
        runner.load(echo_path)
    assert "not by you" in str(caught.value) and "XDG_CACHE_HOME" in str(caught.value)


def test_a_tampered_artifact_is_recompiled(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    artifact = _artifact(cache, echo_path)
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    assert _load(cache, echo_path)[1] == CacheStats(hits=0, compiled=1, rejected=1)
    _assert_recorded(artifact)


def test_a_truncated_artifact_is_recompiled(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    artifact = _artifact(cache, echo_path)
    with artifact.open("r+b") as handle:
        handle.truncate(artifact.stat().st_size // 2)
    assert _load(cache, echo_path)[1] == CacheStats(hits=0, compiled=1, rejected=1)
    _assert_recorded(artifact)


def _two_artifacts(tmp_path: Path, echo_path: Path, other_path: Path) -> tuple[Path, Path, Path]:
    """(the echo tool's cache, its artifact, the other tool's artifact in another cache)."""
    cache = tmp_path / "cache"
    return cache, _artifact(cache, echo_path), _artifact(tmp_path / "elsewhere", other_path)


def test_another_tools_artifact_copied_over_is_never_run(
    tmp_path: Path, echo_path: Path, other_path: Path
) -> None:
    cache, artifact, planted = _two_artifacts(tmp_path, echo_path, other_path)
    shutil.copyfile(planted, artifact)
    description, stats = _load(cache, echo_path)
    assert (description, stats.rejected) == ("Echos the passed in value", 1)
    # ...nor with its record copied too: a record names the key it belongs to.
    shutil.copyfile(planted, artifact)
    shutil.copyfile(planted.with_suffix(".sha256"), artifact.with_suffix(".sha256"))
    description, stats = _load(cache, echo_path)
    assert (description, stats.rejected) == ("Echos the passed in value", 1)


def test_a_symlinked_artifact_is_never_followed(
    tmp_path: Path, echo_path: Path, other_path: Path
) -> None:
    cache, artifact, planted = _two_artifacts(tmp_path, echo_path, other_path)
    artifact.unlink()
    artifact.symlink_to(planted)
    # the record even matches the link's target: the link itself is refused
    key = artifact.stem
    digest = hashlib.sha256(planted.read_bytes()).hexdigest()
    artifact.with_suffix(".sha256").write_text(f"{key} {digest}\n")
    description, stats = _load(cache, echo_path)
    assert (description, stats.rejected) == ("Echos the passed in value", 1)
    assert not artifact.is_symlink()
    _assert_recorded(artifact)


def test_an_artifact_without_its_record_is_not_run(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    artifact = _artifact(cache, echo_path)
    artifact.with_suffix(".sha256").unlink()
    assert _load(cache, echo_path)[1] == CacheStats(hits=0, compiled=1, rejected=1)
    _assert_recorded(artifact)


def _assert_recorded(artifact: Path) -> None:
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert artifact.with_suffix(".sha256").read_text() == f"{artifact.stem} {digest}\n"


def test_a_writable_grant_over_the_cache_is_refused(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "home" / ".cache" / "compiled"
    cache.mkdir(parents=True)
    inside = cache / "sub"
    inside.mkdir()
    for host in (tmp_path / "home", cache, inside):
        policy = Policy(dirs=(DirGrant(host=host, writable=True),))
        with (
            ToolRunner(policy=policy, cache_dir=cache) as runner,
            pytest.raises(PolicyError) as caught,
        ):
            runner.load(echo_path)
        assert "\n" not in str(caught.value) and "overlaps the compile cache" in str(caught.value)
    beside = tmp_path / "work"
    beside.mkdir()
    fine = (DirGrant(host=tmp_path / "home"), DirGrant(host=beside, writable=True))
    with ToolRunner(policy=Policy(dirs=fine), cache_dir=cache) as runner:
        assert runner.load(echo_path).call({"value": "ok"}).ok
    grant = (DirGrant(host=tmp_path / "home", writable=True),)
    with ToolRunner(policy=Policy(dirs=grant), cache_dir=cache, cache=False) as runner:
        assert runner.load(echo_path).call({"value": "ok"}).ok


def test_changed_component_is_not_served_from_the_cache(tmp_path: Path, echo_path: Path) -> None:
    copy = tmp_path / "tool.wat"
    copy.write_text(echo_path.read_text())
    with ToolRunner(cache_dir=tmp_path / "cache") as runner:
        runner.load(copy)
        copy.write_text(component_wat(Spec(description="Repeats the given value")))
        tool = runner.load(copy)
        assert runner.cache.stats == CacheStats(hits=0, compiled=2)
        assert tool.metadata.description == "Repeats the given value"
        copy.write_text(echo_path.read_text())  # same content again, new stat: a content hit
        assert runner.load(copy).metadata.description == "Echos the passed in value"
        assert runner.cache.stats == CacheStats(hits=1, compiled=2)


def test_other_engine_settings_get_their_own_artifact(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    with ToolRunner(cache_dir=cache) as runner:
        runner.load(echo_path)
        runner.load(echo_path, policy=Policy(limits=Limits(fuel=1_000_000)))
        assert runner.cache.stats == CacheStats(hits=0, compiled=2)
    assert len(list(cache.glob("*.cwasm"))) == 2


def test_unwritable_cache_is_skipped(tmp_path: Path, echo_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    with ToolRunner(cache_dir=blocker / "cache") as runner:
        assert runner.load(echo_path).call({"value": "fine"}).output == "fine"


def test_cache_can_be_turned_off(tmp_path: Path, echo_path: Path) -> None:
    with ToolRunner(cache=False) as runner:
        runner.load(echo_path)
        runner.load(echo_path)
        assert runner.cache.stats == CacheStats(hits=0, compiled=2)
        assert runner.cache.directory is None


@pytest.mark.parametrize("where", [[], ["--in-process"]], ids=["worker", "in-process"])
def test_the_cli_says_so_in_one_line(
    tmp_path: Path, echo_path: Path, monkeypatch: pytest.MonkeyPatch, where: list[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    args = [*where, "-c", str(echo_path), "--value", "hi"]
    grant = CliRunner().invoke(command, [*args, "--dir", f"{tmp_path}:rw"])
    assert grant.exit_code == 2 and grant.stderr.count("\n") == 1
    assert grant.stderr.startswith(f"tool-runner: error: read-write grant {tmp_path} overlaps")
    cache = tmp_path / "xdg" / "llm-agent" / "compiled"
    cache.mkdir(parents=True, mode=0o777)
    cache.chmod(0o777)
    shared = CliRunner().invoke(command, args)
    assert shared.exit_code == 2 and shared.stderr.count("\n") == 1
    assert shared.stderr.startswith(f"tool-runner: error: compile cache {cache} is writable")
    assert CliRunner().invoke(command, [*args, "--no-cache"]).exit_code == 0
