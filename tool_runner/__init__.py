"""tool_runner package."""
