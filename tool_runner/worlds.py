"""The two tool worlds a component may export, and how values cross into and out of each.

- `llm-agent`: the interface `llm-agent:tool/tool@0.1.x` or `@0.2.x` with `get-metadata` and
  `execute(list<arg>) -> result<string, string>` (0.2's `param` record types the enum and
  bounds that 0.1 writes as a JSON Schema fragment in its `type` text).
- `seed`: the original exploration's `llama-cpp:tool` world, root functions `get-metadata`,
  `execute(list<tuple<string, string>>) -> tool-result` and `run`; its usage field is spelled
  `assistent`.
- `superagent`: the seed's JSON-in/JSON-out `superagent:functions/function` (`meta`, `invoke`;
  `superagent.py`), checked first so that no other reading claims it.

Also decides which imports the sandbox can satisfy: WASI 0.2 (as the policy grants it), the
`llm-agent:tool/host` interface, and instances or types that carry only value types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import wasmtime
from pydantic import ValidationError
from wasmtime import component

from tool_runner import superagent
from tool_runner.directive import example_calls
from tool_runner.errors import MetadataError, UnknownWorldError, UnsatisfiedImportsError
from tool_runner.metadata import ToolMetadata, ToolParam, ToolUsage, World

TOOL_INTERFACE = re.compile(r"^llm-agent:tool/tool(@0\.[12]\.[0-9]+)?$")
_WASI = re.compile(r"^wasi:(cli|clocks|filesystem|io|random|sockets)/[a-z0-9-]+@0\.2\.[0-9]+$")
_HOST = re.compile(r"^llm-agent:(tool/host|memory/store)(@0\.[12]\.[0-9]+)?$")  # host.py, memory.py


class Binding(Protocol):
    """How a tool is called: its export, and how its arguments and result cross."""

    @property
    def world(self) -> World: ...

    @property
    def execute(self) -> component.ExportIndex: ...

    def lower(self, arguments: dict[str, str], params: tuple[ToolParam, ...]) -> list[Any]:
        """The export's argument values from the canonical arguments of `params`."""
        ...

    def lift(self, value: Any) -> tuple[bool, str]:
        """(ok, text) of the export's return value."""
        ...


@dataclass(frozen=True)
class WorldBinding:
    """Where a component's tool functions are: export indices valid for every instance."""

    world: World
    get_metadata: component.ExportIndex
    execute: component.ExportIndex

    def lower(self, arguments: dict[str, str], params: tuple[ToolParam, ...]) -> list[Any]:
        """`execute`'s one argument in this world."""
        return [lower_arguments(self.world, arguments, params)]

    def lift(self, value: Any) -> tuple[bool, str]:
        """(ok, text) from `execute`'s return value."""
        return lift_result(self.world, value)


def bind_world(path: Path, comp: component.Component, engine: wasmtime.Engine) -> WorldBinding:
    """Find the tool world `comp` exports; raises UnknownWorldError listing its exports."""
    found = find_world(comp, engine)
    if found is None:
        raise UnknownWorldError(path, sorted(comp.type.exports(engine)))
    return found


def find_world(comp: component.Component, engine: wasmtime.Engine) -> WorldBinding | None:
    """The tool world `comp` exports, or None (then its functions are the tools:
    `functions.py`)."""
    function = superagent.find_function(comp, engine)
    if function is not None:
        return WorldBinding("superagent", *function)
    exports = comp.type.exports(engine)
    for name in exports:
        if TOOL_INTERFACE.match(name):
            interface = comp.get_export_index(name)
            get_metadata = comp.get_export_index("get-metadata", interface)
            execute = comp.get_export_index("execute", interface)
            if get_metadata is not None and execute is not None:
                return WorldBinding("llm-agent", get_metadata, execute)
    get_metadata = comp.get_export_index("get-metadata")
    execute = comp.get_export_index("execute")
    if get_metadata is not None and execute is not None:
        return WorldBinding("seed", get_metadata, execute)
    return None


def check_imports(path: Path, comp: component.Component, engine: wasmtime.Engine) -> None:
    """Raise UnsatisfiedImportsError naming every import the sandbox cannot provide."""
    missing = []
    for name, item in comp.type.imports(engine).items():
        if _WASI.match(name) or _HOST.match(name):
            continue
        if _only_value_types(item.ty, engine):
            continue
        missing.append(_describe_missing(name))
    if missing:
        raise UnsatisfiedImportsError(path, missing)


def _only_value_types(ty: Any, engine: wasmtime.Engine) -> bool:
    if isinstance(ty, component.ComponentInstanceType):
        return all(_only_value_types(item.ty, engine) for item in ty.exports(engine).values())
    return isinstance(ty, component.ValType)


def _describe_missing(name: str) -> str:
    if name.startswith("wasi:http/"):
        return f"{name} (not granted: tools reach the network through llm-agent:tool/host)"
    return name


def read_metadata(path: Path, world: World, value: Any) -> ToolMetadata:
    """Convert get-metadata's record into ToolMetadata; raises MetadataError if unusable."""
    if world == "superagent":
        return superagent.read_metadata(path, value)
    try:
        params = _read_params(path, value.params)
        if not str(value.name).strip():
            raise MetadataError(path, "get-metadata returned an empty tool name")
        metadata = ToolMetadata(
            name=value.name,
            description=value.description,
            version=value.version,
            params=params,
            world=world,
        )
        usage = []
        for u in value.usage:
            assistant = u.assistent if world == "seed" else u.assistant
            calls = example_calls(metadata, assistant)
            usage.append(ToolUsage(user=u.user, assistant=assistant, calls=calls))
        return metadata.model_copy(update={"usage": tuple(usage)})
    except AttributeError as exc:
        raise MetadataError(path, f"get-metadata returned an unexpected record ({exc})") from exc


def _read_params(path: Path, params: list[Any]) -> tuple[ToolParam, ...]:
    """The parameter records as ToolParams: 0.2's typed fields (`ToolParam.from_fields`), or
    0.1's and the seed's `type` text, which may be a JSON Schema fragment
    (`ToolParam.from_wire`); raises MetadataError."""
    seen: set[str] = set()
    read = []
    for p in params:
        if not p.name or p.name in seen:
            raise MetadataError(path, f"parameter name {p.name!r} is empty or repeated")
        seen.add(p.name)
        try:
            if hasattr(p, "choices"):  # llm-agent:tool@0.2: the constraints are typed fields
                read.append(
                    ToolParam.from_fields(
                        p.name, p.description, p.type, bool(p.required),
                        p.choices, p.minimum, p.maximum,
                    )
                )  # fmt: skip
            else:
                read.append(ToolParam.from_wire(p.name, p.description, p.type, bool(p.required)))
        except ValidationError as exc:
            reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise MetadataError(path, reason) from None
        except ValueError as exc:
            raise MetadataError(path, str(exc)) from None
    return tuple(read)


def lower_arguments(
    world: World, arguments: dict[str, str], params: tuple[ToolParam, ...] = ()
) -> Any:
    """`execute`'s one argument in `world` (`params`: the tool's, to type a JSON input)."""
    if world == "superagent":
        return superagent.lower_input(params, arguments)
    if world == "seed":
        return list(arguments.items())
    lowered = []
    for name, value in arguments.items():
        record = component.Record()
        setattr(record, "name", name)  # noqa: B010 - Record is an untyped attribute bag
        setattr(record, "value", value)  # noqa: B010
        lowered.append(record)
    return lowered


def lift_result(world: World, value: Any) -> tuple[bool, str]:
    """(ok, text) from `execute`'s return value in `world`."""
    if world == "superagent":
        return superagent.lift_output(value)
    if world == "seed":
        if value.success:
            return True, str(value.data)
        return False, str(value.error or value.data or "the tool reported failure")
    return value.tag == "ok", str(value.payload if value.payload is not None else "")
