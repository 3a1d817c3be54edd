"""Tool descriptions for system prompts, written from each component's own metadata."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tool_runner import ToolMetadata, ToolUsage

DEFAULT_PREAMBLE = (
    "You are a helpful assistant running on the user's computer. You can use tools that run "
    "in a sandbox. Use a tool when it helps answer the request; otherwise answer directly."
)

# A usage example's reply written in the syntax being taught (None drops the example).
RenderExample = Callable[[ToolMetadata, ToolUsage], str | None]


def signature(tool: ToolMetadata) -> str:
    """`Name(param: type, optional?: type)`: a tool in one short line."""
    params = ", ".join(f"{p.name}{'' if p.required else '?'}: {p.type}" for p in tool.params)
    return f"{tool.name}({params})"


def describe_tool(tool: ToolMetadata, render_example: RenderExample) -> str:
    """A tool as indented text: description, parameters, and its usage examples.

    `render_example(tool, usage)` writes a usage example's calls in the syntax being taught;
    None drops the example.
    """
    lines = [f"{tool.name}: {tool.description.strip()}"]
    if tool.params:
        lines.append("  Parameters:")
        for p in tool.params:
            need = "required" if p.required else "optional"
            lines.append(f"  - {p.name} ({p.type}, {need}): {p.description.strip()}")
    else:
        lines.append("  Parameters: none")
    for usage in tool.usage:
        reply = render_example(tool, usage)
        if reply is None:
            continue
        lines.append("  Example:")
        lines.append(f"    User: {usage.user.strip()}")
        reply_lines = reply.split("\n")
        lines.append(f"    Assistant: {reply_lines[0]}")
        lines.extend(f"    {line}" for line in reply_lines[1:])
    return "\n".join(lines)


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


def function_spec(tool: ToolMetadata) -> str:
    """The tool as the one-line JSON function signature instruct models were trained on."""
    return json.dumps(function_schema(tool), ensure_ascii=False)


def function_specs(tools: Sequence[ToolMetadata]) -> str:
    """Every tool's JSON function signature, one per line."""
    return "\n".join(function_spec(tool) for tool in tools)


def with_preamble(preamble: str | None, *sections: str) -> str:
    """The system prompt: the preamble (or the default one) followed by `sections`."""
    head = DEFAULT_PREAMBLE if preamble is None else preamble.strip()
    return "\n\n".join(part for part in (head, *sections) if part)
