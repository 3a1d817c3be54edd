"""Errors raised by the tool_runner package.

Host-side failures raise, each with a one-line message and the data behind it; guest-side
failures (bad arguments, a trap, a timeout, the tool's own error) never raise: they become a
`ToolResult` with a `ResultKind` (see `result.py`).

    ToolRunnerError
    ├── PolicyError                 a sandbox policy (file or flags) that cannot be used
    ├── ArgumentsError              arguments that do not fit the tool's parameters (only
    │                               from `Tool.check_arguments`; `Tool.call` returns a result)
    ├── CallNotationError           a `USE_TOOL:` call that does not read (`directive.read_call`)
    ├── ToolHostError               the tool host (worker processes, a NATS service) cannot
    │   │                           serve: a worker that does not start, no tools found
    │   └── ProtocolError           a protocol message that does not read
    ├── CacheError                  a compile cache folder that is not the user's alone
    └── LoadError                   a component that cannot become a Tool (carries `path`)
        ├── ComponentNotFoundError  the path does not exist or is not a file
        ├── NotWasmError            the file is not WebAssembly (binary or text)
        ├── CoreModuleError         a core wasm module, not a component
        ├── CompileError            wasmtime rejected the component
        ├── UnknownWorldError       exports neither tool world (carries `exports`)
        ├── UnsatisfiedImportsError imports the runner does not provide (carries `imports`)
        ├── MetadataError           get-metadata failed or described an unusable tool
        └── PinnedError             its bytes differ from the sha256 a lock pinned (carries
                                    `tool`, `pinned`, `actual`)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class ToolRunnerError(Exception):
    """Base of every error the tool_runner package raises on purpose."""


class PolicyError(ToolRunnerError):
    """A sandbox policy, policy file or policy flag that cannot be used."""


class ArgumentsError(ToolRunnerError, ValueError):
    """Arguments that do not fit a tool's parameters; the message names the parameter."""


class CallNotationError(ToolRunnerError, ValueError):
    """A call in the `USE_TOOL:` notation that cannot be read; the message says what is wrong."""


class CacheError(ToolRunnerError):
    """The compile cache folder is not private (another owner, writable by others); the one-line
    message says how to fix it. Carries `directory`."""

    def __init__(self, directory: Path | str, problem: str, fix: str) -> None:
        super().__init__(f"compile cache {directory} {problem}; {fix}")
        self.directory = Path(directory)
        self.problem = problem


class ToolHostError(ToolRunnerError):
    """The tool host cannot serve: a worker that does not start, a service that is not there."""


class ProtocolError(ToolHostError):
    """A message of the tool host's protocol that does not read (or is too large)."""


class LoadError(ToolRunnerError):
    """A component that cannot be loaded as a tool; the message names the path and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class ComponentNotFoundError(LoadError):
    """The component path does not exist or is not a regular file."""


class NotWasmError(LoadError):
    """The file is neither a WebAssembly binary nor WAT text."""


class CoreModuleError(LoadError):
    """The file is a core WebAssembly module rather than a component."""


class CompileError(LoadError):
    """Wasmtime could not validate or compile the component."""


class UnknownWorldError(LoadError):
    """The component exports neither `llm-agent:tool/tool` nor the seed's tool world."""

    def __init__(self, path: Path | str, exports: Sequence[str]) -> None:
        listed = ", ".join(exports) if exports else "nothing"
        super().__init__(
            path,
            "exports neither the llm-agent:tool/tool@0.1.0 interface nor the seed world's "
            f"get-metadata/execute functions (it exports: {listed})",
        )
        self.exports = tuple(exports)


class UnsatisfiedImportsError(LoadError):
    """The component imports interfaces that the runner does not provide under its policy."""

    def __init__(self, path: Path | str, imports: Sequence[str]) -> None:
        super().__init__(
            path,
            "imports what the sandbox does not provide: " + ", ".join(imports),
        )
        self.imports = tuple(imports)


class MetadataError(LoadError):
    """The component's get-metadata trapped or returned an unusable description."""


class PinnedError(LoadError):
    """The component's bytes are not the ones a lock file pinned for the tool: refused until
    it is locked again."""

    def __init__(self, path: Path | str, tool: str, pinned: str, actual: str) -> None:
        super().__init__(
            path,
            f"tool {tool!r} changed since it was locked (locked sha256 {pinned}, now {actual}); "
            "run `agent tools lock` again to trust the new bytes",
        )
        self.tool, self.pinned, self.actual = tool, pinned, actual
