"""What a tool says about itself: the data read from a component's `get-metadata` export."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ParamType = Literal["string", "integer", "number", "boolean"]
World = Literal["llm-agent", "seed"]
ArgValue = str | int | float | bool | None
"""One argument value as a caller (or a model, through JSON) gives it."""


class ToolParam(BaseModel):
    """One parameter of a tool, with its JSON Schema type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    type: ParamType
    required: bool


class UsageCall(BaseModel):
    """One tool call of a usage example, structured: the tool's name and typed arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, ArgValue] = Field(default_factory=dict)

    def __hash__(self) -> int:  # frozen, but a dict field: hash its items
        return hash((self.name, tuple(sorted(self.arguments.items()))))


class ToolUsage(BaseModel):
    """A worked example: a user request and the assistant's reply as the tool wrote it (in the
    `USE_TOOL:` notation); `calls` are the calls read from it when loaded (empty when it holds
    none or one that does not read), which every call syntax renders in its own form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    assistant: str
    calls: tuple[UsageCall, ...] = ()


class ToolMetadata(BaseModel):
    """A tool's self-description; the one source of its argument schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    version: str
    params: tuple[ToolParam, ...] = ()
    usage: tuple[ToolUsage, ...] = ()
    world: World = Field(default="llm-agent", description="Which tool world the component exports.")

    def param(self, name: str) -> ToolParam | None:
        """Return the parameter called `name`, or None."""
        return next((p for p in self.params if p.name == name), None)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (an object schema) of this tool's arguments."""
        return {
            "type": "object",
            "properties": {
                p.name: {"type": p.type, "description": p.description} for p in self.params
            },
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }
