"""Any component as tools: one tool per exported function (the `functions` world).

A component that exports neither tool world is read by its types: every function it exports,
at the top level or in an exported interface (any package), becomes a tool whose parameters
come from the WIT parameter types (`wit_types`) and whose name and description come from the
component's own WIT docs (`wit_docs`) where it has them. The tool's name is the function's
name; when two exports define the same name, each is qualified by its interface (`shop_find`:
WIT names have no `_`, so a qualified name never clashes with a plain one, and it stays a valid
name for MCP, OpenAI functions and NATS endpoints).
A function that takes or returns what has no JSON form (resources, futures, streams) refuses
the whole component, in one line naming the function. componentize-py's build-time `init`
hook (the `exports` instance it adds to every component) is not a tool.

Calling: the canonical arguments (`arguments.py`) are read back to JSON and lowered by the WIT
types (`values.py`); the result is lifted to JSON. The output is a returned string as it is,
any other value as compact JSON; a `result`'s `err` is the tool's error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime
from pydantic import JsonValue
from wasmtime import component

from tool_runner.errors import LoadError, MetadataError, UnknownWorldError
from tool_runner.metadata import ToolMetadata, ToolParam, World
from tool_runner.values import LoweringError, lift, lift_case, lower
from tool_runner.wit_docs import WitDocs, read_wit_docs
from tool_runner.wit_types import UnsupportedType, tool_param, value_schema

_INTERFACE = re.compile(r"^(?P<package>[a-z0-9-]+:[a-z0-9-]+)/(?P<name>[a-z0-9-]+)(@(?P<v>\S+))?$")
_BUILD_HOOK = ("exports", "init")  # componentize-py's component-init entry point
MAX_FUNCTIONS = 256  # a component offering more tools than a model can be shown is refused


@dataclass(frozen=True)
class FunctionBinding:
    """One exported function as a tool: where it is, its types and its metadata."""

    metadata: ToolMetadata
    execute: component.ExportIndex
    params: tuple[tuple[str, Any], ...]
    result: Any | None
    world: World = "functions"

    def lower(self, arguments: dict[str, str], params: tuple[ToolParam, ...]) -> list[Any]:
        """The call's argument values from the canonical arguments of `params` (this
        function's, in order); raises LoweringError."""
        lowered = []
        for param, (name, ty) in zip(params, self.params, strict=True):
            text = arguments.get(name)
            lowered.append(None if text is None else lower(_json_value(param, text), ty))
        return lowered

    def lift(self, value: Any) -> tuple[bool, str]:
        """(ok, text) of the function's return value (see the module docstring)."""
        if self.result is None:
            return True, ""
        if isinstance(self.result, component.ResultType):
            tag, payload = lift_case(value, self.result)
            return tag == "ok", _output(payload)
        return True, _output(lift(value, self.result))


def _json_value(param: ToolParam, text: str) -> JsonValue:
    """A canonical argument (`arguments.py`) read back as the JSON value it stands for."""
    if param.type in ("array", "object"):
        return json.loads(text)  # type: ignore[no-any-return]
    if param.type == "integer":
        return int(text)
    if param.type == "number":
        return float(text)
    if param.type == "boolean":
        return text == "true"
    return text


def _output(value: JsonValue) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class _Export:
    name: str
    interface: str | None
    index: component.ExportIndex
    type: Any


def bind_functions(
    path: Path, comp: component.Component, engine: wasmtime.Engine
) -> list[FunctionBinding]:
    """Every exported function of `comp` as a tool, in export order; raises UnknownWorldError
    when it exports none and LoadError naming a function whose types have no JSON form."""
    exports = _exported_functions(comp, engine)
    if not exports:
        raise UnknownWorldError(path, sorted(comp.type.exports(engine)))
    if len(exports) > MAX_FUNCTIONS:
        raise LoadError(
            path, f"exports {len(exports)} functions: at most {MAX_FUNCTIONS} can be tools"
        )
    docs = read_wit_docs(path)
    clashes = Counter(export.name for export in exports)
    bindings = []
    for export in exports:
        name = export.name
        if clashes[name] > 1 and export.interface is not None:
            name = f"{_short(export.interface)}_{export.name}"
        bindings.append(_binding(path, export, name, docs))
    names = Counter(binding.metadata.name for binding in bindings)
    repeated = sorted(name for name, count in names.items() if count > 1)
    if repeated:
        raise LoadError(path, f"two exported functions are both called {repeated[0]!r}")
    return bindings


def _exported_functions(comp: component.Component, engine: wasmtime.Engine) -> list[_Export]:
    found = []
    for name, item in comp.type.exports(engine).items():
        ty = item.ty
        if isinstance(ty, component.FuncType):
            index = comp.get_export_index(name)
            if index is not None:
                found.append(_Export(name, None, index, ty))
        elif isinstance(ty, component.ComponentInstanceType):
            instance = comp.get_export_index(name)
            for func_name, func_item in ty.exports(engine).items():
                if not isinstance(func_item.ty, component.FuncType):
                    continue
                if (name, func_name) == _BUILD_HOOK:
                    continue
                index = comp.get_export_index(func_name, instance)
                if index is not None:
                    found.append(_Export(func_name, name, index, func_item.ty))
    return found


def _short(interface: str) -> str:
    """`test:typed/shop@1.0.0` -> `shop`; a plain (kebab) export name stays as it is."""
    match = _INTERFACE.match(interface)
    return match.group("name") if match else interface


def _binding(path: Path, export: _Export, name: str, docs: WitDocs) -> FunctionBinding:
    where = f"function {export.name!r}" + (f" of {export.interface}" if export.interface else "")
    params = tuple(export.type.params)
    tool_params = []
    for param, ty in params:
        try:
            tool_params.append(tool_param(param, ty))
        except UnsupportedType as exc:
            raise LoadError(path, f"{where} cannot be a tool: parameter {param!r}: {exc}") from None
        except ValueError as exc:  # a ToolParam that does not validate
            raise MetadataError(path, f"{where}: {exc}") from None
    if export.type.result is not None:
        try:
            value_schema(export.type.result)  # only checked: the result must lift to JSON
        except UnsupportedType as exc:
            raise LoadError(path, f"{where} cannot be a tool: its result: {exc}") from None
    metadata = ToolMetadata(
        name=name,
        description=_description(export, docs),
        version=_version(export.interface),
        params=tuple(tool_params),
        world="functions",
    )
    return FunctionBinding(metadata, export.index, params, export.type.result)


def _description(export: _Export, docs: WitDocs) -> str:
    short = _short(export.interface) if export.interface else None
    text = docs.function(short, export.name)
    if text:
        return text
    if export.interface is None:
        return f"Calls the component's {export.name} function."
    about = docs.interface(short or "")
    return f"Calls {export.name} of {export.interface}" + (f": {about}" if about else ".")


def _version(interface: str | None) -> str:
    match = _INTERFACE.match(interface or "")
    return (match.group("v") or "") if match else ""


__all__ = ["FunctionBinding", "LoweringError", "bind_functions"]
