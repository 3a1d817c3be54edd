"""An app's agents, running: shared models, each agent's own tools, delegation as tool calls.

    with Team.open(load_app(path), session="work") as team:
        reply = team.ask("What is 17 * 23?", observe=render)   # every agent's events, live

`Team.open` loads each model the agents name once (agents that share a model share the loaded
copy; conversations stay apart because each run renders its own prompt) and opens each agent's
tools under their own policies. An agent listed in another's `tools` is offered to it as a tool
with one `task` parameter; calling it runs that agent's own loop, with its own tools, policy and
a fresh conversation, and its answer is the call's result (a run that stops without one is an
error result). The entry agent keeps the conversation across `ask`s (and, with a session, across
runs: `agent.app.sessions`).

Two limits keep delegation from running away: `max_depth` (a delegation deeper than it stops the
request) and `max_total_steps` (model turns across every agent of one request). Both end the
request with a `TeamReply` whose `stopped` says which, never a hang.

Events: `observe` receives each agent's loop events wrapped in a `TeamEvent` that says which
agent produced it and through which chain of delegations, with the time since the request began.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from agent.app.plan import App
from agent.app.schema import AgentEntry
from agent.config import AgentSettings, LoopSettings
from agent.events import Answer, Event, RunStopped, StepStarted, StopReason
from agent.executor import match_name, open_executor, unknown_tool_result
from agent.loop import ChatBackend, ToolExecutor, run_agent
from agent.messages import ChatMessage, ToolCall
from agent.session import LlamaLoader, LoadedModel, ModelLoader
from tool_runner import (
    Closing,
    MemoryGrant,
    Policy,
    ResultKind,
    ToolMetadata,
    ToolParam,
    ToolResult,
)

TeamStopReason = Literal["team_step_limit", "depth_limit"]
"""Why a request ended early for a reason of the team's: its step budget or delegation depth."""

TASK_PARAM = ToolParam(
    name="task",
    description="The whole task for this agent, with every detail it needs.",
    type="string",
    required=True,
)


class TeamEvent(BaseModel):
    """One agent's loop event: `path` is the chain of agents from the entry agent to the one that
    produced it (the entry agent alone at depth 0), `t` seconds since the request began."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    path: tuple[str, ...]
    t: float
    event: Event

    @property
    def depth(self) -> int:
        """0 for the entry agent, 1 for an agent it called, and so on."""
        return len(self.path) - 1


class TeamReply(BaseModel):
    """How a request ended: the entry agent's answer, or why there is none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer: str | None = None
    stopped: StopReason | TeamStopReason | None = None
    message: str = ""
    steps: int = 0
    delegations: int = 0
    seconds: float = 0.0


@runtime_checkable
class KeepsState(Protocol):
    """A backend whose evaluated context can be saved and restored (llama.cpp's KV state), so
    that agents sharing one model each keep their prompt prefix between turns."""

    def save_state(self) -> object:
        """A snapshot of the evaluated context."""
        ...

    def load_state(self, state: object) -> None:
        """Restore a snapshot taken by `save_state`."""
        ...


class _TeamStop(Exception):
    """Ends the whole request (out of steps, too deep): caught by `Team.ask`."""

    def __init__(self, reason: TeamStopReason, message: str) -> None:
        super().__init__(message)
        self.reason: TeamStopReason = reason
        self.message = message


class ToolsOf:
    """A ToolExecutor over several executors (an agent's tool entries and its delegates); a
    name two of them offer is refused when the agent opens."""

    def __init__(self, parts: Sequence[ToolExecutor]) -> None:
        self.parts = list(parts)

    def specs(self) -> Sequence[ToolMetadata]:
        """Every tool of every part, sorted by name."""
        specs = [spec for part in self.parts for spec in part.specs()]
        return sorted(specs, key=lambda spec: spec.name)

    def execute(self, call: ToolCall) -> ToolResult:
        """Run `call` on the part that has the tool; never raises."""
        owners = {spec.name: part for part in self.parts for spec in part.specs()}
        found = match_name(call.name, owners)
        if found is None:
            return unknown_tool_result(call.name, sorted(owners))
        if found != call.name:
            call = call.model_copy(update={"name": found})
        return owners[found].execute(call)


