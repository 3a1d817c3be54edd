"""The outcome of one tool call: a frozen record that goes back to the caller (or the model)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)


class ResultKind(str, Enum):
    """Machine-readable outcome of a call; everything but `success` is a failure."""

    SUCCESS = "success"
    TOOL_ERROR = "tool_error"
    INVALID_ARGUMENTS = "invalid_arguments"
    UNKNOWN_TOOL = "unknown_tool"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    TRAP = "trap"
    EXIT = "exit"
    OUTPUT_TOO_LARGE = "output_too_large"
    FUEL_EXHAUSTED = "fuel_exhausted"
    CRASHED = "crashed"  # the worker process running the call died (it is restarted)


CapabilityKind = Literal["dir", "host", "env"]


class CapabilityRequest(BaseModel):
    """A capability a call was denied, as the host saw it: the tool (by the name it is loaded
    under, and its digest), what kind (`dir`, `host`, `env`) and the value asked for (a guest
    path, `HOST:PORT`, a variable's name). Only a person can grant it (`agent.approval`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    digest: str | None = None
    kind: CapabilityKind
    value: str

    def flag(self) -> str:
        """The command-line flag that grants it to this tool alone (a directory's host path is
        the person's choice: `PATH`)."""
        if self.kind == "dir":
            suffix = "" if self.value == "/workspace" else f":{self.value}"
            return f"--dir {self.tool}=PATH{suffix}"
        option = "--allow-host" if self.kind == "host" else "--env"
        return f"{option} {self.tool}={self.value}"


class ToolResult(BaseModel):
    """What a tool call produced. `error` is a one-line message for every non-success kind.

    `ok` is derived from `kind` (and still appears in `model_dump` and JSON); an `ok` given to
    the constructor, as in a dumped result read back, must agree with `kind`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    kind: ResultKind
    output: str | None = None
    error: str | None = None
    stdout: str = ""
    stderr: str = ""
    log: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    exit_code: int | None = None
    arguments: dict[str, str] = Field(default_factory=dict)
    capability_request: CapabilityRequest | None = None

    @model_validator(mode="before")
    @classmethod
    def _ok_agrees_with_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "ok" in data:
            data = dict(data)
            ok = data.pop("ok")
            if bool(ok) != (ResultKind(data.get("kind")) is ResultKind.SUCCESS):
                raise ValueError(f"ok={ok!r} contradicts kind={data.get('kind')!r}")
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True for `ResultKind.SUCCESS`, False for every other kind."""
        return self.kind is ResultKind.SUCCESS

    @model_serializer(mode="wrap")
    def _ok_after_tool(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `ok` stays where it was when it was a field, so dumps and JSON keep their shape.
        dumped: dict[str, Any] = handler(self)
        if "tool" not in dumped or "ok" not in dumped:
            return dumped
        ok = dumped.pop("ok")
        return {"tool": dumped.pop("tool"), "ok": ok, **dumped}

    @property
    def text(self) -> str:
        """The text to show a model or a person: the output on success, else the error."""
        return (self.output if self.ok else self.error) or ""
