"""A pure-Python GBNF parser that mirrors llama.cpp's, so no grammar reaches llama.cpp unchecked.

llama-cpp-python hands the grammar string to llama.cpp's sampler without a NULL check: a
grammar llama.cpp rejects crashes the whole process. `validate_gbnf` accepts what llama.cpp's
`llama-grammar.cpp` parser accepts (rule names `[a-zA-Z0-9-]+`, `::=`, `|`, groups, `*+?`,
`{m}`, `{m,}`, `{m,n}`, literals and character classes with the `\\x \\u \\U \\t \\r \\n \\\\ \\"
\\[ \\]` escapes, `.`, `#` comments, a newline ending each rule outside parentheses) and also
rejects what `llama_grammar_init` refuses afterwards (undefined rules, no `root`, left
recursion). It is stricter in three places: a rule defined twice, a NUL character, and
repetition counts over 2000 (llama.cpp's own sanity threshold) are errors.

`parse_gbnf` returns the rules in llama.cpp's expanded form (repetitions rewritten into
generated rules), which tests use to match and sample strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import InvalidGrammarError

MAX_REPETITIONS = 2000
_HEX = "0123456789abcdefABCDEF"
_SIMPLE_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "\\": "\\", '"': '"', "[": "[", "]": "]"}


@dataclass(frozen=True)
class CharSet:
    """One terminal: a code point set given as inclusive ranges, possibly negated, or any."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False
    any: bool = False

    def matches(self, code: int) -> bool:
        """Whether the code point `code` is in the set."""
        if self.any:
            return True
        inside = any(low <= code <= high for low, high in self.ranges)
        return inside != self.negated


@dataclass(frozen=True)
class RuleRef:
    """A reference to the rule called `name`."""

    name: str


Element = CharSet | RuleRef
Alternative = tuple[Element, ...]
Rules = dict[str, tuple[Alternative, ...]]


def validate_gbnf(grammar: str) -> None:
    """Check `grammar` the way llama.cpp will; raises InvalidGrammarError naming rule and place."""
    parse_gbnf(grammar)


def parse_gbnf(grammar: str) -> Rules:
    """Parse `grammar` into expanded rules; raises InvalidGrammarError as `validate_gbnf` does."""
    return _Parser(grammar).parse()


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9" and len(ch) == 1


