"""The package-docs section a component may carry: found by its section headers, read as
untrusted data (what does not read is no documentation, never an error)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tool_runner.wit_docs import (
    MAX_DOC_CHARS,
    MAX_SECTION_BYTES,
    SECTION,
    WitDocs,
    custom_section,
    find_section,
    parse_docs,
    read_wit_docs,
)

HEADER = b"\0asm\x0d\x00\x01\x00"  # a component's preamble
DOCS = {
    "docs": "A package.",
    "worlds": {"w": {"func_exports": {"greet": {"docs": "Greets."}}, "funcs": {"old": "Old."}}},
    "interfaces": {"shop": {"docs": "Sells.", "funcs": {"buy": "Buys\n  one   thing."}}},
}


def _component(tmp_path: Path, *sections: bytes) -> Path:
    path = tmp_path / "c.wasm"
    path.write_bytes(HEADER + b"".join(sections))
    return path


def _docs_section(payload: Any, version: bytes = b"\x01") -> bytes:
    return custom_section(SECTION, version + json.dumps(payload).encode())


def test_the_docs_are_found_among_other_sections_and_read(tmp_path: Path) -> None:
    other = custom_section("producers", b"x" * 300)  # a two-byte LEB128 size before ours
    path = _component(tmp_path, other, _docs_section(DOCS), custom_section(SECTION, b"\x01{}"))
    docs = read_wit_docs(path)
    assert docs.function("shop", "buy") == "Buys one thing."
    assert docs.function(None, "greet") == "Greets."
    assert docs.function(None, "old") == "Old."  # version 0's plain strings
    assert docs.interface("shop") == "Sells."
    assert docs.function("shop", "sell") is None and docs.function("nope", "buy") is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"interfaces": []},
        {"interfaces": {"shop": {"funcs": {"buy": 7, "sell": {"docs": ["x"]}}}}},
        {"worlds": {"w": "not a world"}, "interfaces": {"shop": None}},
        {"interfaces": {"shop": {"funcs": {"buy": {"docs": None}}}}},
    ],
)
def test_shapes_that_do_not_read_are_no_docs(payload: Any) -> None:
    docs = parse_docs(payload)
    assert docs.function("shop", "buy") is None and docs.function(None, "greet") is None


@pytest.mark.parametrize(
    "sections",
    [
        (),
        (custom_section(SECTION, b"\x07{}"),),  # an unknown format version
        (custom_section(SECTION, b"\x01{not json"),),
        (custom_section(SECTION, b"\x01" + b"[" * 100_000),),  # nested past the recursion limit
        (custom_section(SECTION, b""),),
        (b"\x00\xff\xff\xff\xff\xff",),  # a section size that never ends
        (b"\x00\x05ab",),  # a section cut short
    ],
)
def test_a_broken_or_missing_section_is_no_docs(tmp_path: Path, sections: tuple[bytes]) -> None:
    assert read_wit_docs(_component(tmp_path, *sections)) == WitDocs()


def test_a_file_that_is_not_wasm_or_missing_has_no_docs(tmp_path: Path) -> None:
    text = tmp_path / "t.wat"
    text.write_text("(component)")
    assert read_wit_docs(text) == WitDocs()
    assert read_wit_docs(tmp_path / "missing.wasm") == WitDocs()


def test_an_oversized_section_is_skipped_unread(tmp_path: Path) -> None:
    huge = custom_section(SECTION, b"\x01" + b" " * MAX_SECTION_BYTES)
    path = _component(tmp_path, huge, _docs_section(DOCS))
    assert read_wit_docs(path).interface("shop") == "Sells."  # the next one is found


def test_a_long_doc_is_cut() -> None:
    docs = parse_docs({"interfaces": {"i": {"funcs": {"f": "word " * 1000}}}})
    text = docs.function("i", "f") or ""
    assert len(text) == MAX_DOC_CHARS and text.endswith("...")


def test_find_section_stops_at_the_end() -> None:
    stream = io.BytesIO(HEADER + custom_section("a", b"1") + custom_section("b", b"2"))
    assert find_section(stream, "b") == b"2"
    assert find_section(io.BytesIO(HEADER), "b") is None
    assert find_section(io.BytesIO(b"\0asm"), "b") is None
