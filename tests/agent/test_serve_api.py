"""`agent.serve` over real HTTP with the official `openai` client and raw requests: the
library's scripted model (`FakeBackend`) and Python tools (`FakeExecutor`) stand in for llama.cpp
and the sandbox, so that each reply is known (the real model and component: test_serve_model.py).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Generator, Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI

from agent import Completion, FakeBackend, FakeExecutor, LoopSettings
from agent.messages import Prompt
from agent.serve import ChatService, Server, create_app
from tool_runner import ToolMetadata, ToolParam

KEY = "test-key"
ECHO = ToolMetadata(
    name="Echo",
    description="Echo the value back.",
    version="1",
    params=(ToolParam(name="value", description="Text to echo.", type="string", required=True),),
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city."},
                "days": {"type": "array", "items": {"type": "integer"}},
            },
            "required": ["city"],
        },
    },
}
USER = [{"role": "user", "content": "Please echo back 'hi'"}]


class Served:
    """A running server over a scripted backend, with a client that has the key."""

    def __init__(self, backend: FakeBackend, executor: FakeExecutor, server: Server) -> None:
        self.backend = backend
        self.executor = executor
        self.server = server
        self.client = OpenAI(base_url=server.url + "/v1", api_key=KEY, max_retries=0)

    def raw(
        self, method: str, path: str, body: bytes | None = None, key: str | None = KEY
    ) -> tuple[int, bytes]:
        """A request without the openai client: status and body."""
        host, port = self.server.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture
def served() -> Iterator[Served]:
    backend = FakeBackend()
    executor = FakeExecutor({ECHO: lambda args: str(args["value"])})
    service = ChatService(
        backend, executor, LoopSettings(syntax="directive"), model_id="fake", aliases=("f.gguf",)
    )
    with Server.start(create_app(service, api_key=KEY)) as server:
        yield Served(backend, executor, server)


def _extra(obj: Any) -> dict[str, Any]:
    extra: dict[str, Any] = obj.model_extra["llm_agent"]
    return extra


def test_a_request_runs_the_servers_tool_and_returns_the_answer(served: Served) -> None:
    served.backend.enqueue(["USE_TOOL: Echo, value=hi", "It said hi."])
    response = served.client.chat.completions.create(model="fake", messages=USER)
    choice = response.choices[0]
    assert choice.message.content == "It said hi." and choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert [call.arguments for call in served.executor.calls] == [{"value": "hi"}]
    report = _extra(response)
    assert report["syntax"] == "directive" and report["tools"] == ["Echo"]
    first, second = report["steps"]
    assert first["text"] == "USE_TOOL: Echo, value=hi"
    (call,) = first["calls"]
    assert call["name"] == "Echo" and call["arguments"] == {"value": "hi"}
    assert call["result"]["ok"] and call["result"]["output"] == "hi"
    assert second["calls"] == [] and second["text"] == "It said hi."
    # step 2 continued step 1's prompt: the fake counts the shared prefix as cached
    usage = response.usage
    assert (
        usage is not None
        and usage.prompt_tokens == first["prompt_tokens"] + second["prompt_tokens"]
    )
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == second["cached_tokens"] > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_streaming_sends_the_answer_but_not_the_call(served: Served) -> None:
    served.backend.enqueue(["USE_TOOL: Echo, value=hi", "The tool said hi, so here is hi."])
    stream = served.client.chat.completions.create(
        model="fake",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The tool said hi, so here is hi."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 2  # in pieces
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in final] == ["stop"]
    report = _extra(final[0])
    assert report["steps"][0]["calls"][0]["result"]["output"] == "hi"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_the_stream_is_server_sent_events_ending_with_done(served: Served) -> None:
    served.backend.enqueue(["Hello there."])
    body = json.dumps({"model": "fake", "messages": USER, "stream": True}).encode()
    status, raw = served.raw("POST", "/v1/chat/completions", body)
    assert status == 200
    events = [e for e in raw.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello there."


def test_client_tools_come_back_as_tool_calls_unexecuted(served: Served) -> None:
    served.backend.enqueue(['USE_TOOL: get_weather, city=Paris, days="[1, 2]"'])
    response = served.client.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER],
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.function.name == "get_weather"
    # the array the model wrote as JSON text reaches the client as an array
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": [1, 2]}
    assert served.executor.calls == []  # nothing ran on the server
    prompt = served.backend.prompts[0]
    assert "get_weather" in prompt and "Echo" not in prompt  # the client's tools, not ours
    assert _extra(response)["tools"] == ["get_weather"]


def test_client_tool_calls_stream_as_a_tool_calls_delta(served: Served) -> None:
    served.backend.enqueue(["USE_TOOL: get_weather, city=Oslo"])
    chunks = list(
        served.client.chat.completions.create(
            model="fake",
            messages=USER,
            tools=[WEATHER],
            stream=True,
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "USE_TOOL" not in content
    calls = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or []]
    assert [(t.index, t.function and t.function.name) for t in calls] == [(0, "get_weather")]
    assert calls[0].function is not None
    assert json.loads(calls[0].function.arguments or "") == {"city": "Oslo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_call_to_a_function_the_client_lacks_goes_back_to_the_model(served: Served) -> None:
    served.backend.enqueue(["USE_TOOL: Echo, value=x", "USE_TOOL: get_weather, city=Rome"])
    response = served.client.chat.completions.create(model="fake", messages=USER, tools=[WEATHER])
    (call,) = response.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and served.executor.calls == []
    assert "unknown tool 'Echo'" in served.backend.prompts[1]


def test_the_clients_results_are_fed_back(served: Served) -> None:
    served.backend.enqueue(["It is sunny in Paris."])
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 24C"},
    ]
    response = served.client.chat.completions.create(
        model="fake",
        messages=messages,
        tools=[WEATHER],
    )
    assert response.choices[0].message.content == "It is sunny in Paris."
    prompt = served.backend.prompts[0]
    # the system message is the preamble; the syntax still teaches the client's tool after it
    assert prompt.index("You are terse.") < prompt.index("get_weather")
    # the call is written as the model writes calls, the result as the syntax feeds results back
    assert "USE_TOOL: get_weather, city=Paris" in prompt
    assert "Result of get_weather: sunny, 24C" in prompt


def test_the_conversation_comes_from_each_request(served: Served) -> None:
    served.backend.enqueue(["First answer.", "Second answer."])
    served.client.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "remember PINEAPPLE"}]
    )
    served.client.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "what did I say?"}]
    )
    assert "PINEAPPLE" in served.backend.prompts[0]
    assert "PINEAPPLE" not in served.backend.prompts[1]


def test_tool_choice_none_offers_no_tools_and_a_named_one_is_required(served: Served) -> None:
    served.backend.enqueue(["Plain answer.", "USE_TOOL: Echo, value=x", "Done."])
    none = served.client.chat.completions.create(model="fake", messages=USER, tool_choice="none")
    assert none.choices[0].message.content == "Plain answer."
    assert served.backend.grammars[0] is None and "Echo" not in served.backend.prompts[0]
    named = served.client.chat.completions.create(
        model="fake",
        messages=USER,
        tool_choice={"type": "function", "function": {"name": "Echo"}},
    )
    assert named.choices[0].message.content == "Done."
    required = served.backend.grammars[1]
    assert required is not None and "USE_TOOL" in required
    with pytest.raises(openai.BadRequestError, match="no tool 'Nope' is offered .*: Echo"):
        served.client.chat.completions.create(
            model="fake",
            messages=USER,
            tool_choice={"type": "function", "function": {"name": "Nope"}},
        )


def test_models_and_health(served: Served) -> None:
    (model,) = served.client.models.list().data
    assert model.id == "fake" and model.owned_by == "llm-agent"
    assert served.client.models.retrieve("fake").id == "fake"
    with pytest.raises(openai.NotFoundError):
        served.client.models.retrieve("other")
    status, body = served.raw("GET", "/health", key=None)  # open without the key
    assert status == 200 and json.loads(body) == {"status": "ok", "model": "fake"}


def test_an_alias_names_the_model_and_another_name_is_404(served: Served) -> None:
    served.backend.enqueue(["ok"])
    response = served.client.chat.completions.create(model="f.gguf", messages=USER)
    assert response.model == "fake"
    with pytest.raises(openai.NotFoundError, match="'gpt-4o' does not exist here") as caught:
        served.client.chat.completions.create(model="gpt-4o", messages=USER)
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize("key", [None, "wrong", ""])
def test_a_request_without_the_key_is_refused(served: Served, key: str | None) -> None:
    status, body = served.raw("GET", "/v1/models", key=key)
    assert status == 401
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_api_key"
    assert "\n" not in error["message"]
    wrong = OpenAI(base_url=served.server.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="fake", messages=USER)
    assert served.backend.prompts == []


BAD_REQUESTS = [
    ({"model": "fake"}, "messages: Field required"),
    ({"model": "fake", "messages": []}, "messages: List should have at least 1 item"),
    ({"model": "fake", "messages": [{"role": "robot", "content": "x"}]}, "messages[0]"),
    ({"model": "fake", "messages": [{"role": "user"}]}, "messages[0].content: Field required"),
    ({"model": "fake", "messages": USER, "seed": 1}, "seed: Extra inputs are not permitted"),
    ({"model": "fake", "messages": USER, "n": 2}, "n: Input should be 1"),
    ({"model": "fake", "messages": USER, "temperature": 9}, "temperature: Input should be"),
    (
        {"model": "fake", "messages": [{"role": "system", "content": "s"}]},
        "messages: there is no user message",
    ),
    (
        {"model": "fake", "messages": [*USER, {"role": "system", "content": "late"}]},
        "messages[1]: a system message may only come before the conversation",
    ),
    (
        {
            "model": "fake",
            "messages": [*USER, {"role": "tool", "tool_call_id": "z", "content": "r"}],
        },
        "messages[1]: tool_call_id 'z' answers no call",
    ),
    (
        {
            "model": "fake",
            "messages": [
                *USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "Echo", "arguments": "[1]"},
                        }
                    ],
                },
            ],
        },
        "messages[1].tool_calls[0].function.arguments: not a JSON object",
    ),
    (
        {"model": "fake", "messages": USER, "tools": [WEATHER, WEATHER]},
        "tools[1]: the function name 'get_weather' is given twice",
    ),
    (
        {
            "model": "fake",
            "messages": USER,
            "tools": [{"type": "function", "function": {"name": "a b"}}],
        },
        "tools[0].function.name: String should match pattern",
    ),
    (
        {
            "model": "fake",
            "messages": USER,
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": {"properties": {"a=b": {}}}},
                }
            ],
        },
        "tools[0].function.parameters.properties: Value error, the parameter name 'a=b'",
    ),
    (
        {"model": "fake", "messages": USER, "tool_choice": "none", "tools": []},
        None,  # valid: an empty tools list is no tools
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_REQUESTS)
def test_a_bad_request_is_a_400_with_one_line(
    served: Served, body: dict[str, Any], message: str | None
) -> None:
    served.backend.enqueue(["fine"])
    status, raw = served.raw("POST", "/v1/chat/completions", json.dumps(body).encode())
    if message is None:
        assert status == 200, raw
        return
    assert status == 400, raw
    error = json.loads(raw)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(message), error["message"]
    assert "\n" not in error["message"]
    assert served.backend.prompts == []  # refused before the model ran


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/chat/completions", b"{not json", 400, "the request body is not JSON"),
        ("/v1/chat/completions", b"[]", 400, "Input should be a valid dictionary"),
        ("/v1/completions", b"{}", 404, "Not Found"),
    ],
)
def test_bodies_and_routes_that_are_not_chat_requests(
    served: Served, path: str, body: bytes, status: int, message: str
) -> None:
    got, raw = served.raw("POST", path, body)
    assert got == status
    assert json.loads(raw)["error"]["message"].startswith(message)


def test_a_body_over_the_limit_is_refused() -> None:
    service = ChatService(FakeBackend(), FakeExecutor({}), LoopSettings(), model_id="fake")
    with Server.start(create_app(service, max_body=1000)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        with pytest.raises(openai.APIStatusError, match="over 1000 bytes") as caught:
            client.chat.completions.create(
                model="fake", messages=[{"role": "user", "content": "x" * 2000}]
            )
        assert caught.value.status_code == 413


def test_a_model_failure_is_a_500_with_its_line(served: Served) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted reply left"):
        served.client.chat.completions.create(model="fake", messages=USER)
    with pytest.raises(openai.APIError, match="no scripted reply left"):
        list(served.client.chat.completions.create(model="fake", messages=USER, stream=True))
    served.backend.enqueue(["Still serving."])  # the model is free again
    again = served.client.chat.completions.create(model="fake", messages=USER)
    assert again.choices[0].message.content == "Still serving."


def test_a_run_out_of_steps_says_so(served: Served) -> None:
    served.backend.enqueue(["USE_TOOL: Echo, value=a", "USE_TOOL: Echo, value=b"])
    service_settings = LoopSettings(syntax="directive", max_steps=2)
    service = ChatService(served.backend, served.executor, service_settings, model_id="fake")
    with Server.start(create_app(service)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        response = client.chat.completions.create(model="fake", messages=USER)
    assert response.choices[0].finish_reason == "length"
    assert response.choices[0].message.content == ""
    report = _extra(response)
    assert report["stop_reason"] == "step_limit" and "stopped after 2 steps" in report["stopped"]


class _OneAtATime(FakeBackend):
    """A scripted backend that fails a test if two requests are on it at once."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.overlapped = False
        self.lock = threading.Lock()

    def stream_prompt(self, prompt: Prompt, **options: Any) -> Generator[str, None, Completion]:
        with self.lock:
            self.inside += 1
            self.overlapped |= self.inside > 1
        try:
            completion = yield from super().stream_prompt(prompt, **options)
            threading.Event().wait(0.05)
            return completion
        finally:
            with self.lock:
                self.inside -= 1


