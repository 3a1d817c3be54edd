"""The on-disk compile cache: hits on a second load, never stale, never fatal."""

from __future__ import annotations

from pathlib import Path

from wat_components import Spec, component_wat

from tool_runner import Limits, Policy, ToolRunner
from tool_runner.cache import CacheStats


def test_second_load_uses_the_cache_even_from_a_new_runner(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    with ToolRunner(cache_dir=cache) as first:
        first.load(echo_path)
        assert first.cache.stats == CacheStats(hits=0, compiled=1)
    artifacts = list(cache.glob("*.cwasm"))
    assert len(artifacts) == 1
    with ToolRunner(cache_dir=cache) as second:
        tool = second.load(echo_path)
        assert second.cache.stats == CacheStats(hits=1, compiled=0)
        assert tool.call({"value": "cached"}).output == "cached"


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


def test_corrupt_artifact_is_replaced(tmp_path: Path, echo_path: Path) -> None:
    cache = tmp_path / "cache"
    with ToolRunner(cache_dir=cache) as runner:
        runner.load(echo_path)
    (artifact,) = cache.glob("*.cwasm")
    artifact.write_bytes(b"not an artifact at all")
    with ToolRunner(cache_dir=cache) as runner:
        assert runner.load(echo_path).call({"value": "ok"}).ok
        assert runner.cache.stats == CacheStats(hits=0, compiled=1)
    assert artifact.read_bytes().startswith(b"\x7fELF")


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
