"""Prompts that suit small models: the six shipped tools fit a compact system prompt (counted
with SmolLM2's real tokenizer), whose examples hold placeholders, not values a model could copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_cpp import Llama

from agent.syntax import get_syntax
from agent.syntax.prompt import describe_param, representative_usage
from tool_runner import ToolMetadata, ToolParam, ToolRunner, ToolUsage, UsageCall

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped(components_dir: Path) -> list[ToolMetadata]:
    with ToolRunner() as runner:
        tools = [runner.load(path).metadata for path in sorted(components_dir.glob("*.wasm"))]
    assert len(tools) == 6
    return sorted(tools, key=lambda tool: tool.name)


@pytest.fixture(scope="module")
def tokenizer(smollm2_path: Path) -> Iterator[Llama]:
    llm = Llama(str(smollm2_path), vocab_only=True, verbose=False)
    yield llm
    llm.close()


@pytest.mark.parametrize("name", ["directive", "hermes", "llama3", "mistral", "json"])
def test_the_prompt_for_the_six_tools_is_at_most_800_tokens_in_every_syntax(
    shipped: list[ToolMetadata], tokenizer: Llama, name: str
) -> None:
    prompt = get_syntax(name).system_prompt(shipped)
    tokens = tokenizer.tokenize(prompt.encode(), add_bos=False, special=False)
    assert len(tokens) <= 800, len(tokens)


@pytest.mark.parametrize("name", ["directive", "hermes", "llama3", "mistral", "json"])
def test_no_example_value_reaches_the_prompt(shipped: list[ToolMetadata], name: str) -> None:
    prompt = get_syntax(name).system_prompt(shipped)
    for tool in shipped:
        for usage in tool.usage:
            for call in usage.calls:
                for key, value in call.arguments.items():
                    param = tool.param(key)
                    if isinstance(value, str) and param is not None and not param.enum:
                        assert f"={value}" not in prompt and f'"{value}"' not in prompt, value
    assert "<timezone>" in prompt and "days_between" in prompt


def test_parameters_say_what_a_free_string_does_not() -> None:
    def param(**fields: object) -> ToolParam:
        return ToolParam(name="p", description="d", **fields)  # type: ignore[arg-type]

    assert describe_param(param(type="string", required=True)) == "p: d"
    assert describe_param(param(type="string", required=False, enum=("a", "b"))) == (
        "p? (one of a, b): d"
    )
    assert describe_param(param(type="integer", required=True, minimum=1, maximum=9)) == (
        "p (integer 1..9): d"
    )
    assert (
        describe_param(param(type="number", required=False, minimum=0.5)) == "p? (number >= 0.5): d"
    )


def test_one_example_per_enum_choice_the_one_naming_the_most_parameters() -> None:
    op = ToolParam(name="op", description="o", type="string", required=True, enum=("a", "b"))
    x = ToolParam(name="x", description="x", type="string", required=False)
    tool = ToolMetadata(name="T", description="t", version="1", params=(op, x))

    def usage(**arguments: str) -> ToolUsage:
        return ToolUsage(user="u", assistant="", calls=(UsageCall(name="T", arguments=arguments),))

    examples = [usage(op="a"), usage(op="a", x="1"), usage(op="b"), usage(op="a", x="2")]
    tool = tool.model_copy(update={"usage": tuple(examples)})
    assert representative_usage(tool) == [examples[1], examples[2]]