class Delegates:
    """The agents one agent may call, offered as tools (one `task` parameter each)."""

    def __init__(self, team: Team, names: Sequence[str]) -> None:
        self._team = team
        self._names = list(names)

    def specs(self) -> Sequence[ToolMetadata]:
        """One tool per agent: its name and description."""
        return [self._team.agent_tool(name) for name in self._names]

    def execute(self, call: ToolCall) -> ToolResult:
        """Run the agent named by `call` on its `task`; never raises (but a request that runs
        out of steps or depth ends as a whole, see `Team.ask`)."""
        found = match_name(call.name, self._names)
        if found is None:
            return unknown_tool_result(call.name, sorted(self._names))
        task = call.arguments.get("task")
        if not isinstance(task, str) or not task.strip():
            return ToolResult(
                tool=found,
                kind=ResultKind.INVALID_ARGUMENTS,
                error="missing required parameter 'task' (a string: the whole task)",
            )
        return self._team.delegate(found, task)


class Team(Closing):
    """An app's agents with their models and tools open; `close()` releases them all."""

    def __init__(
        self,
        app: App,
        backends: dict[str, ChatBackend],
        tools: dict[str, list[ToolExecutor]],
        *,
        history: Sequence[ChatMessage] = (),
        resources: ExitStack | None = None,
        keep_contexts: bool = True,
    ) -> None:
        self.app = app
        self.keep_contexts = keep_contexts
        """Save and restore each agent's context on a shared model (when the backend can)."""
        self.backends = backends
        self._resources = resources if resources is not None else ExitStack()
        self._history: tuple[ChatMessage, ...] = tuple(history)
        self._executors: dict[str, ToolsOf] = {}
        for name in app.spec.agents:
            parts = [*tools.get(name, [])]
            delegates = app.delegates(name)
            if delegates:
                parts.append(Delegates(self, delegates))
            self._executors[name] = ToolsOf(parts)
            refuse_clashes(app, name, [spec.name for spec in self._executors[name].specs()])
        self._stack: list[str] = []
        self._observe: Callable[[TeamEvent], None] = _ignore
        self._started = 0.0
        self._steps = 0
        self._delegations = 0
        self._states: dict[tuple[str, str], object] = {}  # (model, agent) -> saved KV state
        self._last_agent: dict[str, str] = {}  # model -> the agent whose context it holds

    @classmethod
    def open(
        cls,
        app: App,
        *,
        loader: ModelLoader | None = None,
        cache_dir: Path | None = None,
        history: Sequence[ChatMessage] = (),
        memory_file: Path | None = None,
        models_dir: Path | None = None,
        keep_contexts: bool = True,
    ) -> Team:
        """Load the models the agents use (each once) and open every agent's tools.

        `memory_file` is where granted key-value memory lives (None: memory grants fail to
        open). Raises AppFileError, ModelStoreError, ModelError, tool_runner.LoadError.
        """
        loader = loader if loader is not None else LlamaLoader()
        stack = ExitStack()
        try:
            tools = open_tools(app, stack, cache_dir, memory_file)
            backends: dict[str, ChatBackend] = {}
            used = {agent.model for agent in app.spec.agents.values()}
            for name in sorted(used):
                settings = model_settings(app, name, models_dir)
                path = loader.resolve(settings)
                backend: LoadedModel = loader.load(settings, path)
                stack.callback(backend.close)
                backends[name] = backend
        except BaseException:
            stack.close()
            raise
        return cls(
            app, backends, tools, history=history, resources=stack, keep_contexts=keep_contexts
        )

    @property
    def history(self) -> tuple[ChatMessage, ...]:
        """The entry agent's conversation so far."""
        return self._history

    def reset(self) -> None:
        """Forget the entry agent's conversation."""
        self._history = ()

    def tools(self, agent: str) -> list[ToolMetadata]:
        """The tools `agent` is offered (its tool entries' tools and its delegates)."""
        return list(self._executors[agent].specs())

    def agent_tool(self, name: str) -> ToolMetadata:
        """The agent `name` as a tool for its callers."""
        entry = self.app.spec.agents[name]
        description = entry.description or f"Ask the {name} agent to do a task."
        return ToolMetadata(name=name, description=description, version="app", params=(TASK_PARAM,))

    def ask(self, text: str, observe: Callable[[TeamEvent], None] | None = None) -> TeamReply:
        """Run one request through the entry agent (in the conversation so far), passing every
        agent's events to `observe` as they happen; the conversation grows by the exchange."""
        self._observe = observe if observe is not None else _ignore
        self._started = time.perf_counter()
        self._steps = self._delegations = 0
        entry = self.app.spec.app.entry
        prompt = [*self._history, ChatMessage(role="user", content=text)]
        try:
            final = self._run(entry, prompt)
        except _TeamStop as stop:
            return self._reply(stopped=stop.reason, message=stop.message)
        finally:
            self._stack.clear()
        self._history = final.messages
        if isinstance(final, Answer):
            return self._reply(answer=final.text)
        return self._reply(stopped=final.reason, message=final.message)

    def delegate(self, name: str, task: str) -> ToolResult:
        """Run agent `name` on `task` for the agent now running (see `Delegates`)."""
        depth = len(self._stack)  # the new agent's depth: the caller is at depth - 1
        if depth > self.app.spec.app.max_depth:
            chain = " -> ".join([*self._stack, name])
            raise _TeamStop(
                "depth_limit",
                f"delegation {chain} goes deeper than max_depth {self.app.spec.app.max_depth} "
                "(raise [app] max_depth to allow it)",
            )
        self._delegations += 1
        started = time.perf_counter()
        final = self._run(name, [ChatMessage(role="user", content=task)])
        elapsed_ms = (time.perf_counter() - started) * 1000
        if isinstance(final, Answer):
            return ToolResult(
                tool=name, kind=ResultKind.SUCCESS, output=final.text, elapsed_ms=elapsed_ms
            )
        return ToolResult(
            tool=name,
            kind=ResultKind.TOOL_ERROR,
            error=f"agent {name} stopped without an answer: {final.message}",
            elapsed_ms=elapsed_ms,
        )

    def _run(self, name: str, prompt: Sequence[ChatMessage]) -> Answer | RunStopped:
        entry = self.app.spec.agents[name]
        backend = self.backends[entry.model]
        self._stack.append(name)
        path = tuple(self._stack)
        try:
            self._switch_context(entry.model, name, backend)
            final: Answer | RunStopped | None = None
            for event in run_agent(prompt, backend, self._executors[name], loop_settings(entry)):
                if isinstance(event, StepStarted):
                    self._take_step(name)
                    self._switch_context(entry.model, name, backend)
                self._observe(TeamEvent(agent=name, path=path, t=self._clock(), event=event))
                if isinstance(event, (Answer, RunStopped)):
                    final = event
            assert final is not None  # run_agent always ends with Answer or RunStopped
            return final
        finally:
            self._stack.pop()

    def _take_step(self, name: str) -> None:
        self._steps += 1
        limit = self.app.spec.app.max_total_steps
        if self._steps > limit:
            raise _TeamStop(
                "team_step_limit",
                f"the team used all {limit} steps of this request (agent {name} wanted more; "
                "raise [app] max_total_steps to allow more)",
            )

    def _switch_context(self, model: str, agent: str, backend: ChatBackend) -> None:
        """Before `agent` evaluates a prompt on the shared `model`: save the context of the
        agent that used it last and restore this agent's, so that each keeps its prefix."""
        holder = self._last_agent.get(model)
        if holder == agent or not self.keep_contexts or not isinstance(backend, KeepsState):
            self._last_agent[model] = agent
            return
        if holder is not None:
            self._states[(model, holder)] = backend.save_state()
        saved = self._states.get((model, agent))
        if saved is not None:
            backend.load_state(saved)
        self._last_agent[model] = agent

    def _clock(self) -> float:
        return round(time.perf_counter() - self._started, 6)

    def _reply(self, **fields: object) -> TeamReply:
        return TeamReply.model_validate(
            {
                **fields,
                "steps": self._steps,
                "delegations": self._delegations,
                "seconds": round(time.perf_counter() - self._started, 6),
            }
        )

    def close(self) -> None:
        """Close every model and tool host this team opened."""
        self._resources.close()


