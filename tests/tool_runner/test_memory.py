"""tool_runner.memory: the bounded key-value store behind llm-agent:memory/store, and how a
policy hands it out (only to the one tool it was granted to)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from tool_runner import MemoryGrant, Policy, PolicyError
from tool_runner.memory import MemoryStore


def store(tmp_path: Path, namespace: str = "a", **bounds: int) -> MemoryStore:
    return MemoryStore(MemoryGrant(path=tmp_path / "m.sqlite", namespace=namespace, **bounds))


def test_set_get_remove_keys_round_trip_text_as_data(tmp_path: Path) -> None:
    memory = store(tmp_path)
    memory.set("b", "two")
    memory.set("a", "'; DROP TABLE memory; --\n\u00e9\U0001f600")
    assert memory.get("a") == "'; DROP TABLE memory; --\n\u00e9\U0001f600"
    assert memory.keys() == ["a", "b"]
    memory.set("b", "replaced")
    assert memory.get("b") == "replaced" and memory.get("zzz") is None
    assert memory.remove("b") and not memory.remove("b")
    assert memory.keys() == ["a"]


def test_namespaces_do_not_see_each_other(tmp_path: Path) -> None:
    store(tmp_path, "a").set("k", "from a")
    other = store(tmp_path, "b")
    assert other.get("k") is None and other.keys() == []
    assert not other.remove("k") and store(tmp_path, "a").get("k") == "from a"


@pytest.mark.parametrize(
    ("bounds", "key", "value", "message"),
    [
        ({"max_key_bytes": 3}, "long", "v", "the key is 4 bytes; the limit is 3"),
        ({"max_value_bytes": 4}, "k", "\u00e9\u00e9\u00e9", "the value is 6 bytes; the limit is 4"),
        ({}, "", "v", "the key is empty"),
    ],
)
def test_one_change_past_a_bound_is_refused_with_its_reason(
    tmp_path: Path, bounds: dict[str, int], key: str, value: str, message: str
) -> None:
    memory = store(tmp_path, **bounds)
    with pytest.raises(ValueError, match=message):
        memory.set(key, value)
    assert memory.keys() == []


def test_the_key_count_and_total_size_are_bounded_but_replacing_is_not_adding(
    tmp_path: Path,
) -> None:
    memory = store(tmp_path, max_keys=2, max_total_bytes=20)
    memory.set("a", "1234")
    memory.set("b", "1234")
    with pytest.raises(ValueError, match="limit of 2 keys"):
        memory.set("c", "x")
    memory.set("a", "123456789")  # a replacement: still two keys, 10 + 5 bytes
    with pytest.raises(ValueError, match="exceed its limit of 20 bytes"):
        memory.set("b", "123456789012345")
    assert memory.get("b") == "1234"


def _add_many(path: str, worker: int) -> None:
    memory = MemoryStore(MemoryGrant(path=Path(path), namespace="shared", max_keys=1000))
    for index in range(40):
        memory.set(f"w{worker}-{index}", "x" * 100)


def test_concurrent_processes_writing_leave_every_change(tmp_path: Path) -> None:
    path = str(tmp_path / "m.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(path, n)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    memory = MemoryStore(MemoryGrant(path=Path(path), namespace="shared"))
    assert len(memory.keys()) == 120
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_policy_gives_its_memory_only_to_a_tool_loaded_alone(tmp_path: Path) -> None:
    grant = MemoryGrant(path=tmp_path / "m.sqlite", namespace="pip")
    policy = Policy(memory=grant)
    assert policy.for_tool("notes", alone=True).memory == grant
    assert policy.for_tool("notes", alone=False).memory is None
    policy.check_scoped(["notes"])
    with pytest.raises(PolicyError, match="a memory grant would reach all 2 tools loaded"):
        policy.check_scoped(["notes", "files"])
    assert Policy().memory is None
