"""Tool metadata shaped like our real components, shared by the syntax and grammar tests."""

from __future__ import annotations

from tool_runner import ToolMetadata, ToolParam, ToolUsage, example_calls


def _with_examples(tool: ToolMetadata, *examples: tuple[str, str]) -> ToolMetadata:
    """`tool` with usage examples, their calls read as the runner reads a component's."""
    usage = tuple(
        ToolUsage(user=user, assistant=assistant, calls=example_calls(tool, assistant))
        for user, assistant in examples
    )
    return tool.model_copy(update={"usage": usage})


def _param(name: str, kind: str, required: bool) -> ToolParam:
    return ToolParam(name=name, description=f"the {name}", type=kind, required=required)  # type: ignore[arg-type]


ECHO = _with_examples(
    ToolMetadata(
        name="Echo",
        description="Echoes back the input text",
        version="0.1.0",
        params=(
            ToolParam(name="value", description="The text to echo", type="string", required=True),
        ),
    ),
    ("Please echo back 'hello'", "USE_TOOL: Echo, value=hello"),
)
CALCULATOR = _with_examples(
    ToolMetadata(
        name="Calculator",
        description="Evaluates an arithmetic expression",
        version="0.1.0",
        params=(_param("expression", "string", True),),
    ),
    ("What is 2+3*4?", "USE_TOOL: Calculator, expression=2+3*4"),
)
DATETIME = _with_examples(
    ToolMetadata(
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
    ),
    ("What time is it in Paris?", "USE_TOOL: DateTime, op=now, zone=Europe/Paris"),
    ("broken example", "call DateTime please"),
)
CLOCK = ToolMetadata(name="Clock", description="The current time", version="0.1.0")
FILES = ToolMetadata(
    name="Files",
    description="Lists files",
    version="0.1.0",
    params=(_param("path", "string", False), _param("pattern", "string", False)),
)
TOOLS = (ECHO, CALCULATOR, DATETIME, CLOCK, FILES)
