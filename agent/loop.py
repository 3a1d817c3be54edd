"""The agent loop: ask the model, run the tools it calls, feed the results back, until it answers.

    for event in run_agent("Please echo back 'hi'", backend, executor, LoopSettings()):
        ...  # RunStarted, then per step StepStarted, Token..., StepFinished, ToolCallStarted,
             # ToolCallFinished (or CallRepeated); last Answer | RunStopped

The loop builds nothing itself: it receives a `ChatBackend` (the model) and a `ToolExecutor`
(the tools) and yields events; it never prints. A reply that holds tool calls is followed by the
results (as tool messages in the call syntax's format) and another model turn. Malformed calls
and unknown tools do not stop the run: the model is told what went wrong and which tools exist.

One call runs per reply (the first; the grammar admits only one) unless `parallel_calls`, which
admits up to MAX_CALLS and runs identical ones once. The loop does not spin: a call the model
repeats (same tool, same arguments) in the step right after is not run again; the model gets the
earlier result with a note, and a second repeat in a row ends the run with that result as the
answer (`CallRepeated(ends_run=True)`, then `Answer`; `RunStopped` when the result was an
error). A run also stops without an answer (`RunStopped`) when it runs out of steps or a reply is
cut off by max_tokens (a cut-off reply's calls are not run). A step whose grammar admits only
calls (no free text: "required", with no reasoning block) is never cut off: its token limit is
the grammar's own bound (`syntax.bound.reply_token_budget`), whatever `max_tokens` says.
Host-side failures (the model cannot generate, a grammar does not validate) raise AgentError.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, Protocol

from agent.config import LoopSettings
from agent.errors import ConfigError
from agent.events import (
    Answer,
    CallRepeated,
    Completion,
    Event,
    RunStarted,
    RunStopped,
    StepFinished,
    StepStarted,
    StopReason,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.executor import match_name, unknown_tool_result
from agent.messages import ChatMessage, Prompt, ToolCall
from agent.reasoning import Reasoning, ReasoningStream
from agent.syntax import MAX_CALLS, CallSyntax, detect_syntax, get_syntax
from agent.syntax.bound import reply_token_budget
from agent.syntax.prompt import function_schema
from tool_runner import ToolMetadata, ToolResult


class ChatBackend(Protocol):
    """A chat model, as far as the loop uses one. `chat_template` is the model's own template
    source (None if it has none), which picks the call syntax in "auto" mode.

    The loop renders each prompt (`render`) and streams it (`stream_prompt`), so that it can
    report the prompt before the first token. `agent.fake.FakeBackend` is a scripted one.
    """

    chat_template: str | None

    @property
    def renders_tools(self) -> bool:
        """Whether the chat template writes the tool list it is given (`render(tools=)`)."""
        ...

    def render(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Mapping[str, Any]] = ()
    ) -> Prompt:
        """The prompt for `messages`, ending where the assistant's turn begins: the template's
        structure apart from the messages' text, which must never become control tokens.
        `tools` (JSON Schema function specs) are for the template to write."""
        ...

    def stream_prompt(
        self, prompt: Prompt, *, grammar: str | None = None, max_tokens: int | None = None
    ) -> Generator[str, None, Completion]:
        """Yield the continuation of `prompt` piece by piece, at most `max_tokens` tokens (the
        backend's own limit when None); the generator returns the Completion."""
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


def template_lists_tools(backend: ChatBackend, syntax: CallSyntax) -> bool:
    """Whether the chat template teaches the tools (their list and how to call them) instead of
    the system prompt: when it writes a tool list and `syntax` is the template's own."""
    own = detect_syntax(backend.chat_template)
    return syntax.name == own and own != "json" and backend.renders_tools


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


def offered_tools(tools: Sequence[ToolMetadata], names: Sequence[str]) -> list[ToolMetadata]:
    """The tools named in `names` (every tool when it is empty), in `tools`' order; raises
    ConfigError (one line listing the tools) for a name that is not one of them."""
    if not names:
        return list(tools)
    known = {tool.name for tool in tools}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"unknown tool {unknown[0]!r} in --tools (the tools are: "
            f"{', '.join(sorted(known)) or 'none'})"
        )
    return [tool for tool in tools if tool.name in names]


