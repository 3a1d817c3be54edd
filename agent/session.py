"""A `Session`: one model, its sandboxed tools, and the conversation so far.

    settings = resolve_settings(flags, config_file=None, environ=os.environ)
    with Session.open(settings) as session:
        for event in session.ask("Please echo back 'hi'"):
            ...                       # render it; the session keeps the conversation
        session.reset()               # start over (the model stays loaded)

`Session.open` builds the sandbox policy, resolves the model (a registry name or a path; never
the network), loads the tools (quick to fail) and then the model, and `close()` closes all of
them. Everything it raises is one line: `ConfigError` for settings that cannot be used (a bad
grant, no components, an unknown tool in `tools`), `ModelStoreError`/`ModelError` for the
model, `tool_runner.LoadError` for a component. A session can also be made from pieces already
open (`Session(backend, executor)`), e.g. a `agent.fake.FakeBackend` in tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from agent.approval import Approver, Refuse
from agent.capabilities import ApprovingExecutor, load_user_grants
from agent.config import AgentSettings, LoopSettings
from agent.errors import ConfigError
from agent.events import Answer, Event, RunStopped
from agent.executor import NoTools, ReportsStats, open_executor
from agent.loop import ChatBackend, ToolExecutor, offered_tools, run_agent
from agent.messages import ChatMessage
from agent.paths import user_paths
from agent.toolsmith import with_library
from agent.transcript import TranscriptRecorder
from tool_runner import (
    SANDBOX_PARAMS,
    CapabilityRequest,
    Closing,
    HostStats,
    Policy,
    PolicyError,
    ToolMetadata,
    policy_from_params,
    with_lock,
)


class LoadedModel(ChatBackend, Protocol):
    """A chat backend that a session opened and must close."""

    def close(self) -> None:
        """Free the model."""
        ...


class ModelLoader(Protocol):
    """How `Session.open` finds and loads the model that settings name: `resolve` is quick and
    offline (it runs before the tools load), `load` is the slow part. `agent.fake.FakeLoader`
    hands out a scripted backend."""

    def resolve(self, settings: AgentSettings) -> Path:
        """The model file; raises ModelStoreError."""
        ...

    def load(self, settings: AgentSettings, path: Path) -> LoadedModel:
        """The loaded model; raises ModelError."""
        ...


class LlamaLoader:
    """Models from the models directory (or any path), run by llama.cpp."""

    def resolve(self, settings: AgentSettings) -> Path:
        """`settings.model` as a file: a path, a file in the models dir or a registry name."""
        from agent.models import resolve_model

        return resolve_model(settings.model, models_dir=settings.models_dir)

    def load(self, settings: AgentSettings, path: Path) -> LoadedModel:
        """Load `path` with the model and sampling settings."""
        from agent.backend import load_backend  # imports llama_cpp: only when a model loads

        return load_backend(settings.model_settings(path), settings.sampling())


def sandbox_policy(settings: AgentSettings) -> Policy:
    """The policy file (or deny-everything) with the grant and limit settings on top; raises
    ConfigError with one line."""
    # the settings carry tool-runner's flag names, but for `--policy`, which is `policy` here
    params = settings.model_dump(include=set(SANDBOX_PARAMS))
    try:
        policy = policy_from_params({**params, "policy_file": settings.policy})
        # the grants a person approved with "always" (agent.capabilities), and the pins of
        # `agent tools lock` (a component whose bytes changed is refused)
        paths = user_paths(os.environ)
        return with_lock(load_user_grants(policy, paths.policy_file), paths.tools_lock)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from exc


class Session(Closing):
    """A conversation with one model and one set of tools; `close()` releases what it opened."""

    def __init__(
        self,
        backend: ChatBackend,
        executor: ToolExecutor,
        settings: LoopSettings | None = None,
        *,
        model: str = "",
        load_s: float | None = None,
        resources: ExitStack | None = None,
        approver: Approver | None = None,
    ) -> None:
        self.backend = backend
        self.executor = executor
        self.settings = settings if settings is not None else LoopSettings()
        self.model = model
        self.load_s = load_s
        self._resources = resources if resources is not None else ExitStack()
        self._history: tuple[ChatMessage, ...] = ()
        self.approver: Approver = approver if approver is not None else Refuse()
        """Who answers approval requests (`agent.approval`); by default nobody: refused."""
        self.refused: list[CapabilityRequest] = []
        """The capability requests refused so far (`agent.capabilities`; `agent run` reports
        each with the flag that would grant it)."""

    @classmethod
    def open(
        cls,
        settings: AgentSettings,
        *,
        loader: ModelLoader | None = None,
        cache_dir: Path | None = None,
        approver: Approver | None = None,
    ) -> Session:
        """Open the tools and the model that `settings` name (see the module docstring);
        `cache_dir` is the components' compile cache (None: tool_runner's default); `approver`
        answers requests that need a person (None: every one is refused)."""
        loader = loader if loader is not None else LlamaLoader()
        policy = sandbox_policy(settings)
        path = loader.resolve(settings)
        stack = ExitStack()
        approving: ApprovingExecutor | None = None
        approver_of: Callable[[], Approver] = lambda: approver or Refuse()  # noqa: E731
        try:
            executor: ToolExecutor = NoTools()
            approver = approver if approver is not None else Refuse()
            if not settings.no_tools:
                executor = stack.enter_context(
                    open_executor(
                        settings.components,
                        settings.tools_dir or Path("components"),
                        policy,
                        cache_dir=cache_dir,
                        workers=settings.workers,
                        in_process=settings.in_process,
                        url=settings.tool_host,
                    )
                )
                # a denied capability is put to the person, the call retried if allowed
                approving = executor = ApprovingExecutor(
                    executor,
                    policy,
                    approver=lambda: approver_of(),
                    policy_file=user_paths(os.environ).policy_file,
                )
                # the library's self-built tools, and CreateTool with --create-tools (issue 16)
                executor = with_library(
                    executor,
                    stack,
                    library_dir=user_paths(os.environ).library_dir,
                    approver=lambda: approver_of(),  # the one a front end installs
                    create=settings.create_tools,
                    policy=policy,
                    cache_dir=cache_dir,
                )
            offered_tools(executor.specs(), settings.tools)  # a bad --tools fails before the model
            started = time.perf_counter()
            backend = loader.load(settings, path)
            stack.callback(backend.close)
            load_s = time.perf_counter() - started
        except BaseException:
            stack.close()
            raise
        session = cls(
            backend,
            executor,
            settings.loop(),
            model=str(path),
            load_s=load_s,
            resources=stack,
            approver=approver,
        )
        approver_of = lambda: session.approver  # noqa: E731 - the one a front end installed
        if approving is not None:
            session.refused = approving.refused
        return session

    @property
    def tools(self) -> list[ToolMetadata]:
        """The tools the model may call (those `settings.tools` names, or all)."""
        return offered_tools(self.executor.specs(), self.settings.tools)

    @property
    def history(self) -> tuple[ChatMessage, ...]:
        """The conversation so far (system prompt, turns, tool calls and results)."""
        return self._history

    def ask(self, text: str) -> Iterator[Event]:
        """Send the user's `text` in the conversation so far and yield the run's events; the
        conversation grows by the whole exchange once the run ends."""
        prompt = [*self._history, ChatMessage(role="user", content=text)]
        for event in run_agent(prompt, self.backend, self.executor, self.settings):
            if isinstance(event, (Answer, RunStopped)):
                self._history = event.messages
            yield event

    def reset(self) -> None:
        """Forget the conversation (the model and tools stay loaded)."""
        self._history = ()

    def restore(self, messages: Sequence[ChatMessage]) -> None:
        """Continue a saved conversation: `messages` become the history (without a leading
        system message, the next request gets this session's system prompt)."""
        self._history = tuple(messages)

    def recorder(self) -> TranscriptRecorder:
        """A transcript recorder for this session's runs (model and load time filled in)."""
        return TranscriptRecorder(model=self.model, load_s=self.load_s, host=self.host_stats)

    def host_stats(self) -> HostStats | None:
        """The tool workers' figures (restarts, crashes, timeouts); None when the tools run in
        this process or the executor reports none."""
        return self.executor.stats() if isinstance(self.executor, ReportsStats) else None

    def close(self) -> None:
        """Close the model and the tools this session opened."""
        self._resources.close()