def test_concurrent_requests_take_turns_on_the_model() -> None:
    backend = _OneAtATime()
    backend.enqueue([f"answer number {n} with some words" for n in range(6)])
    service = ChatService(backend, FakeExecutor({}), LoopSettings(), model_id="fake")
    with Server.start(create_app(service)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        answers: list[str] = []

        def ask(stream: bool) -> None:
            if stream:
                chunks = client.chat.completions.create(model="fake", messages=USER, stream=True)
                answers.append(
                    "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                )
            else:
                reply = client.chat.completions.create(model="fake", messages=USER)
                answers.append(reply.choices[0].message.content or "")

        threads = [threading.Thread(target=ask, args=(n % 2 == 0,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(answers) == sorted(f"answer number {n} with some words" for n in range(6))
    assert not backend.overlapped


def test_tool_choice_none_overrides_a_server_that_requires_a_call() -> None:
    backend = FakeBackend(["Just words."])
    executor = FakeExecutor({ECHO: lambda args: str(args["value"])})
    settings = LoopSettings(syntax="directive", tool_choice="required")
    service = ChatService(backend, executor, settings, model_id="fake")
    with Server.start(create_app(service)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        reply = client.chat.completions.create(model="fake", messages=USER, tool_choice="none")
    assert reply.choices[0].message.content == "Just words."
    assert backend.grammars == [None]


class _Slow(FakeBackend):
    """A scripted backend that takes its time over each word and notes an abandoned reply."""

    def __init__(self) -> None:
        super().__init__()
        self.abandoned = threading.Event()

    def stream_prompt(self, prompt: Prompt, **options: Any) -> Generator[str, None, Completion]:
        words = super().stream_prompt(prompt, **options)
        try:
            while True:
                threading.Event().wait(0.05)
                yield next(words)
        except StopIteration as done:
            completion: Completion = done.value
            return completion
        except GeneratorExit:
            self.abandoned.set()
            raise


def test_a_client_that_goes_away_frees_the_model() -> None:
    backend = _Slow()
    backend.enqueue([" ".join(["word"] * 400), "Next."])  # 20 s if it ran to its end
    service = ChatService(backend, FakeExecutor({}), LoopSettings(), model_id="fake")
    with Server.start(create_app(service)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=10)
        with client.chat.completions.create(model="fake", messages=USER, stream=True) as stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    break  # and close the connection
        assert backend.abandoned.wait(timeout=5)
        reply = client.chat.completions.create(model="fake", messages=USER)
    assert reply.choices[0].message.content == "Next."


def test_a_named_tool_choice_cannot_reach_past_the_servers_tools() -> None:
    hidden = ECHO.model_copy(update={"name": "Hidden"})
    executor = FakeExecutor({ECHO: lambda args: "echo", hidden: lambda args: "secret"})
    settings = LoopSettings(syntax="directive", tools=("Echo",))
    service = ChatService(FakeBackend(), executor, settings, model_id="fake")
    with Server.start(create_app(service)) as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
        named = {"type": "function", "function": {"name": "Hidden"}}
        with pytest.raises(openai.BadRequestError, match="no tool 'Hidden' is offered"):
            client.chat.completions.create(model="fake", messages=USER, tool_choice=named)
    assert executor.calls == []