CallKey = tuple[str, frozenset[tuple[str, str, str]]]


def call_key(call: ToolCall) -> CallKey:
    """What makes two calls the same call: the tool and the arguments (typed: 1 is not true;
    arrays and objects compared as JSON, key order aside)."""
    return call.name, frozenset(
        (k, type(v).__name__, json.dumps(v, sort_keys=True)) for k, v in call.arguments.items()
    )


def calls_to_run(calls: Sequence[ToolCall], *, parallel: bool) -> tuple[ToolCall, ...]:
    """The calls of one reply that run: the first only, or with `parallel` each distinct one."""
    if not parallel:
        return tuple(calls[:1])
    distinct: dict[CallKey, ToolCall] = {}
    for call in calls:
        distinct.setdefault(call_key(call), call)
    return tuple(distinct.values())


_REPEAT_NOTE = (
    "(You already made this call in your previous turn; it was not run again and this is its "
    "result. Answer the user with it, or make a different call.)"
)


def run_agent(
    prompt: str | Sequence[ChatMessage],
    backend: ChatBackend,
    executor: ToolExecutor,
    settings: LoopSettings,
) -> Iterator[Event]:
    """Run the conversation to an answer or a stop, yielding events as they happen.

    `prompt` is the user's request, or a whole conversation to continue (a chat session passes
    its history plus the new user turn; a leading system message is kept as it is). Raises
    ConfigError when `settings.tools` names a tool the executor does not have.
    """
    tools = offered_tools(executor.specs(), settings.tools)
    syntax = choose_syntax(settings, backend.chat_template)
    # constrained decoding unless turned off, in every syntax: a call the grammar admits is one
    # the parser reads, and forced text is written rather than sampled (see `agent.decode`)
    constrained = settings.grammar is not False
    max_calls = MAX_CALLS if settings.parallel_calls else 1
    listed = template_lists_tools(backend, syntax)
    template_tools = [function_schema(tool) for tool in tools] if listed else []
    messages = initial_messages(prompt, syntax, [] if listed else tools, settings.system)
    reasoning = Reasoning.detect(backend.chat_template)
    yield RunStarted(syntax=syntax.name, tools=tuple(t.name for t in tools), grammar=constrained)
    previous: dict[CallKey, tuple[ToolResult, int]] = {}  # the last step's calls: result, repeats
    for step in range(1, settings.max_steps + 1):
        if step > 1:  # a tool made in this run (CreateTool) or hot-loaded is offered from now on
            offered = offered_tools(executor.specs(), settings.tools)
            if [t.name for t in offered] != [t.name for t in tools]:
                tools = offered
                template_tools = [function_schema(tool) for tool in tools] if listed else []
        choice = settings.tool_choice if step == 1 else "auto"
        grammar = (
            syntax.grammar(tools, tool_choice=choice, max_calls=max_calls)
            if constrained and tools
            else None
        )
        rendered = backend.render(messages, tools=template_tools)
        opened = reasoning.opened_by(rendered.text)
        grammar = reasoning.constrain(grammar, opened=opened) if grammar is not None else None
        yield StepStarted(step=step, prompt=rendered.text, grammar=grammar is not None)
        thinking = reasoning.stream(opened=opened)
        budget = reply_token_budget(grammar) if grammar is not None else None
        completion = yield from _generate(backend, rendered, grammar, budget, step, thinking)
        thought, reply = reasoning.split(completion.text, opened=opened)
        parsed = syntax.parse(reply, tools)
        cut_off = completion.finish_reason == "length"
        calls = () if cut_off else calls_to_run(parsed.calls, parallel=settings.parallel_calls)
        parsed = parsed.model_copy(update={"calls": calls})
        messages.append(syntax.assistant_message(completion.text, parsed))
        yield StepFinished(
            step=step,
            completion=completion,
            calls=calls,
            errors=parsed.errors,
            grammar=grammar is not None,
            reasoning=thought,
        )
        if cut_off:
            message = (
                f"the model's reply was cut off by max_tokens after {completion.completion_tokens} "
                "tokens (raise --max-tokens)"
            )
            yield _stopped("max_tokens", message, step, messages)
            return
        if not calls and not parsed.errors:
            answer = parsed.content.strip() or reply.strip()
            yield Answer(text=answer, steps=step, messages=tuple(messages))
            return
        current: dict[CallKey, tuple[ToolResult, int]] = {}
        for call in calls:
            key = call_key(call)
            if key not in previous:
                yield ToolCallStarted(step=step, call=call)
                result = _execute(executor, call, tools, restricted=bool(settings.tools))
                yield ToolCallFinished(step=step, call=call, result=result)
                messages.append(syntax.result_message(call, result.text, ok=result.ok))
                current[key] = (result, 0)
                continue
            result, repeats = previous[key]
            ends = repeats + 1 >= 2
            yield CallRepeated(
                step=step, call=call, result=result, repeats=repeats + 1, ends_run=ends
            )
            if ends:
                messages.append(syntax.result_message(call, result.text, ok=result.ok))
                yield _end_repeating(call, result, step, messages)
                return
            noted = f"{result.text}\n{_REPEAT_NOTE}"
            messages.append(syntax.result_message(call, noted, ok=result.ok))
            current[key] = (result, repeats + 1)
        previous = current
        if parsed.errors:
            messages.append(syntax.feedback_message(parsed.errors, tools))
    message = (
        f"stopped after {settings.max_steps} steps without a final answer "
        "(raise --max-steps to allow more)"
    )
    yield _stopped("step_limit", message, settings.max_steps, messages)


