"""Ready fakes for the loop's two seams, for tests (ours and users'): no model, no wasm.

    backend = FakeBackend()
    backend.enqueue(["USE_TOOL: Echo, value=hi", "It said hi."])
    executor = FakeExecutor({ECHO: lambda args: str(args["value"])})
    events = list(run_agent("Echo hi", backend, executor, LoopSettings(syntax="directive")))
    backend.prompts   # every prompt's text the loop rendered, in order (`rendered`: the Prompts)

`FakeBackend` renders prompts with the real chat-template code (ChatML unless `chat_template` is
set), streams each scripted reply word by word and reports the shared prompt prefix as cached
tokens (counted in characters), as the llama.cpp backend does with real tokens. `FakeExecutor`
runs Python functions in place of components and reports failures the way the sandbox does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.errors import ModelError
from agent.events import Completion
from agent.executor import unknown_tool_result
from agent.messages import ChatMessage, JsonScalar, Prompt, ToolCall
from agent.template import ChatTemplate
from tool_runner import ResultKind, ToolMetadata, ToolResult

ToolFunction = Callable[[Mapping[str, JsonScalar]], str]


class FakeBackend:
    """A `ChatBackend` that answers from a script of replies (`enqueue`), in order.

    Running out of replies raises ModelError, as a model that fails to generate would.
    """

    def __init__(
        self,
        replies: Iterable[str] = (),
        *,
        chat_template: str | None = None,
        model_path: Path = Path("fake.gguf"),
    ) -> None:
        self.chat_template = chat_template
        self.model_path = model_path
        self.replies: deque[str] = deque(replies)
        self.prompts: list[str] = []
        self.rendered: list[Prompt] = []
        self.grammars: list[str | None] = []
        self.limits: list[int | None] = []  # the max_tokens of each stream_prompt
        self.closed = False
        self._templates: dict[str | None, ChatTemplate] = {}

    def enqueue(self, replies: Iterable[str]) -> None:
        """Add replies to the end of the script."""
        self.replies.extend(replies)

    def _template(self) -> ChatTemplate:
        template = self._templates.get(self.chat_template)
        if template is None:
            template = self._templates[self.chat_template] = ChatTemplate(self.chat_template)
        return template

    @property
    def renders_tools(self) -> bool:
        """Whether `chat_template` writes the tool list it is given."""
        return self._template().renders_tools

    def render(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Mapping[str, Any]] = ()
    ) -> Prompt:
        """The prompt for `messages` (and `tools`) with `chat_template` (ChatML when None)."""
        return self._template().render(messages, tools=tools)

    def stream_prompt(
        self, prompt: Prompt, *, grammar: str | None = None, max_tokens: int | None = None
    ) -> Generator[str, None, Completion]:
        """Yield the next scripted reply word by word; the generator returns its Completion
        (`max_tokens` is recorded in `limits`)."""
        previous = self.prompts[-1] if self.prompts else ""
        self.limits.append(max_tokens)
        self.rendered.append(prompt)
        self.prompts.append(prompt.text)
        self.grammars.append(grammar)
        if not self.replies:
            raise ModelError("the fake backend has no scripted reply left")
        text = self.replies.popleft()
        for index, word in enumerate(text.split(" ")):
            yield word if index == 0 else " " + word
        cached = len(previous) if previous and prompt.text.startswith(previous) else 0
        return Completion(
            text=text,
            prompt=prompt.text,
            prompt_tokens=len(prompt.text),
            cached_tokens=cached,
            completion_tokens=len(text.split()),
        )

    def close(self) -> None:
        """Mark the backend closed (a Session closes what it opened)."""
        self.closed = True


class FakeExecutor:
    """A `ToolExecutor` whose tools are Python functions keyed by their metadata.

    A call to an unknown tool, or one missing a required parameter, is an error result; an
    exception from the function is a `tool_error` result. Every call is kept in `calls`.
    """

    def __init__(self, tools: Mapping[ToolMetadata, ToolFunction]) -> None:
        self._tools = {spec.name: (spec, function) for spec, function in tools.items()}
        self.calls: list[ToolCall] = []

    def specs(self) -> Sequence[ToolMetadata]:
        """Every tool's metadata, sorted by name."""
        return [self._tools[name][0] for name in sorted(self._tools)]

    def execute(self, call: ToolCall) -> ToolResult:
        """Run the tool's function on the call's arguments; never raises."""
        self.calls.append(call)
        found = self._tools.get(call.name)
        if found is None:
            return unknown_tool_result(call.name, sorted(self._tools))
        spec, function = found
        missing = [p.name for p in spec.params if p.required and p.name not in call.arguments]
        if missing:
            error = f"missing required parameter {missing[0]!r}"
            return ToolResult(tool=spec.name, kind=ResultKind.INVALID_ARGUMENTS, error=error)
        try:
            output = function(call.arguments)
        except Exception as exc:  # noqa: BLE001 - a failing tool is a result, as in the sandbox
            return ToolResult(tool=spec.name, kind=ResultKind.TOOL_ERROR, error=str(exc))
        return ToolResult(tool=spec.name, kind=ResultKind.SUCCESS, output=output)


class FakeLoader:
    """A `ModelLoader` for `Session.open` that hands out `backend` whatever model is named."""

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend

    def resolve(self, settings: object) -> Path:
        """The fake backend's model path (nothing is looked up)."""
        return self.backend.model_path

    def load(self, settings: object, path: Path) -> FakeBackend:
        """The fake backend."""
        return self.backend
