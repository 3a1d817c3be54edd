"""A component's own WIT documentation: the `package-docs` custom section.

wit-component writes the section (a version byte, 0 or 1, then JSON: the package's `docs`, its
`worlds` with their `funcs`/`func_exports`, its `interfaces` with their `funcs`; a function's
entry is its doc string, or `{"docs": ...}` in version 1) when it encodes a WIT package
(`wasm-tools component wit --wasm`); a build appends it to the component's top-level sections
(tests/tool_runner/typed_components.py shows how). Only the top level is scanned, by section
headers, so a large component costs a few reads. The section is untrusted: anything that does
not read is no documentation, never an error; doc strings are capped at `MAX_DOC_CHARS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

SECTION = "package-docs"
MAX_SECTION_BYTES = 1024 * 1024
MAX_DOC_CHARS = 2000
_HEADER = 8


@dataclass(frozen=True)
class WitDocs:
    """The doc strings of one package's functions: per interface name, and world-level."""

    interfaces: dict[str, dict[str, str]] = field(default_factory=dict)
    interface_docs: dict[str, str] = field(default_factory=dict)
    world_funcs: dict[str, str] = field(default_factory=dict)

    def function(self, interface: str | None, name: str) -> str | None:
        """The doc string of function `name` (in `interface`, or at the world level)."""
        if interface is None:
            return self.world_funcs.get(name)
        return self.interfaces.get(interface, {}).get(name)

    def interface(self, name: str) -> str | None:
        """The doc string of the interface `name`."""
        return self.interface_docs.get(name)


def read_wit_docs(path: Path) -> WitDocs:
    """The package-docs of the component file at `path`; empty when there are none or they do
    not read (see the module docstring)."""
    try:
        with path.open("rb") as stream:
            payload = find_section(stream, SECTION)
    except OSError:
        return WitDocs()
    if payload is None or payload[:1] not in (b"\x00", b"\x01"):
        return WitDocs()
    try:
        data = json.loads(payload[1:].decode("utf-8"))
    except (ValueError, RecursionError):
        return WitDocs()
    return parse_docs(data)


def parse_docs(data: Any) -> WitDocs:
    """WitDocs from the section's JSON; what does not have the expected shape is left out."""
    if not isinstance(data, dict):
        return WitDocs()
    interfaces: dict[str, dict[str, str]] = {}
    interface_docs: dict[str, str] = {}
    for name, entry in _mapping(data.get("interfaces")).items():
        entry = _mapping(entry)
        interfaces[name] = _funcs(entry.get("funcs"))
        text = _text(entry.get("docs"))
        if text:
            interface_docs[name] = text
    world_funcs: dict[str, str] = {}
    for world in _mapping(data.get("worlds")).values():
        world = _mapping(world)
        for key in ("funcs", "func_exports"):
            for name, text in _funcs(world.get(key)).items():
                world_funcs.setdefault(name, text)
    return WitDocs(interfaces, interface_docs, world_funcs)


def _funcs(value: Any) -> dict[str, str]:
    found = {}
    for name, entry in _mapping(value).items():
        text = _text(entry.get("docs") if isinstance(entry, dict) else entry)
        if text:
            found[name] = text
    return found


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str)}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    return text if len(text) <= MAX_DOC_CHARS else text[: MAX_DOC_CHARS - 3] + "..."


def find_section(stream: BinaryIO, wanted: str) -> bytes | None:
    """The payload of the first top-level custom section called `wanted`, or None."""
    header = stream.read(_HEADER)
    if len(header) != _HEADER or not header.startswith(b"\0asm"):
        return None
    while True:
        kind = stream.read(1)
        if not kind:
            return None
        size = _leb128(stream)
        if size is None:
            return None
        start = stream.tell()
        if kind == b"\x00" and size <= MAX_SECTION_BYTES:
            body = stream.read(size)
            if len(body) != size:
                return None
            name, payload = _split_name(body)
            if name == wanted:
                return payload
        stream.seek(start + size)


def _split_name(body: bytes) -> tuple[str | None, bytes]:
    value, shift, index = 0, 0, 0
    while index < min(len(body), 5):
        byte = body[index]
        value |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            end = index + value
            try:
                return body[index:end].decode("utf-8"), body[end:]
            except UnicodeDecodeError:
                return None, b""
        shift += 7
    return None, b""


def _leb128(stream: BinaryIO) -> int | None:
    value, shift = 0, 0
    for _ in range(5):
        byte = stream.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
    return None


def custom_section(name: str, payload: bytes) -> bytes:
    """A custom section (id 0) holding `payload` under `name`, to append to a component."""
    encoded = name.encode("utf-8")
    body = _encode_leb128(len(encoded)) + encoded + payload
    return b"\x00" + _encode_leb128(len(body)) + body


def _encode_leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
