"""`agent.serve` end to end: the generated tiny GGUF (random weights) loaded by llama.cpp, the real
echo component in the sandbox, the official `openai` client over HTTP. Constrained decoding makes
even a random model write well-formed calls; the KV cache serves a prefix shared by two requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from agent import Session, resolve_settings
from agent.serve import ChatService, Server, create_app

pytestmark = pytest.mark.slow

PROMPT = [{"role": "user", "content": "Please echo back 'Something to echo'"}]
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look the word up.",
        "parameters": {
            "type": "object",
            "properties": {
                # short values only: a random model writes a free string to its length limit
                "lang": {"type": "string", "enum": ["en", "fr"]},
                "exact": {"type": "boolean"},
            },
            "required": ["lang", "exact"],
        },
    },
}


@pytest.fixture(scope="module")
def client(tiny_model_path: Path, component_path: Callable[[str], Path]) -> Iterator[OpenAI]:
    settings = resolve_settings(
        {
            "model": str(tiny_model_path),
            "components": [component_path("echo")],
            "syntax": "directive",
            "tool_choice": "required",
            "max_steps": 1,  # the call runs; the random model need not answer
            "ctx": 2048,
            "seed": 3,
            "threads": 2,
            "temperature": 1.0,
            # a whole call of the longest value the grammar admits (a cut-off call is not run)
            "max_tokens": 400,
            "in_process": True,
        }
    )
    with Session.open(settings) as session:
        service = ChatService.for_session(session)
        with Server.start(create_app(service, api_key="k")) as server:
            yield OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)


def _report(obj: Any) -> dict[str, Any]:
    report: dict[str, Any] = obj.model_extra["llm_agent"]
    return report


def test_the_real_echo_runs_server_side(client: OpenAI) -> None:
    response = client.chat.completions.create(model="tiny", messages=PROMPT)
    first = _report(response)["steps"][0]
    assert first["grammar"] and first["errors"] == [], first["text"]
    assert first["calls"], first["text"]
    for call in first["calls"]:
        assert call["name"] == "Echo"
        assert call["result"]["kind"] == "success", call["result"]
        assert call["result"]["output"] == call["arguments"]["value"]  # the component's echo
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage is not None and response.usage.completion_tokens > 0


def test_streaming_from_the_real_model(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="tiny", messages=PROMPT, stream=True))
    final = chunks[-1]
    assert final.choices[0].finish_reason in ("stop", "length")
    report = _report(final)
    assert report["steps"][0]["calls"][0]["result"]["kind"] == "success"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "USE_TOOL" not in streamed  # the call was not streamed as the answer


def test_client_tools_with_the_real_model(client: OpenAI) -> None:
    response = client.chat.completions.create(
        model="tiny.gguf", messages=PROMPT, tools=[LOOKUP], tool_choice="required"
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    (call, *_) = choice.message.tool_calls or []
    assert call.function.name == "lookup"
    arguments = json.loads(call.function.arguments)
    assert arguments["lang"] in ("en", "fr") and isinstance(arguments["exact"], bool)
    assert [step["calls"] for step in _report(response)["steps"]] == [[]]  # nothing ran


def test_a_shared_prefix_comes_from_the_kv_cache(client: OpenAI) -> None:
    tool_free = {"tool_choice": "none", "max_tokens": 4}
    history = [{"role": "user", "content": "Tell me about the sea " * 40}]
    first = client.chat.completions.create(model="tiny", messages=history, **tool_free)
    answer = first.choices[0].message.content or ""
    follow = [
        *history,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "More"},
    ]
    second = client.chat.completions.create(model="tiny", messages=follow, **tool_free)
    assert first.usage is not None and second.usage is not None
    cached = second.usage.prompt_tokens_details
    assert cached is not None and cached.cached_tokens is not None
    # the whole first prompt was reused: only the new turn was evaluated
    assert cached.cached_tokens >= first.usage.prompt_tokens - 1
    assert second.usage.prompt_tokens > first.usage.prompt_tokens
    assert _report(second)["steps"][0]["completion_tokens"] <= 4  # the request's max_tokens
