"""Building blocks for the GBNF grammars of every call syntax.

Every free part a call can contain is bounded (strings up to `MAX_STRING_CHARS` characters,
numbers up to a fixed count of digits, at most `MAX_CALLS` calls in a reply), so that even a
random-weights model reaches the end of the grammar. Only the plain-text answer of "auto" mode is
unbounded: a real model ends it, `max_tokens` ends a random one. JSON strings are written here
rather than taken from llama-cpp-python's converter, which lets raw control characters in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

from agent.syntax.gbnf import validate_gbnf
from tool_runner import ParamType, ToolMetadata, ToolParam

MAX_CALLS = 4
MAX_STRING_CHARS = 256
_MAX_INT_DIGITS = 16  # integers and the integer part of positional numbers: |x| < 1e16
# The bounds of `number`, from how Python's repr (and so json.dumps) writes a finite float: the
# shortest text that reads back the same, at most 17 significant digits, positional when
# 1e-4 <= |x| < 1e16 and scientific otherwise.
_MAX_POSITIONAL_FRACTION_DIGITS = 20  # 0.000ddddddddddddddddd: 3 leading zeros + 17 significant
_MAX_MANTISSA_FRACTION_DIGITS = 16  # d.dddddddddddddddd: 1 + 16 significant
_MAX_EXPONENT_DIGITS = 3  # 5e-324 .. 1.7976931348623157e+308
_MAX_POSITIVE_EXPONENT = 308
# The largest 16-digit fraction f for which 1.f e308 still rounds to the largest double (the next
# decimal up, 1.7976931348623159e308, overflows to infinity).
_MAX_DOUBLE_FRACTION = "7976931348623158"
_WHITESPACE = " \t\r\n"


class GrammarBuilder:
    """Collects named GBNF rules and renders them, `root` first, validated."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}

    def rule(self, name: str, body: str) -> str:
        """Define `name ::= body` once (a second identical definition is a no-op); returns name."""
        known = self._rules.get(name)
        if known is not None and known != body:
            raise ValueError(f"GBNF rule {name!r} defined twice with different bodies")
        self._rules[name] = body
        return name

    def build(self) -> str:
        """The grammar text; raises GrammarError when it would not pass llama.cpp's parser."""
        names = sorted(self._rules, key=lambda n: n != "root")
        text = "".join(f"{name} ::= {self._rules[name]}\n" for name in names)
        validate_gbnf(text)
        return text


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def char_class(chars: Iterable[str], *, negate: bool = False, extra: str = "") -> str:
    """A character class of `chars` (each escaped), plus `extra`: raw class syntax."""
    body = "".join(ch if ch.isalnum() and ch.isascii() else _class_escape(ch) for ch in chars)
    return "[" + ("^" if negate else "") + body + extra + "]"


def _class_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


PLACEHOLDER_START = "<"
"""How the prompts' placeholders (`<value>`) start. No string value may start with it raw, so
that a model cannot copy a placeholder into a call; a value that does is written with its JSON
escape (`\\u003c`), as `json_text` and the directive syntax write it."""


def json_text(value: str) -> str:
    """`value` as a JSON string, its first character escaped when it is PLACEHOLDER_START."""
    text = json.dumps(value, ensure_ascii=False)
    return '"\\u003c' + text[2:] if value.startswith(PLACEHOLDER_START) else text


def json_string(b: GrammarBuilder) -> str:
    """A JSON string of at most MAX_STRING_CHARS characters, no raw control characters, not
    starting with a raw PLACEHOLDER_START."""
    escape = r'"\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'
    b.rule("json-char", rf'[^"\\\x00-\x1F] | {escape}')
    b.rule("json-first-char", rf'[^"\\\x00-\x1F{PLACEHOLDER_START}] | {escape}')
    more = f"json-char{{0,{MAX_STRING_CHARS - 1}}}"
    return b.rule("json-string", f'"\\"" (json-first-char {more})? "\\""')


def integer(b: GrammarBuilder) -> str:
    """A JSON integer of at most 16 digits (no leading zeros)."""
    return b.rule("integer", f'"-"? ("0" | [1-9] [0-9]{{0,{_MAX_INT_DIGITS - 1}}})')