def _ignore(event: TeamEvent) -> None:
    return None


def loop_settings(entry: AgentEntry) -> LoopSettings:
    """The loop settings of one agent."""
    return LoopSettings(
        syntax=entry.syntax,
        grammar=entry.grammar,
        tool_choice=entry.tool_choice,
        max_steps=entry.max_steps,
        system=entry.system,
        parallel_calls=entry.parallel_calls,
    )


def model_settings(app: App, name: str, models_dir: Path | None = None) -> AgentSettings:
    """The settings a ModelLoader needs for the model entry `name` (a path in the entry is
    relative to the app file; a bare name is a registry name or a file in the models dir)."""
    entry = app.spec.models[name]
    model = entry.model
    if "/" in model or model.endswith(".gguf"):
        candidate = app.resolve_path(Path(model))
        if candidate.exists() or not Path(model).expanduser().exists():
            model = str(candidate)
    fields = entry.model_dump(exclude={"model"})
    return AgentSettings(model=model, models_dir=models_dir, **fields)


def tool_policy(app: App, tool: str, agent: str, memory_file: Path | None) -> Policy:
    """The policy of tool entry `tool` when `agent` uses it: the entry's grants and limits, and
    the memory grant bound to the agent's own namespace."""
    policy = app.tool_policy(tool)
    if not app.tool_grants[tool].memory:
        return policy
    if memory_file is None:
        raise app.error(("tools", tool, "grants", "memory"), "memory needs a session store")
    return policy.updated(memory=MemoryGrant(path=memory_file, namespace=agent).model_dump())


