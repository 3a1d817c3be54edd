"""End to end with the generated tiny GGUF (random weights) under grammar constraints: the
grammar lets the model write only well-formed calls, to `CreateTool` (whose draft the host then
checks and refuses or builds) and to a self-built tool from the library, which runs in the
sandbox on the prebuilt runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from toolsmith_fixtures import library_with_runner

from agent.approval import ScriptedApprover
from agent.backend import LlamaBackend, load_backend
from agent.config import LoopSettings, ModelSettings, SamplingSettings
from agent.events import StepFinished, ToolCallFinished
from agent.fake import FakeExecutor
from agent.loop import run_agent
from agent.toolsmith import ToolDraft, Toolsmith, ToolsmithExecutor
from tool_runner import ResultKind

pytestmark = pytest.mark.slow

SHOUT = ToolDraft(
    name="shout",
    description="Upper-cases a text",
    parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    source="def shout(text):\n    return text.upper()\n",
)


@pytest.fixture
def backend(tiny_model_path: Path) -> Iterator[LlamaBackend]:
    settings = ModelSettings(path=tiny_model_path, ctx=4096, seed=3, threads=2)
    with load_backend(settings, SamplingSettings(max_tokens=300, temperature=1.0)) as loaded:
        yield loaded


@pytest.fixture
def smith(tmp_path: Path) -> Iterator[Toolsmith]:
    library = library_with_runner(tmp_path / "library")
    with Toolsmith(library, ScriptedApprover(["yes"])) as made:
        made.save(SHOUT, approved_by="test")
        yield made


def _first_step(events: list[object]) -> tuple[StepFinished, list[ToolCallFinished]]:
    step = next(e for e in events if isinstance(e, StepFinished))
    finished = [e for e in events if isinstance(e, ToolCallFinished) and e.step == 1]
    return step, finished


def test_a_constrained_call_runs_the_self_built_tool(
    backend: LlamaBackend, smith: Toolsmith
) -> None:
    executor = ToolsmithExecutor(FakeExecutor({}), smith, create=True)
    settings = LoopSettings(
        syntax="directive", tool_choice="required", max_steps=1, tools=("shout",)
    )
    events = list(run_agent("Shout 'hello there'", backend, executor, settings))
    step, finished = _first_step(events)
    assert step.grammar and not step.errors, step.completion.text
    assert finished and all(f.call.name == "shout" for f in finished)
    for done in finished:
        assert done.result.kind is ResultKind.SUCCESS, done.result.error
        assert done.result.output == str(done.call.arguments["text"]).upper()


def test_a_constrained_create_tool_call_reaches_the_host_checks(
    backend: LlamaBackend, smith: Toolsmith
) -> None:
    executor = ToolsmithExecutor(FakeExecutor({}), smith, create=True)
    settings = LoopSettings(
        syntax="directive", tool_choice="required", max_steps=1, tools=("CreateTool",)
    )
    events = list(run_agent("Write a tool that reverses a text", backend, executor, settings))
    step, finished = _first_step(events)
    assert step.grammar and not step.errors, step.completion.text
    assert finished and all(f.call.name == "CreateTool" for f in finished)
    for done in finished:
        # random weights write a well-formed call whose draft does not build: refused with why
        assert done.result.kind is ResultKind.TOOL_ERROR
        assert str(done.result.error).startswith("the tool does not build: ")
    assert [spec.name for spec in smith.specs()] == ["shout"]
