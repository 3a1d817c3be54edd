"""Tell a rendered prompt's structure from the message data in it, so that data stays data.

A chat template turns messages into one string, where role markers such as `<|im_start|>` are
special tokens. Tokenizing that string with special-token parsing would let any text a message
carries (a tool result, a web page, a file) write those markers too and open a turn of its own.
So the template is rendered twice: once as it is, and once with every untrusted string (content,
tool names, argument values) replaced by a stand-in (`DataMask.mask`). The stand-ins show where
data lies and everything else is the template's own text; the real rendering then says what the
template made of each string (trimmed, JSON-escaped, cut), as long as that is text of the string.

    mask = DataMask()
    masked = render(mask.mask)            # the template with stand-ins
    parts = mask.parts(masked, render(str))

The stand-ins hold a random nonce, so no message can forge one. Where the template transformed a
string beyond what can be matched (e.g. it branched on the content), the masked rendering with each
stand-in replaced by the whole string is the prompt: the template's structure, the data as given.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator

from agent.errors import TemplateError
from agent.messages import PromptPart

# Printable brackets, so that neither JSON nor Python's repr escapes a stand-in.
_OPEN, _CLOSE = "\u27e6", "\u27e7"


class DataMask:
    """Stand-ins for the untrusted strings of one rendering, and how to read them back."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(6)
        self._pattern = re.compile(f"{_OPEN}{self._nonce}:([0-9]+){_CLOSE}")
        self.values: list[str] = []

    def mask(self, value: str) -> str:
        """A stand-in for `value` (an empty string has no data to hide and stays empty)."""
        if not value:
            return value
        self.values.append(value)
        return f"{_OPEN}{self._nonce}:{len(self.values) - 1}{_CLOSE}"

    def parts(self, masked: str, real: str) -> tuple[PromptPart, ...]:
        """The prompt as structure and data parts, from the masked and the real rendering.

        Raises TemplateError when a stand-in did not come out whole (a template that escaped or
        cut it), since the structure cannot be told from the data then.
        """
        pieces = self._pieces(masked)
        parts = _aligned(pieces, self.values, real)
        if parts is None:
            parts = [
                PromptPart(
                    text=p if isinstance(p, str) else self.values[p], data=isinstance(p, int)
                )
                for p in pieces
            ]
        return _merged(parts)

    def _pieces(self, masked: str) -> list[str | int]:
        pieces: list[str | int] = []
        pos = 0
        for found in self._pattern.finditer(masked):
            pieces.append(masked[pos : found.start()])
            pieces.append(int(found.group(1)))
            pos = found.end()
        pieces.append(masked[pos:])
        if any(isinstance(p, str) and self._nonce in p for p in pieces):
            raise TemplateError(
                "the model's chat template transforms message text in a way that hides where it "
                "lies in the prompt; it cannot be rendered safely"
            )
        return [p for p in pieces if p != ""]


def _aligned(pieces: list[str | int], values: list[str], real: str) -> list[PromptPart] | None:
    """The real rendering split along `pieces`, each stand-in matched to text of its value; None
    when the real rendering does not have the masked one's shape."""
    parts: list[PromptPart] = []
    pos = 0
    for index, piece in enumerate(pieces):
        if isinstance(piece, str):
            if not real.startswith(piece, pos):
                return None
            parts.append(PromptPart(text=piece))
            pos += len(piece)
            continue
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        last = following is None
        text = _match(real, pos, values[piece], following if isinstance(following, str) else "")
        if text is None or (last and pos + len(text) != len(real)):
            return None
        parts.append(PromptPart(text=text, data=True))
        pos += len(text)
    return parts if pos == len(real) else None


def _match(real: str, pos: int, value: str, following: str) -> str | None:
    """What the template wrote for `value` at `pos`, before `following` (the next structure)."""
    for candidate in _renderings(value):
        if real.startswith(candidate, pos) and real.startswith(following, pos + len(candidate)):
            return candidate
    if not following:
        return None
    end = real.find(following, pos)
    while 0 <= end <= pos + len(value):
        if real[pos:end] in value:  # the template kept part of the value (cut, stripped)
            return real[pos:end]
        end = real.find(following, end + 1)
    return None


def _renderings(value: str) -> Iterator[str]:
    """The ways templates commonly write a string: as it is, trimmed, or inside a JSON string."""
    yield value
    yield value.strip()
    yield value.lstrip()
    yield value.rstrip()
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield json.dumps(value)[1:-1]


def _merged(parts: list[PromptPart]) -> tuple[PromptPart, ...]:
    """Adjacent parts of the same kind joined, empty ones dropped."""
    merged: list[PromptPart] = []
    for part in parts:
        if not part.text:
            continue
        if merged and merged[-1].data == part.data:
            merged[-1] = PromptPart(text=merged[-1].text + part.text, data=part.data)
        else:
            merged.append(part)
    return tuple(merged)
