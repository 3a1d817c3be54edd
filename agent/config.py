"""Settings of an agent run, resolved once at the edge: defaults < config file < env < flags.

    settings = resolve_settings(flags, config_file=path_or_none, environ=os.environ)

The config file is TOML with the flags' names as keys (`max_steps = 8`, `temperature = 0.2`,
`components = ["components/echo-tool-component.wasm"]`); an environment variable is the key in
upper case after `LLM_AGENT_` (`LLM_AGENT_MAX_STEPS=8`; lists are comma-separated). Every
problem raises `ConfigError` with one line that names where the bad value came from.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.choices import SyntaxChoice, ToolChoice
from agent.errors import ConfigError
from agent.paths import checkout_folder, user_paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ENV_PREFIX = "LLM_AGENT_"
CONFIG_ENV = "LLM_AGENT_CONFIG"
DEFAULT_MODEL = "phi-mini-instruct"
TOOL_HOST_SCHEME = "nats://"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelOptions(_Frozen):
    """How to load whichever model is chosen. `gpu_layers=-1` offloads every layer when llama.cpp
    has a GPU."""

    ctx: int = Field(default=4096, ge=64, description="Context size in tokens.")
    gpu_layers: int = Field(default=-1, ge=-1, description="Layers to offload; -1 all.")
    threads: int | None = Field(default=None, ge=1, description="CPU threads.")
    seed: int | None = Field(default=None, ge=0, description="Sampling seed.")
    verbose: bool = Field(default=False, description="Show prompts, figures and llama.cpp's log.")
    prompt_cache: bool = Field(default=True, description="Keep prompts' KV state on disk.")


class ModelSettings(ModelOptions):
    """How to load the GGUF model at `path`."""

    path: Path
    batch: int = Field(default=512, ge=1)


class SamplingSettings(_Frozen):
    """How each token is chosen, and how many a turn may produce."""

    temperature: float = Field(default=0.2, ge=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0, le=1)
    repeat_penalty: float = Field(default=1.0, gt=0)
    max_tokens: int = Field(default=512, ge=1, description="Tokens per model turn.")


class LoopSettings(_Frozen):
    """How the agent loop runs: call syntax, constrained decoding, calls per reply, the tools
    offered and the step limit.

    `grammar=None` means on, for every syntax (`--no-grammar` turns it off).
    `tool_choice="required"` makes the first step a tool call (with a grammar, it cannot be
    anything else). `system` replaces the assistant's role preamble in the system prompt.
    `parallel_calls` lets a reply hold up to `agent.syntax.MAX_CALLS` calls instead of one
    (identical ones run once). `tools` offers only the tools named (all when empty).
    """

    syntax: SyntaxChoice = Field(default="auto", description="Tool-call syntax.")
    grammar: bool | None = Field(default=None, description="Constrained decoding.")
    tool_choice: ToolChoice = Field(
        default="auto", description="'required' makes the first step a tool call."
    )
    max_steps: int = Field(default=5, ge=1, le=100, description="Model turns before giving up.")
    system: str | None = Field(default=None, description="Replace the assistant's role preamble.")
    parallel_calls: bool = Field(
        default=False,
        description="Allow several tool calls per reply (identical ones run once); default one.",
    )
    tools: tuple[str, ...] = Field(
        default=(),
        description="Offer only these tools (comma-separated names; a nats://HOST:PORT URL "
        "calls a tool service, as --tool-host does); default all.",
    )


class ToolSettings(_Frozen):
    """Which components to load, and the sandbox grants and limits they run under (the names of
    `tool-runner`'s own flags; see `tool_runner.policy`)."""

    components: tuple[Path, ...] = Field(default=(), description="A tool component (repeatable).")
    tools_dir: Path | None = Field(
        default=None,
        description="Load every component here when no -c is given (default: the checkout's "
        "components/ when run from it, else the user's tools folder; a missing default means "
        "no tools).",
    )
    no_tools: bool = Field(default=False, description="Offer no tools: load no component.")
    create_tools: bool = Field(
        default=False, description="Offer CreateTool: the model may write tools a person approves."
    )
    policy: Path | None = None
    dirs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    timeout: float | None = Field(default=None, gt=0)
    memory: int | None = Field(default=None, ge=1)
    fuel: int | None = Field(default=None, ge=1)
    max_output: int | None = Field(default=None, ge=1)
    inherit_stdio: bool = False
    workers: int = Field(default=2, ge=1, le=64, description="Tool worker processes.")
    in_process: bool = Field(
        default=False, description="Run the tools in this process instead of worker processes."
    )
    tool_host: str | None = Field(
        default=None, description="Call the tools of a NATS tool service (nats://HOST:PORT)."
    )


class AgentSettings(ModelOptions, SamplingSettings, LoopSettings, ToolSettings):
    """Every setting of `agent run` / `agent chat`, flat, with the flags' names; each field is
    declared once, in the part it belongs to, and the parts are cut back out of it."""

    model: str = Field(default=DEFAULT_MODEL, description="GGUF path or registry name.")
    models_dir: Path | None = Field(default=None, description="Where models live.")

    @model_validator(mode="after")
    def _no_tools_alone(self) -> AgentSettings:
        """`no_tools` does not mix with settings that name tools."""
        if self.no_tools:
            named = [
                flag
                for flag, value in (
                    ("components", self.components),
                    ("tools_dir", self.tools_dir),
                    ("tools", self.tools),
                    ("tool_host", self.tool_host),
                )
                if value
            ]
            if named:
                raise ValueError(f"no_tools cannot be combined with {named[0]}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _tools_at_a_host(cls, data: Any) -> Any:
        """`tools = nats://HOST:PORT` (`--tools nats://...`) names a tool host, not tool names:
        it is the same as `tool_host`."""
        if isinstance(data, dict):
            tools = data.get("tools")
            if isinstance(tools, (list, tuple)) and any(
                str(t).startswith(TOOL_HOST_SCHEME) for t in tools
            ):
                if len(tools) != 1:
                    raise ValueError("--tools takes tool names or one nats:// URL, not both")
                data = {**data, "tools": (), "tool_host": str(tools[0])}
        return data

    def model_settings(self, path: Path) -> ModelSettings:
        """The loading settings for the resolved model file `path`."""
        return ModelSettings(path=path, **self._part(ModelOptions))

    def sampling(self) -> SamplingSettings:
        """The sampling settings."""
        return SamplingSettings(**self._part(SamplingSettings))

    def loop(self) -> LoopSettings:
        """The loop settings."""
        return LoopSettings(**self._part(LoopSettings))

    def _part(self, part: type[BaseModel]) -> dict[str, Any]:
        return {name: getattr(self, name) for name in part.model_fields}


def field_help(name: str, default: str | None = None) -> str:
    """A setting's description and default (or `default`, saying what an unset value means),
    for `--help`: one source for both."""
    field = AgentSettings.model_fields[name]
    shown = default if default is not None else field.default
    text = field.description or ""
    return text if shown in (None, (), False) else f"{text}  [default: {shown}]"


_LIST_FIELDS = frozenset(
    name
    for name, field in AgentSettings.model_fields.items()
    if str(field.annotation).startswith("tuple")
)


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in the TOML file at `path` (dashes in keys read as underscores)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse config file {path}: {exc}") from exc
    table = data.get("agent", data)
    if not isinstance(table, dict):
        raise ConfigError(f"invalid config file {path}: [agent] must be a table")
    return {key.replace("-", "_"): value for key, value in table.items()}


def env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given as `LLM_AGENT_*` variables (lists comma-separated)."""
    found: dict[str, Any] = {}
    for name in AgentSettings.model_fields:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        found[name] = tuple(p for p in raw.split(",") if p) if name in _LIST_FIELDS else raw
    return found


def default_config_file(environ: Mapping[str, str]) -> Path | None:
    """The config file used when none is given: `$LLM_AGENT_CONFIG`, else the user's
    `config.toml` when it exists, else None."""
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    user = user_paths(environ).config_file
    return user if user.is_file() else None


def with_default_dirs(
    settings: AgentSettings, environ: Mapping[str, str], cwd: Path
) -> AgentSettings:
    """`settings` with the models and tools folders they leave unset filled in, at the edge:
    the checkout's `models/` and `components/` when run from it (`agent.paths.checkout_folder`),
    else the user's folders. A missing default tools folder means no tools (an explicit
    `tools_dir` that is missing stays an error, raised when the tools load)."""
    update: dict[str, Any] = {}
    if settings.models_dir is None:
        update["models_dir"] = checkout_folder("models", cwd) or user_paths(environ).models_dir
    if not settings.no_tools and settings.tool_host is None and settings.tools_dir is None:
        tools = checkout_folder("components", cwd) or user_paths(environ).tools_dir
        if tools.is_dir():
            update["tools_dir"] = tools
        elif not settings.components:
            update["no_tools"] = True
    return settings.model_copy(update=update) if update else settings


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AgentSettings:
    """Merge defaults < config file < environment < flags (a flag set to None is "not given").

    `config_file=None` falls back to `$LLM_AGENT_CONFIG` when set, else (when `environ` is
    given) to the user's config file (`agent.paths.UserPaths.config_file`) when it exists.
    Raises ConfigError.
    """
    if config_file is None and environ is not None:
        config_file = default_config_file(environ)
    environ = environ if environ is not None else {}
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((f"config file {config_file}", read_config_file(config_file)))
    layers.append(("environment", env_settings(environ)))
    layers.append(("command line", {k: v for k, v in flags.items() if v is not None and v != ()}))
    merged: dict[str, Any] = {}
    for source, values in layers:
        unknown = sorted(set(values) - set(AgentSettings.model_fields))
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r} in {source}")
        _validate(values, source)  # alone first, so that an error names its layer
        merged.update(values)
    return _validate(merged, "settings")


def _validate(values: dict[str, Any], source: str) -> AgentSettings:
    try:
        return AgentSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"invalid {where} in {source}: {message}") from exc
