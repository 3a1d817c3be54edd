"""A component file on disk: its one stat, its bytes, and their format (binary, WAT text, core).

`stat_component` is the single existence check of a load (its result also keys the compile
cache's stat index); `read_component_bytes` reads and sniffs the bytes only on a cache miss.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import wasmtime

from tool_runner.errors import ComponentNotFoundError, CoreModuleError, LoadError, NotWasmError
from tool_runner.wasm_errors import wasmtime_errors_as

_MAGIC = b"\0asm"
_CORE_VERSION = b"\x01\x00\x00\x00"
_COMPONENT_LAYER = b"\x01\x00"


def stat_component(path: Path) -> os.stat_result:
    """The stat of `path`; raises ComponentNotFoundError unless it is an existing regular file."""
    with _os_errors(path):
        found = path.stat()
    if not stat.S_ISREG(found.st_mode):
        raise ComponentNotFoundError(path, "not a regular file")
    return found


def read_component_bytes(path: Path) -> bytes:
    """The component binary in `path` (WAT text is assembled); raises LoadError subclasses."""
    with _os_errors(path):
        data = path.read_bytes()
    if not data.startswith(_MAGIC):
        data = _assemble_text(path, data)
    _check_header(path, data)
    return data


@contextmanager
def _os_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise ComponentNotFoundError(path, "no such file") from None
    except OSError as exc:
        raise LoadError(path, exc.strerror or str(exc)) from exc


def _assemble_text(path: Path, data: bytes) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotWasmError(path, "not a WebAssembly file (no \\0asm header)") from None
    if not text.lstrip().startswith(("(", ";;", "(;")):
        raise NotWasmError(path, "not a WebAssembly file (no \\0asm header, not WAT text)")
    with wasmtime_errors_as(lambda reason: NotWasmError(path, f"invalid WAT text: {reason}")):
        return bytes(wasmtime.wat2wasm(text))


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


def component_digest(path: Path) -> str:
    """The sha256 (hex) of the file's bytes as they are on disk; raises LoadError subclasses."""
    digest = hashlib.sha256()
    with _os_errors(path), path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
