"""Chat completions over one loaded model and its tools: what the HTTP layer calls.

    service = ChatService(session.backend, session.executor, session.settings, model_id="smollm2")
    completion = service.complete(request)             # blocks; one request at a time
    for chunk in service.stream(request, cancelled):   # blocks between chunks
        ...

The conversation comes from each request, never from the server's state. A request without
`tools` runs the agent loop with the server's sandboxed tools to an answer; a request with
`tools` offers the client's functions instead and stops at the first turn that calls one,
returning the calls unexecuted (`finish_reason: "tool_calls"`). Requests run one at a time on
the model (a lock), so each one finds in the KV cache whatever prefix it shares with the one
before (the backend reuses it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from agent.choices import ToolChoice
from agent.config import LoopSettings, SamplingSettings
from agent.errors import GrammarError
from agent.events import Event, StepFinished, Token
from agent.loop import ChatBackend, ToolExecutor, choose_syntax, offered_tools, run_agent
from agent.messages import ChatMessage
from agent.serve.conversation import to_conversation
from agent.serve.errors import RequestError, UnknownModelError
from agent.serve.functions import ClientTools
from agent.serve.report import RunReport
from agent.serve.schema import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Delta,
    DeltaToolCall,
    NamedToolChoice,
)
from agent.serve.textgate import TextGate
from agent.session import Session
from agent.syntax import MAX_CALLS, CallSyntax
from tool_runner import ToolMetadata


@runtime_checkable
class TunableBackend(Protocol):
    """A backend whose sampling a request may change for its own run (llama.cpp's may)."""

    sampling: SamplingSettings


@dataclass(frozen=True)
class Plan:
    """A validated request, ready to run: the conversation, the loop's settings for it, the
    tools (the server's, or the client's `ClientTools`) and the call syntax."""

    messages: list[ChatMessage]
    settings: LoopSettings
    executor: ToolExecutor
    client: ClientTools | None
    tools: list[ToolMetadata]
    syntax: CallSyntax


class ChatService:
    """One model and its tools serving chat completions, one request at a time."""

    def __init__(
        self,
        backend: ChatBackend,
        executor: ToolExecutor,
        settings: LoopSettings,
        *,
        model_id: str,
        aliases: Sequence[str] = (),
    ) -> None:
        self.backend = backend
        self.executor = executor
        self.settings = settings
        self.model_id = model_id
        self.created = int(time.time())
        self._names = {model_id, *aliases}
        self._lock = threading.Lock()

    @classmethod
    def for_session(cls, session: Session, *, aliases: Sequence[str] = ()) -> ChatService:
        """A service over an open session's model, tools and loop settings; the model's id is
        its file name without `.gguf`, and its file name and `aliases` name it too."""
        path = Path(session.model)
        names = (path.name, str(path), *(alias for alias in aliases if alias))
        return cls(
            session.backend,
            session.executor,
            session.settings,
            model_id=path.stem or str(path),
            aliases=names,
        )

    def check_model(self, name: str) -> None:
        """Raise UnknownModelError unless `name` is the served model (its id or an alias)."""
        if name not in self._names:
            raise UnknownModelError(name, self.model_id)

    def plan(self, request: ChatRequest) -> Plan:
        """The run `request` asks for; raises RequestError for anything that cannot be used."""
        self.check_model(request.model)
        client = ClientTools.from_request(request.tools) if request.tools else None
        executor: ToolExecutor = client if client is not None else self.executor
        names = self.settings.tools if client is None else ()
        choice = self.settings.tool_choice
        wanted = request.tool_choice
        if wanted == "none":
            executor, client, names, choice = ClientTools(), None, (), "auto"
        elif wanted in ("auto", "required"):
            choice = wanted
        tools = offered_tools(executor.specs(), names)
        if isinstance(wanted, NamedToolChoice):
            # only one of the tools on offer (a server's --tools still bounds what runs)
            tools = _named(tools, wanted.function.name)
            names, choice = (tools[0].name,), "required"
        if choice == "required" and not tools:
            raise RequestError("tool_choice: a call is required but no tool is offered")
        syntax = choose_syntax(self.settings, self.backend.chat_template)
        preamble, messages = to_conversation(request.messages, syntax, tools)
        parallel = request.parallel_tool_calls
        if client is not None:
            _check_grammar(syntax, tools, choice, parallel or self.settings.parallel_calls)
        settings = self.settings.model_copy(
            update={
                "tools": names,
                "tool_choice": choice,
                "system": preamble if preamble is not None else self.settings.system,
                "parallel_calls": self.settings.parallel_calls if parallel is None else parallel,
            }
        )
        return Plan(messages, settings, executor, client, tools, syntax)

    def complete(self, request: ChatRequest) -> ChatCompletion:
        """Run `request` to its end and return the whole response."""
        plan = self.plan(request)
        report = RunReport(plan, self.model_id)
        with self._running(request), closing(self._events(plan)) as events:
            for event in events:
                if report.add(event):
                    break
        return report.completion()

    def stream(
        self, request: ChatRequest, cancelled: threading.Event | None = None
    ) -> Iterator[ChatCompletionChunk]:
        """Run `request`, yielding its stream chunks; the run ends early (between two events)
        once `cancelled` is set. RequestError is raised before the first chunk."""
        plan = self.plan(request)
        report = RunReport(plan, self.model_id)
        include_usage = request.stream_options is not None and request.stream_options.include_usage
        return self._chunks(request, plan, report, cancelled, include_usage)

    def _chunks(
        self,
        request: ChatRequest,
        plan: Plan,
        report: RunReport,
        cancelled: threading.Event | None,
        include_usage: bool,
    ) -> Iterator[ChatCompletionChunk]:
        yield report.chunk(Delta(role="assistant", content=""))
        gate = TextGate(plan.syntax, plan.tools)
        with self._running(request):
            events = self._events(plan)
            try:
                for event in events:
                    if cancelled is not None and cancelled.is_set():
                        return
                    done = report.add(event)
                    text = _text(event, gate)
                    if text:
                        yield report.chunk(Delta(content=text))
                    if isinstance(event, StepFinished):
                        gate = TextGate(plan.syntax, plan.tools)
                    if done:
                        break
            finally:
                events.close()
        if report.unstreamed_answer:
            yield report.chunk(Delta(content=report.unstreamed_answer))
        calls = report.wire_calls()
        if calls:
            deltas = [
                DeltaToolCall(index=n, id=c.id, function=c.function) for n, c in enumerate(calls)
            ]
            yield report.chunk(Delta(tool_calls=deltas))
        completion = report.completion()
        finish = completion.choices[0].finish_reason
        yield report.chunk(Delta(), finish_reason=finish, agent=completion.llm_agent)
        if include_usage:
            yield ChatCompletionChunk(
                id=report.id, created=report.created, model=self.model_id, choices=[],
                usage=completion.usage,
            )  # fmt: skip

    def _events(self, plan: Plan) -> Generator[Event, None, None]:
        # a generator of our own, so that closing it closes the loop's (and its tool calls)
        yield from run_agent(plan.messages, self.backend, plan.executor, plan.settings)

    @contextmanager
    def _running(self, request: ChatRequest) -> Iterator[None]:
        """Hold the model for one request, with its sampling settings while it runs."""
        with self._lock:
            if not isinstance(self.backend, TunableBackend):
                yield
                return
            before = self.backend.sampling
            changes = {
                "temperature": request.temperature,
                "top_p": request.top_p,
                "max_tokens": request.max_completion_tokens or request.max_tokens,
            }
            given = {name: value for name, value in changes.items() if value is not None}
            self.backend.sampling = before.model_copy(update=given)
            try:
                yield
            finally:
                self.backend.sampling = before


def _named(tools: Sequence[ToolMetadata], name: str) -> list[ToolMetadata]:
    """The tool `tool_choice` names, as a one-tool list; raises RequestError."""
    chosen = [tool for tool in tools if tool.name == name]
    if not chosen:
        offered = ", ".join(tool.name for tool in tools) or "none"
        raise RequestError(
            f"tool_choice: no tool {name!r} is offered (the tools are: {offered})",
            param="tool_choice",
        )
    return chosen


def _check_grammar(
    syntax: CallSyntax, tools: Sequence[ToolMetadata], choice: ToolChoice, parallel: bool
) -> None:
    """Raise RequestError when the client's functions make no valid grammar (the loop would
    fail on it later, as the server's fault)."""
    try:
        syntax.grammar(tools, tool_choice=choice, max_calls=MAX_CALLS if parallel else 1)
    except GrammarError as exc:
        raise RequestError(f"tools: the functions cannot be offered: {exc}", param="tools") from exc


def _text(event: Event, gate: TextGate) -> str:
    """The answer text `event` lets through to a streaming client."""
    if isinstance(event, Token) and not event.reasoning:
        return gate.feed(event.text)
    if isinstance(event, StepFinished):
        return gate.finish(answer=not event.calls and not event.errors)
    return ""


__all__ = ["ChatService", "Plan", "TunableBackend"]
