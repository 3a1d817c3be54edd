"""Run WebAssembly tool components in a deny-by-default wasmtime sandbox.

The public API is re-exported here; everything else is private to the package. Importing this
package does not import wasmtime: the data types, the policy and the errors are loaded at once,
`Tool` and `ToolRunner` (which need wasmtime) on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tool_runner.arguments import MAX_INTEGER_DIGITS, canonical_arguments, read_integer
from tool_runner.cache_dir import default_cache_dir
from tool_runner.closing import Closing
from tool_runner.directive import MARKER, coerce_bare, example_calls, read_call
from tool_runner.errors import (
    ArgumentsError,
    CacheError,
    CallNotationError,
    CompileError,
    ComponentNotFoundError,
    CoreModuleError,
    LoadError,
    MetadataError,
    NotWasmError,
    PinnedError,
    PolicyError,
    ProtocolError,
    ToolHostError,
    ToolRunnerError,
    UnknownWorldError,
    UnsatisfiedImportsError,
)
from tool_runner.grants import ToolGrants, digest_key, load_name
from tool_runner.lock import ToolEntry, ToolLock, with_lock
from tool_runner.lock import entries as lock_entries
from tool_runner.memory import MemoryGrant
from tool_runner.metadata import (
    ArgValue,
    ParamType,
    ToolMetadata,
    ToolParam,
    ToolUsage,
    UsageCall,
    World,
)
from tool_runner.policy import (
    SANDBOX_PARAMS,
    DirGrant,
    Limits,
    Policy,
    policy_from_options,
    policy_from_params,
)
from tool_runner.pool import PoolSettings, WorkerPool
from tool_runner.result import CapabilityRequest, ResultKind, ToolResult
from tool_runner.superagent import parse_arguments, schema_params, typed_arguments
from tool_runner.terminal import for_terminal
from tool_runner.tool_host import HostStats, ToolHost

if TYPE_CHECKING:
    from tool_runner.mcp_server import McpToolServer
    from tool_runner.nats_host import NatsHost
    from tool_runner.runner import Tool, ToolRunner

# name -> the module that defines it, imported on first access because it loads wasmtime
_LAZY = {
    "Tool": "tool_runner.runner",
    "ToolRunner": "tool_runner.runner",
    "NatsHost": "tool_runner.nats_host",  # loads nats-py
    "McpToolServer": "tool_runner.mcp_server",  # loads the mcp SDK
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tool_runner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MARKER",
    "MAX_INTEGER_DIGITS",
    "SANDBOX_PARAMS",
    "ArgValue",
    "ArgumentsError",
    "CacheError",
    "CallNotationError",
    "CapabilityRequest",
    "Closing",
    "CompileError",
    "ComponentNotFoundError",
    "CoreModuleError",
    "DirGrant",
    "HostStats",
    "Limits",
    "LoadError",
    "McpToolServer",
    "MemoryGrant",
    "MetadataError",
    "NatsHost",
    "NotWasmError",
    "ParamType",
    "PinnedError",
    "Policy",
    "PolicyError",
    "PoolSettings",
    "ProtocolError",
    "ResultKind",
    "Tool",
    "ToolEntry",
    "ToolGrants",
    "ToolHost",
    "ToolHostError",
    "ToolLock",
    "ToolMetadata",
    "ToolParam",
    "ToolResult",
    "ToolRunner",
    "ToolRunnerError",
    "ToolUsage",
    "UnknownWorldError",
    "UnsatisfiedImportsError",
    "UsageCall",
    "WorkerPool",
    "World",
    "canonical_arguments",
    "coerce_bare",
    "default_cache_dir",
    "digest_key",
    "example_calls",
    "for_terminal",
    "load_name",
    "lock_entries",
    "parse_arguments",
    "policy_from_options",
    "policy_from_params",
    "read_call",
    "read_integer",
    "schema_params",
    "typed_arguments",
    "with_lock",
]
