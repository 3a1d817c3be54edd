"""Exact arithmetic over a tokenizer and a precedence-climbing parser: never `eval`.

Numbers are `fractions.Fraction`s, so integers of any size and decimals stay exact
(`0.1 + 0.2` is `0.3`, `2**100` is every digit of it). Operations with irrational results
(`sqrt(2)`, `2 ** 0.5`, `pi`) continue with a 50-digit approximation and mark the value
inexact; inexact results are shown to 30 significant digits. Every value is bounded to
`MAX_DIGITS` digits, and a power whose result would exceed that is refused before it is
computed, so no input can make the tool run away.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation, Overflow
from fractions import Fraction

from toolspec import Param, ToolError, ToolSpec, Usage, required

MAX_DIGITS = 10_000
MAX_BITS = int(MAX_DIGITS * 3.3219280948873626) + 1  # log2(10) bits per digit
MAX_INPUT_CHARS = 10_000
MAX_DEPTH = 100
WORK_DIGITS = 50  # precision of approximations
SHOW_DIGITS = 30  # significant digits shown for inexact results
MAX_FACTORIAL = 3_000

# A componentize-py component can import only the modules imported while it was built, and
# Python 3.12+ converts ints of thousands of digits with the pure-Python `_pylong`.
with contextlib.suppress(ImportError):
    import _pylong  # noqa: F401

# Python refuses int <-> str conversions past 4300 digits by default; ours are bounded above.
if sys.get_int_max_str_digits() and sys.get_int_max_str_digits() < 2 * MAX_DIGITS:
    sys.set_int_max_str_digits(2 * MAX_DIGITS)

SPEC = ToolSpec(
    name="Calculator",
    description=(
        "Evaluates an arithmetic expression exactly: big integers, decimals, + - * / // % **, "
        "sqrt abs round floor ceil min max factorial, pi, e"
    ),
    version="0.1.0",
    params=(Param("expression", "The arithmetic expression to evaluate, e.g. (2 + 3) * 4"),),
    usage=(
        Usage("What is 2 to the power of 100?", "USE_TOOL: Calculator, expression=2**100"),
        Usage("How much is 17% of 250?", "USE_TOOL: Calculator, expression=250 * 17 / 100"),
        Usage(
            "Which is larger, 3 squared or 2 cubed? Give me the larger one.",
            'USE_TOOL: Calculator, expression="max(3**2, 2**3)"',
        ),
    ),
)


@dataclass(frozen=True)
class Value:
    """A number and whether it is exact (False once an approximation went into it)."""

    number: Fraction
    exact: bool = True


@dataclass(frozen=True)
class Token:
    """One lexical token: kind is number, name, op or end; pos is a 1-based column."""

    kind: str
    text: str
    pos: int


_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|//|[-+*/%^(),]))"
)


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`; ToolError at the first character that starts no token."""
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            bad = text[pos:].lstrip()[0]
            column = len(text) - len(text[pos:].lstrip()) + 1
            hint = " (write thousands without separators)" if bad == "," else ""
            raise ToolError(f"unexpected character {bad!r} at position {column}{hint}")
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _check_size(number: Fraction) -> Fraction:
    if max(number.numerator.bit_length(), number.denominator.bit_length()) > MAX_BITS:
        raise ToolError(f"result too large: more than {MAX_DIGITS} digits")
    return number


def _literal(text: str) -> Fraction:
    mantissa, _, exponent = text.lower().partition("e")
    digits = len(mantissa.replace(".", "").lstrip("0"))
    if digits + abs(int(exponent or "0")) > MAX_DIGITS:
        raise ToolError(f"number {text[:20]!r} is out of range: more than {MAX_DIGITS} digits")
    return Fraction(text)


def _approx(number: Fraction | Decimal) -> Value:
    """An inexact value rounded to WORK_DIGITS, so that approximations stay small."""
    context = Context(prec=WORK_DIGITS)
    if isinstance(number, Fraction):
        number = context.divide(Decimal(number.numerator), Decimal(number.denominator))
    return Value(_check_size(Fraction(context.plus(number))), exact=False)


def _combine(a: Value, b: Value, number: Fraction) -> Value:
    number = _check_size(number)
    return Value(number) if a.exact and b.exact else _approx(number)