def number(b: GrammarBuilder) -> str:
    """A JSON number that admits every finite float as Python's repr/json.dumps writes it
    (subnormals and -0.0 included), and nothing that would read back as infinity.

    Bounds, so that a random model still ends the rule and every admitted number is a finite
    double: positional numbers have at most 16 integer and 20 fraction digits (under 1e16);
    scientific ones a one-digit mantissa with at most 16 fraction digits and an exponent of at
    most three digits, where a positive exponent stops at 308 and 308 itself takes only a
    mantissa that rounds to at most the largest double (1.7976931348623158 or less).
    """
    sign = '"-"?'
    whole = f'("0" | [1-9] [0-9]{{0,{_MAX_INT_DIGITS - 1}}})'
    positional = f'{whole} ("." [0-9]{{1,{_MAX_POSITIONAL_FRACTION_DIGITS}}})?'
    fraction = f'("." [0-9]{{1,{_MAX_MANTISSA_FRACTION_DIGITS}}})?'
    mantissa = f"[0-9] {fraction}"
    top = _MAX_POSITIVE_EXPONENT
    below_top = (  # 0 .. 307, leading zeros allowed, at most three digits
        f'[0-9]{{1,2}} | [0-{top // 100 - 1}] [0-9] [0-9] | "{top // 10}" [0-{top % 10 - 1}]'
    )
    negative = f'"-" [0-9]{{1,{_MAX_EXPONENT_DIGITS}}}'  # tiny numbers round to zero: finite
    largest = b.rule("number-max-mantissa", f'"0" {fraction} | "1" ("." {_at_most(b)})?')
    scientific = f'{mantissa} [eE] ({negative} | "+"? ({below_top})) | {largest} [eE] "+"? "{top}"'
    b.rule("number-scientific", scientific)
    return b.rule("number", f"{sign} (number-scientific | {positional})")


def bounded_number(b: GrammarBuilder, low: float | None, high: float | None) -> str:
    """A number text for bounds `low`..`high` (either may be None): no sign when `low` is not
    negative; with both bounds, positional only (no exponent) with no more integer digits than
    the wider bound has. Validation checks the exact bounds."""
    if low is None or high is None:
        if low is not None and low >= 0:
            number(b)  # defines number-scientific
            whole = f'("0" | [1-9] [0-9]{{0,{_MAX_INT_DIGITS - 1}}})'
            fraction = f'("." [0-9]{{1,{_MAX_POSITIONAL_FRACTION_DIGITS}}})?'
            return f"(number-scientific | {whole} {fraction})"
        return number(b)
    digits = min(_MAX_INT_DIGITS, len(str(max(abs(math.trunc(low)), abs(math.trunc(high))))))
    more = f" [0-9]{{0,{digits - 1}}}" if digits > 1 else ""
    fraction = f'("." [0-9]{{1,{_MAX_POSITIONAL_FRACTION_DIGITS}}})?'
    sign = '"-"? ' if low < 0 else ""
    return f'({sign}("0" | [1-9]{more}) {fraction})'


def _at_most(b: GrammarBuilder, bound: str = _MAX_DOUBLE_FRACTION) -> str:
    """A rule for 1 to len(bound) digits that, read as a fraction, is at most 0.`bound`."""
    name = ""
    for index in range(len(bound) - 1, -1, -1):
        digit = int(bound[index])
        rest = len(bound) - index - 1
        same = literal(bound[index]) + (f" {name}?" if name else "")
        alternatives = [same]
        if digit > 0:
            smaller = f"[0-{digit - 1}]"
            alternatives.append(f"{smaller} [0-9]{{0,{rest}}}" if rest else smaller)
        name = b.rule(rule_name("number-fraction-at-most", index), " | ".join(alternatives))
    return name


def boolean(b: GrammarBuilder) -> str:
    """`true` or `false`."""
    return b.rule("boolean", '"true" | "false"')


def typed_value(b: GrammarBuilder, kind: ParamType, *, string_rule: str) -> str:
    """The rule for one value of type `kind`; strings use `string_rule` (format specific)."""
    if kind == "string":
        return string_rule
    if kind == "integer":
        return integer(b)
    if kind == "number":
        return number(b)
    return boolean(b)


def bounded_integer(low: float | None, high: float | None) -> str:
    """An integer text for bounds `low`..`high` (either may be None): no sign when `low` is not
    negative, no "0" when 0 is out of range, and when both are given no more digits than the
    wider bound has."""
    digits = _MAX_INT_DIGITS
    if low is not None and high is not None:
        widest = max(abs(math.trunc(low)), abs(math.trunc(high)))
        digits = min(_MAX_INT_DIGITS, len(str(widest)))
    more = f" [0-9]{{0,{digits - 1}}}" if digits > 1 else ""
    alternatives = [f"[1-9]{more}"]
    if (low is None or low <= 0) and (high is None or high >= 0):
        alternatives.insert(0, '"0"')
    sign = '"-"? ' if low is None or low < 0 else ""
    return f"({sign}({' | '.join(alternatives)}))"


