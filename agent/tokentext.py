"""Generated tokens to streamed text: UTF-8 split across tokens, and stop strings across tokens.

    text = TokenText(stops=["<|im_end|>"])
    for piece in token_bytes:                     # each new token's bytes, once
        out, stopped = text.feed(piece)           # text safe to show now; a stop string seen?
        ...
    rest = text.finish()                          # what was held back, once no stop came

The work per token is bounded: the UTF-8 decoder holds at most three bytes of a split character,
and the stop matcher looks only at the held-back tail (shorter than the longest stop string) and
the new text, never at the whole completion.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class StopMatcher:
    """Finds the first stop string in streamed text, holding back any tail that may start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """The text that can be shown now and whether a stop string appeared; after a stop, the
        text is everything before it (the stop string and anything after it are dropped)."""
        if not self._stops:
            return text, False
        buffer = self._held + text
        found = [i for i in (buffer.find(s) for s in self._stops) if i >= 0]
        if found:
            self._held = ""
            return buffer[: min(found)], True
        keep = max(_overlap(buffer, stop) for stop in self._stops)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], False

    def finish(self) -> str:
        """The held-back tail, once generation ended without a stop string."""
        held, self._held = self._held, ""
        return held


def _overlap(text: str, stop: str) -> int:
    """The length of the longest proper prefix of `stop` that `text` ends with."""
    for n in range(min(len(stop) - 1, len(text)), 0, -1):
        if text.endswith(stop[:n]):
            return n
    return 0


class TokenText:
    """Token bytes in, text out: whole UTF-8 characters only (invalid bytes dropped, as
    llama-cpp-python drops them) and nothing from a stop string on."""

    def __init__(self, stops: Sequence[str] = ()) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        self._stops = StopMatcher(stops)

    def feed(self, data: bytes) -> tuple[str, bool]:
        """The text that `data` (one token's bytes) completes, and whether a stop string
        appeared (then no more text follows)."""
        return self._stops.feed(self._utf8.decode(data))

    def finish(self) -> str:
        """The text held back at the end: a tail that did not become a stop string (a split
        character left incomplete is dropped)."""
        text, _ = self._stops.feed(self._utf8.decode(b"", final=True))
        return text + self._stops.finish()