def _is_word_char(ch: str) -> bool:
    return ch == "-" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9")


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.rules: dict[str, list[Alternative]] = {}
        self.symbols: dict[str, int] = {}
        self.refs: dict[str, tuple[int, str]] = {}  # referenced rule -> first (position, rule)
        self.rule = ""

    # -- errors ------------------------------------------------------------------------------

    def fail(self, reason: str, pos: int | None = None) -> InvalidGrammarError:
        at = self.pos if pos is None else pos
        line = self.src.count("\n", 0, at) + 1
        column = at - (self.src.rfind("\n", 0, at) + 1) + 1
        return InvalidGrammarError(reason, rule=self.rule or None, line=line, column=column)

    # -- lexing ------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.src[index] if index < len(self.src) else ""

    def skip_space(self, newline_ok: bool) -> None:
        while True:
            ch = self.peek()
            if ch in (" ", "\t") or (newline_ok and ch in ("\r", "\n")):
                self.pos += 1
            elif ch == "#":
                while self.peek() not in ("", "\r", "\n"):
                    self.pos += 1
            else:
                return

    def name(self) -> str:
        start = self.pos
        while _is_word_char(self.peek()):
            self.pos += 1
        if self.pos == start:
            raise self.fail("expecting a rule name")
        return self.src[start : self.pos]

    def integer(self) -> int:
        start = self.pos
        while _is_digit(self.peek()):
            self.pos += 1
        if self.pos == start:
            raise self.fail("expecting an integer")
        return int(self.src[start : self.pos])

    def char(self) -> int:
        ch = self.peek()
        if ch == "":
            raise self.fail("unexpected end of input")
        if ch != "\\":
            self.pos += 1
            return ord(ch)
        escape = self.peek(1)
        if escape in ("x", "u", "U"):
            size = {"x": 2, "u": 4, "U": 8}[escape]
            digits = self.src[self.pos + 2 : self.pos + 2 + size]
            if len(digits) != size or any(d not in _HEX for d in digits):
                raise self.fail(f"expecting {size} hex digits after \\{escape}")
            self.pos += 2 + size
            value = int(digits, 16)
            if value > 0x10FFFF:
                raise self.fail(f"code point \\{escape}{digits} is out of range")
            return value
        if escape in _SIMPLE_ESCAPES:
            self.pos += 2
            return ord(_SIMPLE_ESCAPES[escape])
        raise self.fail(f"unknown escape \\{escape}" if escape else "unexpected end of input")

    # -- grammar -----------------------------------------------------------------------------

    def new_symbol(self) -> str:
        name = f"{self.rule}_{len(self.symbols)}"
        self.symbols[name] = len(self.symbols)
        return name

    def parse(self) -> Rules:
        if "\x00" in self.src:
            raise self.fail("grammar contains a NUL character", self.src.index("\x00"))
        try:
            self.src.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.fail("grammar is not valid UTF-8 text", exc.start) from None
        self.skip_space(newline_ok=True)
        while self.pos < len(self.src):
            self.parse_rule()
        self.rule = ""
        for name, (pos, referrer) in self.refs.items():
            if name not in self.rules:
                self.rule = referrer
                raise self.fail(f"undefined rule '{name}'", pos)
        if "root" not in self.rules:
            raise self.fail("grammar has no 'root' rule", len(self.src))
        rules = {name: tuple(alts) for name, alts in self.rules.items()}
        _check_left_recursion(rules, self)
        return rules

    def parse_rule(self) -> None:
        start = self.pos
        name = self.name()
        self.rule = name
        if name in self.rules:
            raise self.fail(f"rule '{name}' is defined twice", start)
        self.symbols.setdefault(name, len(self.symbols))
        self.skip_space(newline_ok=False)
        if self.src[self.pos : self.pos + 3] != "::=":
            raise self.fail("expecting '::='")
        self.pos += 3
        self.skip_space(newline_ok=True)
        self.rules[name] = []  # marks it defined before nested rules are generated
        self.rules[name] = self.alternates(nested=False)
        ch = self.peek()
        if ch == "\r":
            self.pos += 2 if self.peek(1) == "\n" else 1
        elif ch == "\n":
            self.pos += 1
        elif ch:
            raise self.fail(f"expecting newline or end, found {ch!r}")
        self.skip_space(newline_ok=True)

    def alternates(self, nested: bool) -> list[Alternative]:
        alternatives = [self.sequence(nested)]
        while self.peek() == "|":
            self.pos += 1
            self.skip_space(newline_ok=True)
            alternatives.append(self.sequence(nested))
        return alternatives

    def sequence(self, nested: bool) -> Alternative:
        items: list[Element] = []
        last_start = 0  # items[last_start:] is the last symbol, the one a repetition applies to
        while True:
            ch = self.peek()
            if ch == '"':
                self.pos += 1
                last_start = len(items)
                while self.peek() != '"':
                    items.append(CharSet(((code := self.char(), code),)))
                self.pos += 1
            elif ch == "[":
                self.pos += 1
                last_start = len(items)
                items.append(self.char_class())
            elif ch and _is_word_char(ch):
                at = self.pos
                name = self.name()
                self.symbols.setdefault(name, len(self.symbols))
                self.refs.setdefault(name, (at, self.rule))
                last_start = len(items)
                items.append(RuleRef(name))
            elif ch == "(":
                self.pos += 1
                self.skip_space(newline_ok=True)
                sub = self.new_symbol()
                self.rules[sub] = self.alternates(nested=True)
                if self.peek() != ")":
                    raise self.fail("expecting ')'")
                self.pos += 1
                last_start = len(items)
                items.append(RuleRef(sub))
            elif ch == ".":
                self.pos += 1
                last_start = len(items)
                items.append(CharSet((), any=True))
            elif ch in ("*", "+", "?", "{"):
                low, high = self.repetition(nested)
                if last_start == len(items):
                    raise self.fail(f"expecting an item before '{ch}'")
                items[last_start:] = self.expand(tuple(items[last_start:]), low, high)
                self.skip_space(nested)
                continue
            else:
                return tuple(items)
            self.skip_space(nested)

    def char_class(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        while self.peek() != "]":
            low = self.char()
            high = low
            if self.peek() == "-" and self.peek(1) != "]":
                if self.peek(1) == "":
                    raise self.fail("unexpected end of input")
                self.pos += 1
                high = self.char()
            ranges.append((low, high))
        self.pos += 1
        return CharSet(tuple(ranges), negated=negated)

    def repetition(self, nested: bool) -> tuple[int, int | None]:
        ch = self.peek()
        self.pos += 1
        if ch != "{":
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        self.skip_space(nested)
        if not _is_digit(self.peek()):
            raise self.fail("expecting an integer after '{'")
        low = self.integer()
        high: int | None = low
        self.skip_space(nested)
        if self.peek() == ",":
            self.pos += 1
            self.skip_space(nested)
            high = self.integer() if _is_digit(self.peek()) else None
            self.skip_space(nested)
        elif self.peek() != "}":
            raise self.fail("expecting ',' or '}'")
        if self.peek() != "}":
            raise self.fail("expecting '}'")
        self.pos += 1
        if max(low, high or 0) > MAX_REPETITIONS:
            raise self.fail(f"repetition count over {MAX_REPETITIONS}")
        if high is not None and high < low:
            raise self.fail(f"repetition {{{low},{high}}} has max below min")
        return low, high

    def expand(self, item: Alternative, low: int, high: int | None) -> list[Element]:
        """Rewrite `item{low,high}` into plain elements plus generated rules, as llama.cpp does."""
        out = list(item * low)
        if high is None:
            rec = self.new_symbol()
            self.rules[rec] = [(*item, RuleRef(rec)), ()]
            out.append(RuleRef(rec))
            return out
        previous: str | None = None
        for _ in range(high - low):
            rec = self.new_symbol()
            tail: Alternative = (RuleRef(previous),) if previous else ()
            self.rules[rec] = [(*item, *tail), ()]
            previous = rec
        if previous:
            out.append(RuleRef(previous))
        return out


def _check_left_recursion(rules: Rules, parser: _Parser) -> None:
    """Reject left recursion, which llama.cpp's grammar init refuses (returns NULL)."""
    may_be_empty: dict[str, bool] = {}
    done: set[str] = set()
    in_progress: set[str] = set()

    def visit(name: str) -> bool:
        if name in in_progress:
            return True
        if name in done:
            return False
        in_progress.add(name)
        alts = rules[name]
        may_be_empty[name] = any(len(alt) == 0 for alt in alts)
        for alt in alts:
            for element in alt:
                if not isinstance(element, RuleRef):
                    break
                if visit(element.name):
                    return True
                if not may_be_empty.get(element.name, False):
                    break
        in_progress.discard(name)
        done.add(name)
        return False

    for name in rules:
        if visit(name):
            parser.rule = name
            raise parser.fail(f"left recursion through rule '{name}'", len(parser.src))
