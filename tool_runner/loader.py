"""Reading a component file: existence, format sniffing (binary, WAT text, core module)."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from tool_runner.errors import ComponentNotFoundError, CoreModuleError, LoadError, NotWasmError
from tool_runner.sandbox import reason_line

_MAGIC = b"\0asm"
_CORE_VERSION = b"\x01\x00\x00\x00"
_COMPONENT_LAYER = b"\x01\x00"


def check_path(path: Path) -> None:
    """Raise ComponentNotFoundError unless `path` is an existing regular file."""
    if not path.exists():
        raise ComponentNotFoundError(path, "no such file")
    if not path.is_file():
        raise ComponentNotFoundError(path, "not a regular file")


def read_component_bytes(path: Path) -> bytes:
    """The component binary in `path` (WAT text is assembled); raises LoadError subclasses."""
    check_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, exc.strerror or str(exc)) from exc
    if not data.startswith(_MAGIC):
        data = _assemble_text(path, data)
    _check_header(path, data)
    return data


def _assemble_text(path: Path, data: bytes) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotWasmError(path, "not a WebAssembly file (no \\0asm header)") from None
    if not text.lstrip().startswith(("(", ";;", "(;")):
        raise NotWasmError(path, "not a WebAssembly file (no \\0asm header, not WAT text)")
    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as exc:
        raise NotWasmError(path, f"invalid WAT text: {reason_line(exc)}") from exc


def _check_header(path: Path, data: bytes) -> None:
    if len(data) < 8:
        raise NotWasmError(path, "truncated WebAssembly header")
    if data[4:8] == _CORE_VERSION:
        raise CoreModuleError(
            path,
            "this is a core WebAssembly module, not a component; wrap it with "
            "`wasm-tools component new` (adding the WASI preview1 adapter if it uses WASI)",
        )
    if data[6:8] != _COMPONENT_LAYER:
        raise NotWasmError(path, f"unsupported WebAssembly version/layer {data[4:8].hex()}")
