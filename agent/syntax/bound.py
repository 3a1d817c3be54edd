"""How long a reply a grammar admits, so that a call step's token budget can always hold a call.

    budget = reply_token_budget(gbnf)      # None when the grammar admits unbounded text

`max_utf8_bytes` walks the grammar as llama.cpp expands it (`gbnf.parse_gbnf`): a terminal takes
at most as many UTF-8 bytes as its widest code point, a sequence the sum of its parts, a rule its
longest alternative; a rule that can reach itself (a `*`, a `+`, recursion) admits unbounded text.
llama.cpp's grammar sampler refuses every token whose text is empty, so each token of a reply
carries at least one byte of it: a reply of at most N bytes takes at most N tokens, plus the
end-of-turn token that llama-cpp-python also counts against `max_tokens`.
"""

from __future__ import annotations

import functools

from agent.syntax.gbnf import Alternative, CharSet, Rules, parse_gbnf

_MAX_CODE_POINT_BYTES = 4


def _charset_bytes(element: CharSet) -> int:
    if element.any or element.negated or not element.ranges:
        return _MAX_CODE_POINT_BYTES
    widest = max(high for _, high in element.ranges)
    return len(chr(min(widest, 0x10FFFF)).encode("utf-8", "surrogatepass"))


def max_utf8_bytes(gbnf: str) -> int | None:
    """The most UTF-8 bytes a text admitted by `gbnf` can have; None when it is unbounded.
    Raises InvalidGrammarError for a grammar llama.cpp would refuse."""
    return _longest(parse_gbnf(gbnf))


def _longest(rules: Rules) -> int | None:
    known: dict[str, int | None] = {}
    visiting: set[str] = set()

    def rule(name: str) -> int | None:
        if name in known:
            return known[name]
        if name in visiting:  # a cycle: the rule can repeat without end
            return None
        visiting.add(name)
        sizes = [_sequence(alternative) for alternative in rules[name]]
        visiting.discard(name)
        known[name] = None if None in sizes else max((s for s in sizes if s is not None), default=0)
        return known[name]

    def _sequence(alternative: Alternative) -> int | None:
        total = 0
        for element in alternative:
            size = _charset_bytes(element) if isinstance(element, CharSet) else rule(element.name)
            if size is None:
                return None
            total += size
        return total

    return rule("root")


@functools.lru_cache(maxsize=64)  # the loop asks once per step, mostly for the same grammar
def reply_token_budget(gbnf: str) -> int | None:
    """The `max_tokens` under which no reply `gbnf` admits can be cut off (its longest text in
    bytes, plus the end-of-turn token); None when the grammar admits unbounded text."""
    longest = max_utf8_bytes(gbnf)
    return None if longest is None else longest + 1
