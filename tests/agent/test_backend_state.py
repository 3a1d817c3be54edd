"""LlamaBackend.save_state / load_state: conversations that share one loaded model (an app's
agents) each take their evaluated context back instead of reading their prompt again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.app.team import KeepsState
from agent.backend import ContextState, LlamaBackend, load_backend
from agent.config import ModelSettings, SamplingSettings
from agent.events import Completion
from agent.messages import ChatMessage


@pytest.fixture
def backend(tiny_model_path: Path) -> Iterator[LlamaBackend]:
    settings = ModelSettings(path=tiny_model_path, ctx=1024, seed=5, threads=1, prompt_cache=False)
    with load_backend(settings, SamplingSettings(max_tokens=8, temperature=0.0)) as loaded:
        yield loaded


def turn(backend: LlamaBackend, messages: list[ChatMessage]) -> Completion:
    steps = backend.stream_prompt(backend.render(messages))
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: Completion = done.value
            return result


def conversation(system: str) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=system * 8),
        ChatMessage(role="user", content="first question, long enough to matter " * 4),
    ]


def test_each_conversation_gets_its_context_back(backend: LlamaBackend) -> None:
    assert isinstance(backend, KeepsState)
    a, b = conversation("You are agent A. "), conversation("Agent B here, other words. ")
    first_a = turn(backend, a)
    saved_a = backend.save_state()
    assert isinstance(saved_a, ContextState) and saved_a.data and saved_a.tokens
    turn(backend, b)  # the other conversation overwrites the context
    a += [
        ChatMessage(role="assistant", content=first_a.text),
        ChatMessage(role="user", content="and then?"),
    ]
    backend.load_state(saved_a)
    resumed = turn(backend, a)
    assert resumed.cached_tokens >= first_a.prompt_tokens  # none of A's earlier prompt re-read
    # the same reply as a model that never left conversation A
    backend.reset()
    turn(backend, a[:2])
    fresh = turn(backend, a)
    assert resumed.text == fresh.text


def test_without_the_state_the_prompt_is_read_again(backend: LlamaBackend) -> None:
    a, b = conversation("You are agent A. "), conversation("Agent B here, other words. ")
    first_a = turn(backend, a)
    turn(backend, b)
    a += [
        ChatMessage(role="assistant", content=first_a.text),
        ChatMessage(role="user", content="and then?"),
    ]
    again = turn(backend, a)
    assert again.cached_tokens < first_a.prompt_tokens // 2


def test_a_snapshot_of_an_empty_context_restores_an_empty_one(backend: LlamaBackend) -> None:
    empty = backend.save_state()
    turn(backend, conversation("A. "))
    backend.load_state(empty)
    assert backend.cached_prefix(list(range(5))) == 0
    with pytest.raises(TypeError, match="not a ContextState"):
        backend.load_state("nonsense")
