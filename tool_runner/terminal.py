r"""Untrusted text made safe to print on a terminal.

A tool's output, a file it read, a component's metadata and a model's reply are all hostile text.
Printed raw, their control characters are commands to the terminal: `ESC ] 0;...` sets the window
title, `ESC ] 52;...` writes the clipboard, `\r` and cursor movements overwrite what was printed
before, and bidirectional overrides reorder what a person reads. `for_terminal` shows each such
character as a visible escape instead (`\x1b`, `\r`, `\x9b`, `\u202e`), so the text stays readable
and cannot act; newlines and tabs are kept. JSON output needs none of this (json escapes controls).
"""

from __future__ import annotations

_KEPT = {"\n", "\t"}
_NAMED = {"\r": "\\r", "\x08": "\\b", "\x0c": "\\f", "\x0b": "\\v"}
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:
        ch = chr(code)
        if ch not in _KEPT:
            table[code] = _NAMED.get(ch, f"\\x{code:02x}")
    for code in _BIDI:
        table[code] = f"\\u{code:04x}"
    return table


_TABLE = _table()


def for_terminal(text: str) -> str:
    """`text` with every terminal control character (C0 but newline and tab, DEL, C1, bidi
    controls) written as a visible escape."""
    return text.translate(_TABLE)
