"""The line of a key in a TOML text, so that an app file's errors can say where.

`tomllib` keeps no positions, so this reads the text as lines: table headers (`[a.b]`,
`[[a]]`), `key = value` lines and dotted keys, each with the table it belongs to. It knows enough
TOML for error messages (a key inside a multi-line array is found at the line it starts on;
inline tables give the line of the key that holds them); a key it cannot find gives None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


def _split_key(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in _split_dots(text):
        match = _PART.fullmatch(piece)
        if match is None:
            return ()
        parts.append(next(g for g in match.groups() if g is not None))
    return tuple(parts)


def _split_dots(text: str) -> list[str]:
    """Split on dots outside quotes."""
    pieces, current, quote = [], "", ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current += char
        elif char == ".":
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return pieces


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Every table and key of `text` by its full path, with its 1-based line (first wins)."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth = 0  # open brackets of a multi-line value: its lines hold no keys of the table
    for number, line in enumerate(text.splitlines(), start=1):
        if depth == 0:
            header = _HEADER.match(line)
            if header is not None:
                path = _split_key(header.group(1))
                if path:
                    table = path
                    for end in range(1, len(path) + 1):
                        found.setdefault(path[:end], number)
                    continue
            key = _KEY.match(line)
            if key is not None:
                path = table + _split_key(key.group(1))
                for end in range(len(table) + 1, len(path) + 1):
                    found.setdefault(path[:end], number)
                value = line[key.end() :]
                depth = max(_net_brackets(value), 0)
                continue
        else:
            depth = max(depth + _net_brackets(line), 0)
    return found


def _net_brackets(text: str) -> int:
    """`[`/`{` opened minus those closed on this line, outside strings and comments."""
    count, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            count += 1
        elif char in "]}":
            count -= 1
    return count


def line_of(lines: Mapping[tuple[str, ...], int], path: Sequence[object]) -> int | None:
    """The line of the longest prefix of `path` (string parts only) that `lines` knows."""
    keys = tuple(str(part) for part in path if not isinstance(part, int))
    for end in range(len(keys), 0, -1):
        if keys[:end] in lines:
            return lines[keys[:end]]
    return None


__all__ = ["key_lines", "line_of"]
