"""The app file's shape (`app.toml`): named models, tools and agents, and the entry agent.

    [app]
    name = "team"
    entry = "manager"          # the agent that receives the user's input

    [models.small]             # loaded once, shared by every agent that names it
    model = "smollm2-135m-instruct"

    [tools.calculator]         # a component (or `dir = ...`), with its own grants and limits
    component = "components/calculator-tool-component.wasm"

    [agents.manager]
    model = "small"
    tools = ["calculator_clerk"]   # tools and agents, by name: an agent is offered as a tool
    grants = { dirs = ["data"] }   # the most this agent and everything it calls may use

Every table rejects unknown keys. Paths are relative to the app file's folder. This module only
describes the shape; `agent.app.plan` checks the names, the delegation graph and the grants.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.choices import SyntaxChoice, ToolChoice
from agent.config import ModelOptions, SamplingSettings

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AppSection(_Strict):
    """`[app]`: the app's name, its entry agent and the limits on delegation."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    entry: str = Field(description="The agent that receives the user's input.")
    max_depth: int = Field(default=3, ge=1, le=16, description="Delegation depth limit.")
    max_total_steps: int = Field(
        default=24, ge=1, le=1000, description="Model turns across all agents in one request."
    )
    workers: int = Field(default=1, ge=1, le=16, description="Worker processes per tool.")
    in_process: bool = Field(default=False, description="Run the tools in this process.")


class ModelEntry(ModelOptions, SamplingSettings):
    """`[models.NAME]`: a GGUF file (path, or registry name) with its load and sampling
    settings; every agent naming it shares one loaded copy."""

    model: str = Field(min_length=1, description="GGUF path (relative to the app) or name.")


class Grants(_Strict):
    """Capabilities: directories (`HOST[:GUEST][:ro|rw]`, HOST relative to the app file),
    environment variables (`NAME` or `NAME=VALUE`), http hosts (`HOST` or `HOST:PORT`) and the
    key-value memory."""

    dirs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    memory: bool = False

    @property
    def empty(self) -> bool:
        """Whether nothing is granted."""
        return not (self.dirs or self.env or self.hosts or self.memory)


class ToolEntry(_Strict):
    """`[tools.NAME]`: one component file or a folder of them, its grants and limits."""

    component: Path | None = None
    dir: Path | None = None
    grants: Grants = Grants()
    timeout: float | None = Field(default=None, gt=0, description="Seconds per call.")
    memory_mib: int | None = Field(default=None, ge=1, description="Memory cap per call.")
    fuel: int | None = Field(default=None, ge=1)
    max_output: int | None = Field(default=None, ge=1, description="Output bytes per call.")

    @model_validator(mode="after")
    def _one_source(self) -> ToolEntry:
        if (self.component is None) == (self.dir is None):
            raise ValueError("give exactly one of 'component' or 'dir'")
        return self


class AgentEntry(_Strict):
    """`[agents.NAME]`: an agent's model, prompt, tools (tool and agent names), call syntax,
    step limit and grants (the ceiling for its tools and the agents it calls)."""

    description: str = ""
    model: str
    system: str | None = None
    tools: tuple[str, ...] = ()
    syntax: SyntaxChoice = "auto"
    grammar: bool | None = None
    tool_choice: ToolChoice = "auto"
    max_steps: int = Field(default=5, ge=1, le=100)
    parallel_calls: bool = False
    grants: Grants = Grants()

    @field_validator("tools")
    @classmethod
    def _no_duplicates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen = {name for name in value if value.count(name) > 1}
        if seen:
            raise ValueError(f"{sorted(seen)[0]!r} is listed twice")
        return value


class AppFile(_Strict):
    """The whole app file."""

    app: AppSection
    models: dict[str, ModelEntry] = Field(min_length=1)
    tools: dict[str, ToolEntry] = Field(default_factory=dict)
    agents: dict[str, AgentEntry] = Field(min_length=1)

    @field_validator("models", "tools", "agents")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        import re

        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(
                    f"invalid name {name!r}: letters, digits, '_' and '-', starting with a letter"
                )
        return value


__all__ = ["AgentEntry", "AppFile", "AppSection", "Grants", "ModelEntry", "ToolEntry"]
