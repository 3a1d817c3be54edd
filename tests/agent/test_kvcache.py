"""The on-disk prompt cache: hits by longest prefix, misses on anything that does not match,
damaged files never trusted, a bounded size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.kvcache import (
    CACHE_DIR_ENV,
    SUFFIX,
    CacheKey,
    PromptCache,
    default_cache_dir,
)


def key(**settings: object) -> CacheKey:
    return CacheKey(
        model_path="/models/m.gguf",
        model_size=100,
        model_mtime_ns=1,
        runtime="test",
        settings=tuple(sorted((k, str(v)) for k, v in settings.items())),
    )


PROMPT = list(range(100, 300))


def test_a_stored_state_is_found_by_a_prompt_that_shares_its_prefix(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, min_tokens=8)
    cache.store(key(), PROMPT, b"state-bytes")
    hit = cache.find(key(), [*PROMPT[:150], 1, 2, 3])
    assert hit is not None and hit.tokens == tuple(PROMPT)
    assert cache.read(hit) == b"state-bytes"
    assert not list(tmp_path.glob(".*.tmp"))  # written under a temporary name, then renamed


def test_the_entry_with_the_longest_common_prefix_wins(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, min_tokens=8)
    cache.store(key(), [*PROMPT[:50], 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], b"short")
    cache.store(key(), PROMPT, b"long")
    hit = cache.find(key(), PROMPT[:120])
    assert hit is not None and cache.read(hit) == b"long"


@pytest.mark.parametrize(
    "other",
    [
        key(ctx=1024),  # other load settings
        CacheKey(model_path="/models/m.gguf", model_size=101, model_mtime_ns=1, runtime="test"),
        CacheKey(model_path="/models/n.gguf", model_size=100, model_mtime_ns=1, runtime="test"),
        CacheKey(model_path="/models/m.gguf", model_size=100, model_mtime_ns=2, runtime="test"),
        CacheKey(model_path="/models/m.gguf", model_size=100, model_mtime_ns=1, runtime="v2"),
    ],
)
def test_another_model_build_or_settings_is_a_miss(tmp_path: Path, other: CacheKey) -> None:
    cache = PromptCache(tmp_path, min_tokens=8)
    cache.store(key(), PROMPT, b"state")
    assert cache.find(other, PROMPT) is None
    assert cache.find(key(), PROMPT) is not None


def test_a_changed_prompt_or_a_short_common_prefix_is_a_miss(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, min_tokens=64)
    cache.store(key(), PROMPT, b"state")
    assert cache.find(key(), [1, *PROMPT]) is None  # differs from the first token
    assert cache.find(key(), [*PROMPT[:63], 0]) is None  # shares fewer than min_tokens
    assert cache.find(key(), [*PROMPT[:64], 0]) is not None


def test_short_prompts_and_payloads_over_the_budget_are_not_stored(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, max_bytes=100, min_tokens=64)
    cache.store(key(), PROMPT[:63], b"x")
    cache.store(key(), PROMPT, b"x" * 101)
    assert not list(tmp_path.iterdir())


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["payload", "header", "tokens", "magic", "cut", "empty"])
def test_a_damaged_file_is_a_miss_and_is_removed(tmp_path: Path, where: str) -> None:
    cache = PromptCache(tmp_path, min_tokens=8)
    cache.store(key(), PROMPT, b"0123456789" * 10)
    (path,) = tmp_path.glob(f"*{SUFFIX}")
    data = path.read_bytes()
    if where == "payload":
        flip(path, len(data) - 5)
    elif where == "header":
        flip(path, data.index(b'"payload_size"') + 2)
    elif where == "tokens":
        flip(path, data.index(b"150"))  # another token, still valid JSON
    elif where == "magic":
        flip(path, 0)
    elif where == "cut":
        path.write_bytes(data[:-1])
    else:
        path.write_bytes(b"")
    hit = cache.find(key(), PROMPT)
    payload = cache.read(hit) if hit is not None else None
    assert payload is None
    assert not path.exists()


def test_a_file_replaced_between_find_and_read_is_not_trusted(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, min_tokens=8)
    cache.store(key(), PROMPT, b"first")
    hit = cache.find(key(), PROMPT)
    assert hit is not None and hit.path is not None
    other = PromptCache(tmp_path / "other", min_tokens=8)
    other.store(key(), [*PROMPT[:-1], 0], b"other")
    (replacement,) = (tmp_path / "other").glob(f"*{SUFFIX}")
    replacement.replace(hit.path)
    assert cache.read(hit) is None


def test_the_least_recently_used_entries_are_evicted_past_the_budget(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, max_bytes=3500, min_tokens=8)  # three entries of ~1.1 KB
    prompts = [[n, *PROMPT[:20]] for n in range(3)]
    for prompt in prompts:
        cache.store(key(), prompt, b"x" * 800)
        for path in tmp_path.glob(f"*{SUFFIX}"):  # make the order of writes visible
            os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 10))
    assert len(list(tmp_path.glob(f"*{SUFFIX}"))) == 3
    first = cache.find(key(), prompts[0])
    assert first is not None and cache.read(first) is not None  # used: now the newest
    cache.store(key(), [9, *PROMPT[:20]], b"x" * 800)
    assert sum(p.stat().st_size for p in tmp_path.glob(f"*{SUFFIX}")) <= 3500
    assert cache.find(key(), prompts[0]) is not None
    assert cache.find(key(), prompts[1]) is None  # the least recently used went first
    assert cache.find(key(), [9, *PROMPT[:20]]) is not None


def test_an_unwritable_directory_saves_nothing_and_raises_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = PromptCache(blocked / "cache", min_tokens=8)
    cache.store(key(), PROMPT, b"state")
    assert cache.find(key(), PROMPT) is None


def test_the_default_directory_is_under_the_user_cache_or_the_override(tmp_path: Path) -> None:
    assert default_cache_dir({CACHE_DIR_ENV: str(tmp_path)}) == tmp_path
    assert default_cache_dir({}).name == "prompt-cache"


def test_a_key_names_the_model_file_as_it_is_now(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 20)
    before = CacheKey.for_model(model, "rt", ctx=512)
    assert before == CacheKey.for_model(model, "rt", ctx=512)
    assert before.digest() != CacheKey.for_model(model, "rt", ctx=1024).digest()
    model.write_bytes(b"GGUF" + b"\1" * 21)
    assert before.digest() != CacheKey.for_model(model, "rt", ctx=512).digest()