def _power(base: Value, exponent: Value) -> Value:
    b, x = base.number, exponent.number
    if x.denominator == 1:
        n = x.numerator
        if b == 0 and n < 0:
            raise ToolError("division by zero: 0 raised to a negative power")
        if b in (0, 1) or n == 0:
            return Value(Fraction(1) if n == 0 else b, base.exact and exponent.exact)
        if b == -1:
            return Value(Fraction(-1 if n % 2 else 1), base.exact)
        bits = max(b.numerator.bit_length(), b.denominator.bit_length())
        if (bits - 1) * abs(n) > MAX_BITS:
            raise ToolError(f"result too large: more than {MAX_DIGITS} digits")
        return _combine(base, exponent, b**n)
    if b < 0:
        raise ToolError("a negative number to a fractional power is not a real number")
    if b == 0:
        return Value(Fraction(0), base.exact and exponent.exact)
    context = Context(prec=WORK_DIGITS + 10)
    try:
        # exp(x * ln b) keeps huge exponents from being materialised.
        log = context.multiply(_decimal(x), context.ln(_decimal(b)))
        if log > MAX_DIGITS * 2.3:  # e**23026 is about 10**10000
            raise ToolError(f"result too large: more than {MAX_DIGITS} digits")
        if log < -MAX_DIGITS * 2.3:
            return Value(Fraction(0), exact=False)
        return _approx(context.exp(log))
    except (Overflow, InvalidOperation):
        raise ToolError(f"result too large: more than {MAX_DIGITS} digits") from None


def _decimal(number: Fraction) -> Decimal:
    context = Context(prec=WORK_DIGITS + 10)
    return context.divide(Decimal(number.numerator), Decimal(number.denominator))


