"""The bridge from a `toolspec` tool to componentize-py's generated `wit_world` bindings.

Only this module imports `wit_world`: it exists while componentize-py builds the component.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from componentize_py_types import Err
from toolspec import Param, ToolError, ToolSpec
from wit_world.imports import types

RunFn = Callable[[Mapping[str, str]], str]

# Results go back to a language model: a last bound on what a tool returns (each tool has its
# own, smaller limits; the runner caps output bytes too).
MAX_OUTPUT_CHARS = 256 * 1024


# Built against llm-agent:tool@0.2.0 the bindings type a parameter's constraints (the
# `value-type` enum, `choices`, f64 bounds); against 0.1.0 they ride in its `type` text.
TYPED_PARAMS = hasattr(types, "ValueType")


def _param(p: Param) -> types.Param:
    if not TYPED_PARAMS:
        return types.Param(p.name, p.description, p.wire_type(), p.required)
    return types.Param(
        p.name,
        p.description,
        types.ValueType[p.type.upper()],
        p.required,
        list(p.enum),
        None if p.minimum is None else float(p.minimum),
        None if p.maximum is None else float(p.maximum),
    )


def _metadata(spec: ToolSpec) -> types.Metadata:
    return types.Metadata(
        name=spec.name,
        description=spec.description,
        version=spec.version,
        params=[_param(p) for p in spec.params],
        usage=[types.Usage(u.user, u.assistant) for u in spec.usage],
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"internal error in the tool: {type(exc).__name__}: {text}"


def export_tool(spec: ToolSpec, run: RunFn) -> type:
    """A class implementing the `tool` export for `spec` and `run`.

    Every Python exception becomes the tool's `err` (never a trap): a `ToolError` with its
    own message, anything else as an "internal error" line naming the exception.
    """

    class Tool:
        def get_metadata(self) -> types.Metadata:
            return _metadata(spec)

        def execute(self, args: list[types.Arg]) -> str:
            values = {arg.name: arg.value for arg in args}
            try:
                output = run(values)
            except ToolError as exc:
                raise Err(exc.message) from None
            except RecursionError:
                raise Err("the input is nested too deeply") from None
            except MemoryError:
                raise Err("the tool ran out of memory on this input") from None
            except Exception as exc:  # the model gets a message, never a trap
                raise Err(_one_line(exc)) from None
            if len(output) > MAX_OUTPUT_CHARS:
                output = output[:MAX_OUTPUT_CHARS] + "\n[output truncated]"
            return output

    return Tool
