"""The Calculator: exact answers through the component, and its parser's contract in CPython."""

from __future__ import annotations

import operator
from collections.abc import Callable

import calc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tool_loading import LoadTool
from toolspec import ToolError

from tests.hypothesis_profiles import examples
from tool_runner import ResultKind

EXACT = [
    ("2**100", "1267650600228229401496703205376"),
    ("2 ^ 10", "1024"),
    ("0.1 + 0.2", "0.3"),
    ("(2 + 3) * 4", "20"),
    ("-2**2", "-4"),
    ("2**-2", "0.25"),
    ("2**3**2", "512"),
    ("7 // 2", "3"),
    ("-7 // 2", "-4"),
    ("-7 % 3", "2"),
    ("1/3", "0.333333333333333333333333333333"),
    ("sqrt(144)", "12"),
    ("sqrt(2)", "1.41421356237309504880168872421"),
    ("sqrt(2)**2", "2"),
    ("round(2.5)", "3"),
    ("round(3.14159, 2)", "3.14"),
    ("max(3**2, 2**3, -1)", "9"),
    ("min(4, 1.5)", "1.5"),
    ("abs(-12.5)", "12.5"),
    ("floor(-2.5) + ceil(2.1)", "0"),
    ("factorial(25)", "15511210043330985984000000"),
    ("1.5e3 + 1", "1501"),
    ("123456789012345678901234567890 * 987654321098765432109876543210",
     "121932631137021795226185032733622923332237463801111263526900"),
    ("2 * pi", "6.28318530717958647692528676656"),
    ("10**2000 // 10**1999", "10"),
]  # fmt: skip

ERRORS = [
    ("", "empty"),
    ("2 +", "ends too early"),
    ("2 + * 3", "unexpected '*' at position 5"),
    ("(2 + 3", "missing ')'"),
    ("2 + 3)", "unmatched ')'"),
    ("1 / 0", "division by zero"),
    ("5 % 0", "division by zero"),
    ("0 ** -1", "division by zero"),
    ("2 ** 100000", "too large"),
    ("factorial(10**6)", "too large"),
    ("1e100000", "more than 10000 digits"),
    ("sqrt(-4)", "not a real number"),
    ("(-8) ** 0.5", "not a real number"),
    ("foo(2)", "unknown function 'foo'"),
    ("x + 1", "unknown name 'x'"),
    ("2 $ 3", "unexpected character '$'"),
    ("1,000", "commas only separate function arguments"),
    ("round(1, 2, 3)", "round() takes 1 to 2 argument(s), got 3"),
    ("factorial(2.5)", "whole number"),
    ("(" * 500 + "1" + ")" * 500, "nested more than"),
    ("-" * 5000 + "1", "nested more than"),
    ("__import__(1)", "unknown function '__import__'"),
]


@pytest.mark.parametrize(("expression", "expected"), EXACT)
def test_component_answers_exactly(load_tool: LoadTool, expression: str, expected: str) -> None:
    result = load_tool("calculator").call({"expression": expression})
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output == expected


@pytest.mark.parametrize(("expression", "message"), ERRORS)
def test_component_reports_bad_input(load_tool: LoadTool, expression: str, message: str) -> None:
    result = load_tool("calculator").call({"expression": expression})
    assert result.kind is ResultKind.TOOL_ERROR, result.output
    assert message in (result.error or "")
    assert "\n" not in (result.error or "")


def test_component_prints_huge_exact_integers_in_full(load_tool: LoadTool) -> None:
    result = load_tool("calculator").call({"expression": "3**8000"})
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output == str(3**8000)


OPS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
}
BIG = st.integers(min_value=-(10**40), max_value=10**40)


@settings(max_examples=examples(200))
@given(a=BIG, b=BIG, op=st.sampled_from(sorted(OPS)))
def test_integer_arithmetic_matches_python(a: int, b: int, op: str) -> None:
    expression = f"({a}) {op} ({b})"
    if op in ("//", "%") and b == 0:
        with pytest.raises(ToolError, match="division by zero"):
            calc.run({"expression": expression})
    else:
        assert calc.run({"expression": expression}) == str(OPS[op](a, b))


@settings(max_examples=examples(300))
@given(st.text(alphabet="0123456789.+-*/%^(), eqrtsapimx_", max_size=40))
def test_any_input_gives_a_value_or_a_one_line_tool_error(text: str) -> None:
    try:
        output = calc.run({"expression": text})
    except ToolError as exc:
        assert exc.message and "\n" not in exc.message
    else:
        assert output


def test_decimal_results_are_exact_when_they_terminate() -> None:
    assert calc.run({"expression": "1/8 + 1/1024"}) == "0.1259765625"
    assert calc.run({"expression": "2**-30"}) == "0.000000000931322574615478515625"
    assert calc.run({"expression": "1 - 0.9"}) == "0.1"