def open_tools(
    app: App,
    stack: ExitStack,
    cache_dir: Path | None,
    memory_file: Path | None,
    *,
    in_process: bool | None = None,
) -> dict[str, list[ToolExecutor]]:
    """Each agent's tool executors, entered into `stack`; a tool entry without memory is opened
    once and shared (`in_process` overrides the app's setting, e.g. for a check)."""
    opened: dict[tuple[str, str | None], ToolExecutor] = {}
    tools: dict[str, list[ToolExecutor]] = {}
    for agent in app.spec.agents:
        for tool in app.tools_of(agent):
            key = (tool, agent if app.tool_grants[tool].memory else None)
            if key not in opened:
                opened[key] = stack.enter_context(
                    open_tool(app, tool, agent, cache_dir, memory_file, in_process)
                )
            tools.setdefault(agent, []).append(opened[key])
    return tools


def open_tool(
    app: App,
    tool: str,
    agent: str,
    cache_dir: Path | None,
    memory_file: Path | None,
    in_process: bool | None,
) -> AbstractContextManager[ToolExecutor]:
    """The executor of tool entry `tool` as `agent` uses it (its policy; see `tool_policy`)."""
    entry = app.spec.tools[tool]
    policy = tool_policy(app, tool, agent, memory_file)
    components = (app.resolve_path(entry.component),) if entry.component is not None else ()
    tools_dir = app.resolve_path(entry.dir) if entry.dir is not None else Path(".")
    return open_executor(
        components,
        tools_dir,
        policy,
        cache_dir=cache_dir,
        workers=app.spec.app.workers,
        in_process=app.spec.app.in_process if in_process is None else in_process,
    )


def refuse_clashes(app: App, agent: str, names: Sequence[str]) -> None:
    """Raise AppFileError when two of the tools `agent` is offered share a name."""
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise app.error(
            ("agents", agent, "tools"),
            f"two of its tools are both called {clashes[0]!r}; list only one of them",
        )


__all__ = [
    "Delegates",
    "KeepsState",
    "Team",
    "TeamEvent",
    "TeamReply",
    "TeamStopReason",
    "ToolsOf",
    "loop_settings",
    "model_settings",
    "open_tool",
    "open_tools",
    "refuse_clashes",
    "tool_policy",
]
