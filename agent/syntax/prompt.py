"""Tool descriptions for system prompts, written from each component's own metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tool_runner import ToolMetadata, ToolParam, ToolUsage

DEFAULT_PREAMBLE = "You are a helpful assistant. Use a tool when it helps; else answer directly."

# A usage example's reply written in the syntax being taught (None drops the example).
RenderExample = Callable[[ToolMetadata, ToolUsage], str | None]


def signature(tool: ToolMetadata) -> str:
    """`Name(param: type, optional?: type)`: a tool in one short line."""
    params = ", ".join(f"{p.name}{'' if p.required else '?'}: {p.type}" for p in tool.params)
    return f"{tool.name}({params})"


def describe_param(param: ToolParam) -> str:
    """One parameter on one line: `name (kind): description`, `name?` when it is optional, the
    kind only when it is not a free string: the enum, or the type and its bounds."""
    if param.type_schema is not None:
        kind = f" ({schema_shape(param.type_schema)})"
    elif param.enum:
        kind = " (one of " + ", ".join(param.enum) + ")"
    else:
        kind = "" if param.type == "string" else f" ({param.type}{_bounds(param)})"
    optional = "" if param.required else "?"
    return f"{param.name}{optional}{kind}: {param.description.strip()}"


def schema_shape(schema: Mapping[str, Any], depth: int = 0) -> str:
    """A structured value's shape in a few words: `array of number`, `{field, value?}`,
    `one of A, B` (deeper than three levels: its type only)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if "enum" in schema and isinstance(schema["enum"], list):
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    items, properties = schema.get("items"), schema.get("properties")
    if depth < 3 and kind == "array" and isinstance(items, Mapping):
        return f"array of {schema_shape(items, depth + 1)}"
    if depth < 3 and kind == "object" and isinstance(properties, Mapping) and properties:
        required = schema.get("required", [])
        return "{" + ", ".join(f"{k}{'' if k in required else '?'}" for k in properties) + "}"
    return str(kind or "any")


def _bounds(param: ToolParam) -> str:
    low, high = param.minimum, param.maximum
    if low is not None and high is not None:
        return f" {low:g}..{high:g}"
    if low is not None:
        return f" >= {low:g}"
    return f" <= {high:g}" if high is not None else ""


def describe_tool(tool: ToolMetadata, render_example: RenderExample) -> str:
    """A tool as compact indented text: description, one line per parameter, and its usage
    examples' calls (each distinct one once).

    `render_example(tool, usage)` writes a usage example's calls in the syntax being taught,
    with placeholders for values (see `base.usage_calls`); None drops the example.
    """
    lines = [f"{tool.name}: {tool.description.strip()}"]
    lines.extend(f"  {describe_param(p)}" for p in tool.params)
    examples = dict.fromkeys(
        reply
        for usage in representative_usage(tool)
        if (reply := render_example(tool, usage)) is not None
    )
    for index, reply in enumerate(examples):
        for n, line in enumerate(reply.split("\n")):
            lines.append(("  e.g. " if index == 0 and n == 0 else "       ") + line)
    return "\n".join(lines)


def representative_usage(tool: ToolMetadata) -> list[ToolUsage]:
    """One usage example per choice of enum values (e.g. per `op`), the one that names the most
    parameters: with placeholders for the other values, the rest would only repeat it."""
    chosen: dict[tuple[tuple[str, str], ...], ToolUsage] = {}
    for usage in tool.usage:
        choice = tuple(
            (name, str(value))
            for call in usage.calls
            for name, value in call.arguments.items()
            if (param := tool.param(name)) is not None and param.enum
        )
        known = chosen.get(choice)
        if known is None or _named(usage) > _named(known):
            chosen[choice] = usage
    return list(chosen.values())


def _named(usage: ToolUsage) -> int:
    return sum(len(call.arguments) for call in usage.calls)


def describe_tools(tools: Sequence[ToolMetadata], render_example: RenderExample) -> str:
    """Every tool, one `describe_tool` block each, separated by blank lines."""
    return "\n\n".join(describe_tool(tool, render_example) for tool in tools)


def function_schema(tool: ToolMetadata) -> dict[str, Any]:
    """The tool as a JSON Schema function spec, the shape chat templates take as `tools`."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description.strip(),
            "parameters": tool.json_schema(),
        },
    }


def with_preamble(preamble: str | None, *sections: str) -> str:
    """The system prompt: the preamble (or the default one) followed by `sections`."""
    head = DEFAULT_PREAMBLE if preamble is None else preamble.strip()
    return "\n\n".join(part for part in (head, *sections) if part)