def _divide(a: Value, b: Value, op: str) -> Value:
    if b.number == 0:
        raise ToolError("division by zero")
    if op == "/":
        return _combine(a, b, a.number / b.number)
    if op == "//":
        return _combine(a, b, Fraction(a.number // b.number))
    return _combine(a, b, a.number % b.number)


def _sqrt(x: Value) -> Value:
    n = x.number
    if n < 0:
        raise ToolError("sqrt of a negative number is not a real number")
    num, den = math.isqrt(n.numerator), math.isqrt(n.denominator)
    if x.exact and num * num == n.numerator and den * den == n.denominator:
        return Value(Fraction(num, den))
    return _approx(Context(prec=WORK_DIGITS + 10).sqrt(_decimal(n)))


def _integer_arg(name: str, x: Value) -> int:
    if x.number.denominator != 1:
        raise ToolError(f"{name} needs a whole number, got {format_value(x)}")
    return x.number.numerator


def _round(x: Value, digits: Value | None = None) -> Value:
    places = 0 if digits is None else _integer_arg("round's second argument", digits)
    if abs(places) > MAX_DIGITS:
        raise ToolError(f"round to at most {MAX_DIGITS} places")
    scale = Fraction(10) ** places
    scaled = abs(x.number) * scale
    rounded = math.floor(scaled + Fraction(1, 2))  # half away from zero, as people round
    return Value(Fraction(rounded if x.number >= 0 else -rounded) / scale, x.exact)


def _factorial(x: Value) -> Value:
    n = _integer_arg("factorial", x)
    if n < 0:
        raise ToolError("factorial of a negative number is not defined")
    if n > MAX_FACTORIAL:
        raise ToolError(f"result too large: factorial is limited to n <= {MAX_FACTORIAL}")
    return Value(Fraction(math.factorial(n)), x.exact)


def _one(fn: Callable[[Value], Value]) -> Callable[[list[Value]], Value]:
    return lambda args: fn(args[0])


def _extreme(pick: Callable[..., Value]) -> Callable[[list[Value]], Value]:
    return lambda args: pick(args, key=lambda v: v.number)


# name -> (min args, max args or None for any, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[[list[Value]], Value]]] = {
    "sqrt": (1, 1, _one(_sqrt)),
    "abs": (1, 1, _one(lambda x: Value(abs(x.number), x.exact))),
    "round": (1, 2, lambda args: _round(*args)),
    "floor": (1, 1, _one(lambda x: Value(Fraction(math.floor(x.number)), x.exact))),
    "ceil": (1, 1, _one(lambda x: Value(Fraction(math.ceil(x.number)), x.exact))),
    "min": (1, None, _extreme(min)),
    "max": (1, None, _extreme(max)),
    "factorial": (1, 1, _one(_factorial)),
}

CONSTANTS: dict[str, Value] = {
    "pi": _approx(Decimal("3.14159265358979323846264338327950288419716939937510582097494")),
    "e": _approx(Decimal("2.71828182845904523536028747135266249775724709369995957496697")),
}


class Parser:
    """Recursive descent with Python's precedence: ** binds tightest and to the right,
    then unary minus, then * / // %, then + -."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def unexpected(self) -> ToolError:
        token = self.token
        if token.kind == "end":
            previous = self.tokens[self.index - 1].text if self.index else ""
            after = f" after {previous!r}" if previous else ""
            return ToolError(f"the expression ends too early{after}")
        hint = " (commas only separate function arguments)" if token.text == "," else ""
        return ToolError(f"unexpected {token.text!r} at position {token.pos}{hint}")

    def expect(self, text: str) -> None:
        if self.token.text != text:
            if self.token.kind == "end" and text == ")":
                raise ToolError("missing ')': a parenthesis is not closed")
            raise self.unexpected()
        self.advance()

    def parse(self) -> Value:
        if self.token.kind == "end":
            raise ToolError("the expression is empty")
        value = self.sum()
        if self.token.kind != "end":
            if self.token.text == ")":
                raise ToolError(f"unmatched ')' at position {self.token.pos}")
            raise self.unexpected()
        return value

    def sum(self) -> Value:
        value = self.product()
        while self.token.text in ("+", "-"):
            op = self.advance().text
            right = self.product()
            number = value.number + right.number if op == "+" else value.number - right.number
            value = _combine(value, right, number)
        return value

    def product(self) -> Value:
        value = self.unary()
        while self.token.text in ("*", "/", "//", "%"):
            op = self.advance().text
            right = self.unary()
            if op == "*":
                value = _combine(value, right, value.number * right.number)
            else:
                value = _divide(value, right, op)
        return value

    def unary(self) -> Value:
        if self.token.text in ("+", "-"):
            op = self.advance().text
            value = self.nested(self.unary)
            return value if op == "+" else Value(-value.number, value.exact)
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        if self.token.text in ("**", "^"):
            self.advance()
            return _power(base, self.nested(self.unary))
        return base

    def nested(self, rule: Callable[[], Value]) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ToolError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        try:
            return rule()
        finally:
            self.depth -= 1

    def atom(self) -> Value:
        token = self.token
        if token.kind == "number":
            self.advance()
            return Value(_literal(token.text))
        if token.text == "(":
            self.advance()
            value = self.nested(self.sum)
            self.expect(")")
            return value
        if token.kind == "name":
            self.advance()
            return self.call(token) if self.token.text == "(" else self.constant(token)
        raise self.unexpected()

    def constant(self, token: Token) -> Value:
        if token.text in CONSTANTS:
            return CONSTANTS[token.text]
        if token.text in FUNCTIONS:
            raise ToolError(f"function {token.text!r} needs arguments in parentheses")
        known = ", ".join(sorted(CONSTANTS))
        raise ToolError(f"unknown name {token.text!r} at position {token.pos}; known: {known}")

    def call(self, token: Token) -> Value:
        name = token.text
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ToolError(f"unknown function {name!r}; known functions: {known}")
        least, most, fn = FUNCTIONS[name]
        self.expect("(")
        args: list[Value] = []
        if self.token.text != ")":
            args.append(self.nested(self.sum))
            while self.token.text == ",":
                self.advance()
                args.append(self.nested(self.sum))
        self.expect(")")
        if len(args) < least or (most is not None and len(args) > most):
            wanted = str(least) if least == most else f"{least} or more"
            if most is not None and most != least:
                wanted = f"{least} to {most}"
            raise ToolError(f"{name}() takes {wanted} argument(s), got {len(args)}")
        return fn(args)


def evaluate(expression: str) -> Value:
    """The value of `expression`; ToolError with a one-line message when it has none."""
    if len(expression) > MAX_INPUT_CHARS:
        raise ToolError(f"the expression is longer than {MAX_INPUT_CHARS} characters")
    return Parser(expression).parse()


def _exact_decimal(number: Fraction) -> str | None:
    """The terminating decimal expansion of `number`, or None when it does not terminate."""
    den = number.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    places = max(twos, fives)
    scaled = abs(number.numerator) * 10**places // number.denominator
    digits = str(scaled).rjust(places + 1, "0")
    sign = "-" if number < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def format_value(value: Value) -> str:
    """Integers in full, terminating exact decimals in full, anything else to 30 digits."""
    number = value.number
    if value.exact:
        if number.denominator == 1:
            return str(number.numerator)
        exact = _exact_decimal(number)
        if exact is not None:
            return exact
    shown = Context(prec=SHOW_DIGITS).divide(Decimal(number.numerator), Decimal(number.denominator))
    if shown == 0:
        return "0"
    if -SHOW_DIGITS <= shown.adjusted() < SHOW_DIGITS:
        text = format(shown, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format(shown.normalize(), "E")


def run(args: Mapping[str, str]) -> str:
    """Evaluate the `expression` argument and format its value."""
    return format_value(evaluate(required(args, "expression")))
