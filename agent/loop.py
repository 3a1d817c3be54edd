"""The agent loop: ask the model, run the tools it calls, feed the results back, until it answers.

    for event in run_agent("Please echo back 'hi'", backend, executor, LoopSettings()):
        ...  # RunStarted, then per step StepStarted, Token..., StepFinished, ToolCallStarted,
             # ToolCallFinished; last Answer | StepLimitReached

The loop builds nothing itself: it receives a `ChatBackend` (the model) and a `ToolExecutor`
(the tools) and yields events; it never prints. A reply that holds tool calls is followed by the
results (as tool messages in the call syntax's format) and another model turn, so the final answer
always comes from the model. Malformed calls and unknown tools do not stop the run: the model is
told what went wrong and which tools exist. Running out of steps ends with `StepLimitReached`.
Host-side failures (the model cannot generate, a grammar does not validate) raise AgentError.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Protocol

from agent.config import LoopSettings
from agent.events import (
    Answer,
    Completion,
    Event,
    RunStarted,
    StepFinished,
    StepLimitReached,
    StepStarted,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.messages import ChatMessage, Prompt, ToolCall
from agent.syntax import CallSyntax, detect_syntax, get_syntax
from tool_runner import ToolMetadata, ToolResult


class ChatBackend(Protocol):
    """A chat model, as far as the loop uses one. `chat_template` is the model's own template
    source (None if it has none), which picks the call syntax in "auto" mode.

    The loop renders each prompt (`render`) and streams it (`stream_prompt`), so that it can
    report the prompt before the first token. `agent.fake.FakeBackend` is a scripted one.
    """

    chat_template: str | None

    def render(self, messages: Sequence[ChatMessage]) -> Prompt:
        """The prompt for `messages`, ending where the assistant's turn begins: the template's
        structure apart from the messages' text, which must never become control tokens."""
        ...

    def stream_prompt(
        self, prompt: Prompt, *, grammar: str | None = None
    ) -> Generator[str, None, Completion]:
        """Yield the continuation of `prompt` piece by piece; the generator returns the
        Completion."""
        ...


class ToolExecutor(Protocol):
    """The tools the model may call (`agent.executor.RunnerExecutor` runs sandboxed components;
    `agent.fake.FakeExecutor` runs Python functions)."""

    def specs(self) -> Sequence[ToolMetadata]:
        """Every tool's metadata."""
        ...

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call`; an unknown tool or a failing one is an error result, never an exception."""
        ...


def choose_syntax(settings: LoopSettings, chat_template: str | None) -> CallSyntax:
    """The call syntax: the one asked for, or the one the chat template implies."""
    name = detect_syntax(chat_template) if settings.syntax == "auto" else settings.syntax
    return get_syntax(name)


def grammar_enabled(settings: LoopSettings, syntax: CallSyntax) -> bool:
    """Constrained decoding: as asked, else on for the directive syntax only."""
    return settings.grammar if settings.grammar is not None else syntax.name == "directive"


def initial_messages(
    prompt: str | Sequence[ChatMessage],
    syntax: CallSyntax,
    tools: Sequence[ToolMetadata],
    preamble: str | None = None,
) -> list[ChatMessage]:
    """The conversation to start from: the system prompt (unless given) and the user's turn(s)."""
    given = [ChatMessage(role="user", content=prompt)] if isinstance(prompt, str) else list(prompt)
    if given and given[0].role == "system":
        return given
    system = ChatMessage(role="system", content=syntax.system_prompt(tools, preamble=preamble))
    return [system, *given]


def run_agent(
    prompt: str | Sequence[ChatMessage],
    backend: ChatBackend,
    executor: ToolExecutor,
    settings: LoopSettings,
) -> Iterator[Event]:
    """Run the conversation to an answer or the step limit, yielding events as they happen.

    `prompt` is the user's request, or a whole conversation to continue (a chat session passes
    its history plus the new user turn; a leading system message is kept as it is).
    """
    tools = list(executor.specs())
    syntax = choose_syntax(settings, backend.chat_template)
    constrained = grammar_enabled(settings, syntax)
    messages = initial_messages(prompt, syntax, tools, settings.system)
    yield RunStarted(syntax=syntax.name, tools=tuple(t.name for t in tools), grammar=constrained)
    for step in range(1, settings.max_steps + 1):
        choice = settings.tool_choice if step == 1 else "auto"
        grammar = syntax.grammar(tools, tool_choice=choice) if constrained and tools else None
        rendered = backend.render(messages)
        yield StepStarted(step=step, prompt=rendered.text, grammar=grammar is not None)
        completion = yield from _generate(backend, rendered, grammar, step)
        parsed = syntax.parse(completion.text, tools)
        messages.append(syntax.assistant_message(completion.text, parsed))
        yield StepFinished(
            step=step,
            completion=completion,
            calls=parsed.calls,
            errors=parsed.errors,
            grammar=grammar is not None,
        )
        if not parsed.calls and not parsed.errors:
            answer = parsed.content.strip() or completion.text.strip()
            yield Answer(text=answer, steps=step, messages=tuple(messages))
            return
        for call in parsed.calls:
            yield ToolCallStarted(step=step, call=call)
            result = executor.execute(call)
            yield ToolCallFinished(step=step, call=call, result=result)
            messages.append(syntax.result_message(call, result.text, ok=result.ok))
        if parsed.errors:
            messages.append(syntax.feedback_message(parsed.errors, tools))
    yield StepLimitReached(
        message=(
            f"stopped after {settings.max_steps} steps without a final answer "
            "(raise --max-steps to allow more)"
        ),
        steps=settings.max_steps,
        messages=tuple(messages),
    )


def _generate(
    backend: ChatBackend, prompt: Prompt, grammar: str | None, step: int
) -> Generator[Event, None, Completion]:
    stream = backend.stream_prompt(prompt, grammar=grammar)
    while True:
        try:
            piece = next(stream)
        except StopIteration as done:
            completion: Completion = done.value
            return completion
        yield Token(step=step, text=piece)
