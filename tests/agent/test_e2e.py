"""End to end: the generated tiny GGUF (random weights) + the real echo component.

With constrained decoding even a random-weights model writes only well-formed calls; the call
reaches the real WebAssembly echo, and its result is in the next prompt, whose prefix comes from
the KV cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.backend import LlamaBackend, load_backend
from agent.config import LoopSettings, ModelSettings, SamplingSettings
from agent.events import Answer, StepFinished, ToolCallFinished
from agent.executor import RunnerExecutor, open_executor
from agent.loop import run_agent
from tool_runner import Policy, ResultKind

pytestmark = pytest.mark.slow


@pytest.fixture  # a fresh model per test: the sampler's seed state is the same whatever runs
def backend(tiny_model_path: Path) -> Iterator[LlamaBackend]:
    settings = ModelSettings(path=tiny_model_path, ctx=2048, seed=2, threads=2)
    # enough tokens for a whole call of the longest value the grammar admits: a cut-off reply
    # ends the run, and its calls do not run
    with load_backend(settings, SamplingSettings(max_tokens=400, temperature=1.0)) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def executor(component_path: Callable[[str], Path]) -> Iterator[RunnerExecutor]:
    echo = component_path("echo")
    with open_executor([echo], echo.parent, Policy()) as loaded:
        yield loaded


@pytest.mark.parametrize("seed_prompt", ["Please echo back 'Something to echo'", "Say hi, 'x'"])
def test_constrained_calls_reach_the_real_echo_and_come_back(
    backend: LlamaBackend, executor: RunnerExecutor, seed_prompt: str
) -> None:
    settings = LoopSettings(syntax="directive", tool_choice="required", max_steps=2)
    events = list(run_agent(seed_prompt, backend, executor, settings))
    steps = [e for e in events if isinstance(e, StepFinished)]
    first = steps[0]
    assert first.grammar and not first.errors, first.completion.text
    assert first.calls and all(call.name == "Echo" for call in first.calls)
    results = [e for e in events if isinstance(e, ToolCallFinished) and e.step == 1]
    assert len(results) == len(first.calls)
    for finished in results:
        assert finished.result.kind is ResultKind.SUCCESS, finished.result.error
        assert finished.result.output == finished.call.arguments["value"]
    second = steps[1].completion
    # the step-2 prompt extends step 1's prompt and reply, and carries the echo's output
    assert second.prompt.startswith(first.completion.prompt + first.completion.text)
    added = second.prompt[len(first.completion.prompt + first.completion.text) :]
    assert all(str(r.result.output) in added for r in results)
    assert second.cached_tokens >= first.completion.prompt_tokens
    # the seed and a fresh model per test make the run reproducible: with this seed, step 2
    # (free to answer or call) answers
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.steps == 2 and not steps[1].calls


def test_auto_tool_choice_with_a_grammar_never_produces_a_malformed_call(
    backend: LlamaBackend, executor: RunnerExecutor
) -> None:
    settings = LoopSettings(syntax="directive", max_steps=3)
    for event in run_agent("Please echo back 'abc'", backend, executor, settings):
        if isinstance(event, StepFinished):
            assert not event.errors, event.completion.text
        if isinstance(event, ToolCallFinished):
            assert event.result.ok, event.result.error
