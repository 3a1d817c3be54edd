"""Run WebAssembly tool components in a deny-by-default wasmtime sandbox.

The public API is re-exported here; everything else is private to the package.
"""

from tool_runner.arguments import ArgValue
from tool_runner.cache_dir import default_cache_dir
from tool_runner.errors import (
    ArgumentsError,
    CompileError,
    ComponentNotFoundError,
    CoreModuleError,
    LoadError,
    MetadataError,
    NotWasmError,
    PolicyError,
    ToolRunnerError,
    UnknownWorldError,
    UnsatisfiedImportsError,
)
from tool_runner.metadata import ToolMetadata, ToolParam, ToolUsage
from tool_runner.policy import DirGrant, Limits, Policy
from tool_runner.result import ResultKind, ToolResult
from tool_runner.runner import Tool, ToolRunner

__all__ = [
    "ArgumentsError",
    "ArgValue",
    "CompileError",
    "ComponentNotFoundError",
    "CoreModuleError",
    "DirGrant",
    "Limits",
    "LoadError",
    "MetadataError",
    "NotWasmError",
    "Policy",
    "PolicyError",
    "ResultKind",
    "Tool",
    "ToolMetadata",
    "ToolParam",
    "ToolResult",
    "ToolRunner",
    "ToolRunnerError",
    "ToolUsage",
    "default_cache_dir",
    "UnknownWorldError",
    "UnsatisfiedImportsError",
]