def _execute(
    executor: ToolExecutor, call: ToolCall, tools: Sequence[ToolMetadata], *, restricted: bool
) -> ToolResult:
    """Run `call`; with a restricted tool list, a tool not offered is an unknown tool (matched
    as the executors match names)."""
    names = sorted(tool.name for tool in tools)
    if restricted and match_name(call.name, names) is None:
        return unknown_tool_result(call.name, names)
    return executor.execute(call)


def _end_repeating(
    call: ToolCall, result: ToolResult, step: int, messages: list[ChatMessage]
) -> Answer | RunStopped:
    """The end of a run whose model made `call` a third time in a row: its result is the
    answer when it succeeded; otherwise the run stops without one."""
    if result.ok:
        messages.append(ChatMessage(role="assistant", content=result.text))
        return Answer(text=result.text, steps=step, messages=tuple(messages))
    message = f"the model kept repeating the same failing call to {call.name}"
    return _stopped("repeated_call", message, step, messages)


def _stopped(
    reason: StopReason, message: str, steps: int, messages: Sequence[ChatMessage]
) -> RunStopped:
    return RunStopped(reason=reason, message=message, steps=steps, messages=tuple(messages))


def _generate(
    backend: ChatBackend,
    prompt: Prompt,
    grammar: str | None,
    max_tokens: int | None,
    step: int,
    thinking: ReasoningStream,
) -> Generator[Event, None, Completion]:
    stream = (  # a backend that predates max_tokens still serves every unbounded step
        backend.stream_prompt(prompt, grammar=grammar)
        if max_tokens is None
        else backend.stream_prompt(prompt, grammar=grammar, max_tokens=max_tokens)
    )
    while True:
        try:
            pieces = thinking.feed(next(stream))
        except StopIteration as done:
            for text, reasoning in thinking.finish():
                yield Token(step=step, text=text, reasoning=reasoning)
            completion: Completion = done.value
            return completion
        for text, reasoning in pieces:
            yield Token(step=step, text=text, reasoning=reasoning)