def canonical_params(tool: ToolMetadata) -> tuple[ToolParam, ...]:
    """The canonical argument order every syntax writes: required params, then optional ones."""
    return tuple(p for p in tool.params if p.required) + tuple(
        p for p in tool.params if not p.required
    )


def rule_name(prefix: str, index: int) -> str:
    """A GBNF-safe rule name for the `index`-th item (tool names may hold any character)."""
    return f"{prefix}-{index}"


def repeated_calls(b: GrammarBuilder, call_rule: str, separator: str, *, max_calls: int) -> str:
    """`call (separator call){0,max_calls-1}` as rule `calls`."""
    if max_calls <= 1:
        return b.rule("calls", call_rule)
    more = f"({literal(separator)} {call_rule}){{0,{max_calls - 1}}}"
    return b.rule("calls", f"{call_rule} {more}")


def free_text(b: GrammarBuilder, *, forbidden: str, first_not: str = "", name: str = "text") -> str:
    """Unbounded plain text (rule `name`, possibly empty) that never contains `forbidden` (when
    given) and whose first character is neither whitespace nor one of `first_not`.

    Built as the string-matching automaton of `forbidden` (KMP): state i means the text ends with
    the first i characters of `forbidden`; the character that would complete it has no
    transition, and every character not listed goes back to state 0.
    """
    excluded_first = set(_WHITESPACE + first_not)
    if not forbidden:
        return b.rule(name, f'{char_class(sorted(excluded_first), negate=True)} .* | ""')
    states = len(forbidden)
    for state in range(-1, states):  # -1: before the first character
        source = max(state, 0)
        special = sorted(ch for ch in set(forbidden) if _next_state(forbidden, source, ch) != 0)
        skip = excluded_first if state < 0 else set()
        alternatives = [
            f"{literal(ch)} {rule_name(name + '-state', target)}"
            for ch in special
            if ch not in skip and (target := _next_state(forbidden, source, ch)) < states
        ]
        other = char_class(sorted(set(special) | skip), negate=True)
        alternatives.append(f"{other} {rule_name(name + '-state', 0)}")
        alternatives.append('""')  # the text may end in any state
        b.rule(name if state < 0 else rule_name(name + "-state", state), " | ".join(alternatives))
    return name


def after_reasoning(gbnf: str, open_tag: str, close_tag: str, *, opened: bool) -> str:
    """A built grammar `gbnf` that applies only after a reasoning block (a lazy grammar): the
    reply may first hold `open_tag`, free text without `close_tag`, `close_tag`; with `opened`
    (the prompt opened the block) it starts inside the block and must close it first."""
    b = GrammarBuilder()
    text = free_text(b, forbidden=close_tag, name="reasoning-text")
    body = f"[ \\t\\n]* {text} {literal(close_tag)} [ \\t\\n]*"
    if opened:
        b.rule("root", f"{body} after-reasoning")
    else:
        b.rule("root", f"({literal(open_tag)} {body})? after-reasoning")
    for line in gbnf.splitlines():  # GrammarBuilder.build writes one rule per line
        name, body = line.split(" ::= ", 1)
        b.rule("after-reasoning" if name == "root" else name, body)
    return b.build()


def _next_state(pattern: str, state: int, ch: str) -> int:
    """The longest prefix of `pattern` that is a suffix of `pattern[:state] + ch`."""
    seen = pattern[:state] + ch
    for length in range(min(len(seen), len(pattern)), 0, -1):
        if seen.endswith(pattern[:length]):
            return length
    return 0


def object_members(
    b: GrammarBuilder,
    name: str,
    params: Sequence[ToolParam],
    member: dict[str, str],
    *,
    separator: str,
) -> str:
    """Rule `name` for the members of one call in canonical order: every required member, each
    optional one at most once, `separator` between two; `member[p.name]` is a param's rule text."""
    required = [member[p.name] for p in params if p.required]
    optional = [member[p.name] for p in params if not p.required]
    sep = literal(separator)
    if required:
        body = f" {sep} ".join(required) + "".join(f" ({sep} {m})?" for m in optional)
        return b.rule(name, body)
    if not optional:
        return b.rule(name, '""')
    starts = [
        m + "".join(f" ({sep} {later})?" for later in optional[i + 1 :])
        for i, m in enumerate(optional)
    ]
    return b.rule(name, "(" + " | ".join(starts) + ")?")
