"""The outcome of one tool call: a frozen record that goes back to the caller (or the model)."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class ResultKind(str, Enum):
    """Machine-readable outcome of a call; everything but `success` is a failure."""

    SUCCESS = "success"
    TOOL_ERROR = "tool_error"
    INVALID_ARGUMENTS = "invalid_arguments"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    TRAP = "trap"
    EXIT = "exit"
    OUTPUT_TOO_LARGE = "output_too_large"
    FUEL_EXHAUSTED = "fuel_exhausted"


class ToolResult(BaseModel):
    """What a tool call produced. `error` is a one-line message for every non-success kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    ok: bool
    kind: ResultKind
    output: str | None = None
    error: str | None = None
    stdout: str = ""
    stderr: str = ""
    log: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    exit_code: int | None = None
    arguments: dict[str, str] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        """The text to show a model or a person: the output on success, else the error."""
        return (self.output if self.ok else self.error) or ""
