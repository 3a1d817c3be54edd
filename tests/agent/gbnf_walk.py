"""Run a GBNF grammar in Python, the way llama.cpp's sampler does (a set of pushdown stacks), to
check which strings it admits and to draw random strings from it. Test support only."""

from __future__ import annotations

import random

from agent.syntax.gbnf import CharSet, RuleRef, Rules, parse_gbnf

Frame = tuple[str, int, int]  # rule, alternative, element index
Stack = tuple[Frame, ...]

# Characters tried when a negated class or "." must produce one: the ones our syntaxes care about.
_POOL = [chr(c) for c in range(0x20, 0x7F)] + list("\n\t\r\x00\x1f\x7f\xe9\u2028\u4e2d\U0001f600")


class Grammar:
    """A parsed grammar that can match and sample strings."""

    def __init__(self, text: str) -> None:
        self.rules: Rules = parse_gbnf(text)

    def _advance(self, stack: Stack, out: set[Stack]) -> None:
        if not stack:
            out.add(stack)
            return
        rule, alt, index = stack[-1]
        element = self.rules[rule][alt][index]
        if isinstance(element, CharSet):
            out.add(stack)
            return
        base = stack[:-1]
        if index + 1 < len(self.rules[rule][alt]):
            base += ((rule, alt, index + 1),)
        for sub, alternative in enumerate(self.rules[element.name]):
            self._advance(base + ((element.name, sub, 0),) if alternative else base, out)

    def start(self) -> set[Stack]:
        """The stacks before any character."""
        stacks: set[Stack] = set()
        for alt, alternative in enumerate(self.rules["root"]):
            self._advance(((("root", alt, 0),) if alternative else ()), stacks)
        return stacks

    def _top(self, stack: Stack) -> CharSet:
        rule, alt, index = stack[-1]
        element = self.rules[rule][alt][index]
        assert isinstance(element, CharSet)
        return element

    def accept(self, stacks: set[Stack], ch: str) -> set[Stack]:
        """The stacks after `ch`."""
        out: set[Stack] = set()
        for stack in stacks:
            if stack and self._top(stack).matches(ord(ch)):
                rule, alt, index = stack[-1]
                rest = stack[:-1]
                if index + 1 < len(self.rules[rule][alt]):
                    rest += ((rule, alt, index + 1),)
                self._advance(rest, out)
        return out

    def matches(self, text: str) -> bool:
        """Whether the grammar admits exactly `text`."""
        stacks = self.start()
        for ch in text:
            stacks = self.accept(stacks, ch)
            if not stacks:
                return False
        return () in stacks

    def sample(self, rng: random.Random, *, max_chars: int = 4000) -> str | None:
        """A random string the grammar admits (None if it ran past `max_chars` first)."""
        stacks = self.start()
        out: list[str] = []
        while len(out) < max_chars:
            live = sorted(s for s in stacks if s)
            choices: list[Stack | None] = [*live, None] if () in stacks else list(live)
            pick = rng.choice(choices)
            if pick is None:
                return "".join(out)
            ch = _char_in(self._top(pick), rng)
            out.append(ch)
            stacks = self.accept(stacks, ch)
        return None


def _char_in(charset: CharSet, rng: random.Random) -> str:
    if not charset.any and not charset.negated:
        low, high = rng.choice(charset.ranges)
        return chr(rng.randint(low, high))
    candidates = [ch for ch in _POOL if charset.matches(ord(ch))]
    return rng.choice(candidates)


def ref_names(rules: Rules) -> set[str]:
    """Every rule name referenced somewhere (helps tests assert on structure)."""
    return {
        e.name for alts in rules.values() for alt in alts for e in alt if isinstance(e, RuleRef)
    }
