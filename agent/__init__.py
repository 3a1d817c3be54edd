"""llm-agent: a local agent whose tools run in a WebAssembly sandbox.

The public API; everything else is private to the package (the CLI uses only this):

    from agent import Session, resolve_settings

    settings = resolve_settings({"model": "models/qwen.gguf", "max_steps": 8})
    with Session.open(settings) as session:
        for event in session.ask("What is 2**100?"):
            ...

`run_agent` is the loop itself, over any `ChatBackend` and `ToolExecutor`; `FakeBackend`,
`FakeExecutor` and `FakeLoader` are ready fakes of those seams for tests.
"""

from agent.config import (
    AgentSettings,
    LoopSettings,
    ModelSettings,
    SamplingSettings,
    resolve_settings,
)
from agent.errors import AgentError, ConfigError, ModelError, ModelStoreError
from agent.events import (
    Answer,
    CallRepeated,
    Completion,
    Event,
    RunStarted,
    RunStopped,
    StepFinished,
    StepLimitReached,
    StepStarted,
    Token,
    ToolCallFinished,
    ToolCallStarted,
)
from agent.fake import FakeBackend, FakeExecutor, FakeLoader
from agent.loop import ChatBackend, ToolExecutor, run_agent
from agent.messages import ChatMessage, ToolCall
from agent.session import LlamaLoader, ModelLoader, Session, sandbox_policy
from agent.transcript import Transcript, TranscriptRecorder

__all__ = [
    "AgentError",
    "AgentSettings",
    "Answer",
    "CallRepeated",
    "ChatBackend",
    "ChatMessage",
    "Completion",
    "ConfigError",
    "Event",
    "FakeBackend",
    "FakeExecutor",
    "FakeLoader",
    "LlamaLoader",
    "LoopSettings",
    "ModelError",
    "ModelLoader",
    "ModelSettings",
    "ModelStoreError",
    "RunStarted",
    "RunStopped",
    "SamplingSettings",
    "Session",
    "StepFinished",
    "StepLimitReached",
    "StepStarted",
    "Token",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolExecutor",
    "Transcript",
    "TranscriptRecorder",
    "resolve_settings",
    "run_agent",
    "sandbox_policy",
]
