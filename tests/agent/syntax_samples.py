"""Tool metadata shaped like our real components, shared by the syntax and grammar tests."""

from __future__ import annotations

from tool_runner import ToolMetadata, ToolParam, ToolUsage


def _param(name: str, kind: str, required: bool) -> ToolParam:
    return ToolParam(name=name, description=f"the {name}", type=kind, required=required)  # type: ignore[arg-type]


ECHO = ToolMetadata(
    name="Echo",
    description="Echoes back the input text",
    version="0.1.0",
    params=(ToolParam(name="value", description="The text to echo", type="string", required=True),),
    usage=(ToolUsage(user="Please echo back 'hello'", assistant="USE_TOOL: Echo, value=hello"),),
)
CALCULATOR = ToolMetadata(
    name="Calculator",
    description="Evaluates an arithmetic expression",
    version="0.1.0",
    params=(_param("expression", "string", True),),
    usage=(ToolUsage(user="What is 2+3*4?", assistant="USE_TOOL: Calculator, expression=2+3*4"),),
)
DATETIME = ToolMetadata(
    name="DateTime",
    description="Dates and times",
    version="0.1.0",
    params=(
        _param("zone", "string", False),
        _param("op", "string", True),
        _param("days", "integer", False),
        _param("exact", "boolean", False),
        _param("scale", "number", False),
    ),
    usage=(
        ToolUsage(
            user="What time is it in Paris?",
            assistant="USE_TOOL: DateTime, op=now, zone=Europe/Paris",
        ),
        ToolUsage(user="broken example", assistant="call DateTime please"),
    ),
)
CLOCK = ToolMetadata(name="Clock", description="The current time", version="0.1.0")
FILES = ToolMetadata(
    name="Files",
    description="Lists files",
    version="0.1.0",
    params=(_param("path", "string", False), _param("pattern", "string", False)),
)
TOOLS = (ECHO, CALCULATOR, DATETIME, CLOCK, FILES)
