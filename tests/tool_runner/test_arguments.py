"""Argument validation and canonical forms, before any wasm runs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tool_runner import MAX_INTEGER_DIGITS, ArgumentsError, ToolMetadata, ToolParam, read_integer
from tool_runner.arguments import canonical_arguments

META = ToolMetadata(
    name="typed",
    description="d",
    version="1",
    params=(
        ToolParam(name="count", description="c", type="integer", required=True),
        ToolParam(name="ratio", description="r", type="number", required=False),
        ToolParam(name="flag", description="f", type="boolean", required=False),
        ToolParam(name="text", description="t", type="string", required=False),
    ),
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"count": 3}, {"count": "3"}),
        ({"count": " -07 "}, {"count": "-7"}),
        ({"count": 4.0}, {"count": "4"}),
        ({"count": "1e3"}, {"count": "1000"}),
        ({"count": 1, "ratio": 2.5}, {"count": "1", "ratio": "2.5"}),
        ({"count": 1, "ratio": "2.0"}, {"count": "1", "ratio": "2"}),
        ({"count": 1, "ratio": 7}, {"count": "1", "ratio": "7"}),
        ({"count": 1, "ratio": "1e-3"}, {"count": "1", "ratio": "0.001"}),
        ({"count": 1, "flag": True}, {"count": "1", "flag": "true"}),
        ({"count": 1, "flag": "NO"}, {"count": "1", "flag": "false"}),
        ({"count": 1, "flag": 1}, {"count": "1", "flag": "true"}),
        ({"count": 1, "text": 5}, {"count": "1", "text": "5"}),
        ({"count": 1, "text": False}, {"count": "1", "text": "false"}),
        ({"text": "a", "count": 1, "ratio": None}, {"count": "1", "text": "a"}),
    ],
)
def test_values_are_canonical_and_in_parameter_order(
    args: dict[str, object], expected: dict[str, str]
) -> None:
    result = canonical_arguments(META, args)  # type: ignore[arg-type]
    assert result == expected
    assert list(result) == [p.name for p in META.params if p.name in expected]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "missing required parameter 'count'"),
        ({"count": None}, "missing required parameter 'count'"),
        ({"count": 1, "colour": "red"}, "unknown parameter 'colour' (expected: count, ratio"),
        ({"count": "three"}, "parameter 'count' expects an integer, got 'three'"),
        ({"count": 1.5}, "parameter 'count' expects an integer, got 1.5"),
        ({"count": True}, "parameter 'count' expects an integer, got True"),
        ({"count": 1, "ratio": "fast"}, "parameter 'ratio' expects a number, got 'fast'"),
        ({"count": 1, "ratio": "nan"}, "parameter 'ratio' expects a finite number"),
        ({"count": 1, "ratio": "1_000"}, "parameter 'ratio' expects a number"),
        ({"count": 1, "flag": "maybe"}, "parameter 'flag' expects a boolean (true or false)"),
        ({"count": 1, "flag": 2}, "parameter 'flag' expects a boolean"),
    ],
)
def test_bad_arguments_name_the_parameter_and_the_expectation(
    args: dict[str, object], message: str
) -> None:
    with pytest.raises(ArgumentsError) as info:
        canonical_arguments(META, args)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_any_integer_round_trips(value: int) -> None:
    assert canonical_arguments(META, {"count": value})["count"] == str(value)
    assert canonical_arguments(META, {"count": str(value)})["count"] == str(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_is_canonical_and_parses_back(value: float) -> None:
    text = canonical_arguments(META, {"count": 0, "ratio": value})["ratio"]
    assert float(text) == value
    assert canonical_arguments(META, {"count": 0, "ratio": text})["ratio"] == text


HUGE = "9" * 5000  # past Python's 4,300-digit int-string limit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"count": HUGE}, "parameter 'count' expects an integer of at most 1000 digits"),
        ({"count": "-" + HUGE}, "parameter 'count' expects an integer of at most 1000 digits"),
        ({"count": 10**5000}, "parameter 'count' expects at most 1000 digits"),
        ({"count": 1, "ratio": 10**5000}, "parameter 'ratio' expects at most 1000 digits"),
        ({"count": 1, "ratio": HUGE}, "parameter 'ratio' expects a finite number"),
        ({"count": 1, "text": 10**5000}, "parameter 'text' expects at most 1000 digits"),
        ({"count": 1, "flag": 10**5000}, "got an integer of more than 1000 digits"),
    ],
)
def test_absurdly_long_integers_are_bad_arguments(args: dict[str, object], message: str) -> None:
    with pytest.raises(ArgumentsError, match=message):
        canonical_arguments(META, args)  # type: ignore[arg-type]


def test_read_integer_refuses_what_is_too_long() -> None:
    assert read_integer("-" + "9" * MAX_INTEGER_DIGITS) == -(10**MAX_INTEGER_DIGITS - 1)
    assert read_integer("9" * (MAX_INTEGER_DIGITS + 1)) is None
    assert read_integer("1.5") is None


BOUNDED = ToolMetadata(
    name="bounded",
    description="d",
    version="1",
    params=(
        ToolParam(name="op", description="o", type="string", required=True, enum=("now", "Add")),
        ToolParam(name="n", description="n", type="integer", required=False, minimum=-2, maximum=9),
        ToolParam(name="x", description="x", type="number", required=False, minimum=0.5),
        ToolParam(name="y", description="y", type="number", required=False, maximum=1e3),
    ),
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"op": "now", "n": -2, "x": 0.5, "y": 1000},
            {"op": "now", "n": "-2", "x": "0.5", "y": "1000"},
        ),
        ({"op": " add ", "n": "9"}, {"op": "Add", "n": "9"}),
        ({"op": "NOW", "x": "1e300"}, {"op": "now", "x": "1e+300"}),
    ],
)
def test_values_within_the_enum_and_bounds(
    args: dict[str, object], expected: dict[str, str]
) -> None:
    assert canonical_arguments(BOUNDED, args) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"op": "later"}, "parameter 'op' expects one of: now, Add (got 'later')"),
        ({"op": 5}, "parameter 'op' expects one of: now, Add (got '5')"),
        ({"op": "now", "n": 10}, "parameter 'n' expects a value from -2 to 9, got 10"),
        ({"op": "now", "n": "-3"}, "parameter 'n' expects a value from -2 to 9, got -3"),
        ({"op": "now", "x": 0.25}, "parameter 'x' expects a value of at least 0.5, got 0.25"),
        ({"op": "now", "y": "1001"}, "parameter 'y' expects a value of at most 1000.0, got 1001"),
    ],
)
def test_values_outside_the_enum_or_bounds_are_bad_arguments(
    args: dict[str, object], message: str
) -> None:
    with pytest.raises(ArgumentsError) as info:
        canonical_arguments(BOUNDED, args)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "integer", "enum": ("a",)}, "only a string parameter takes an enum"),
        ({"type": "string", "enum": ("a", "a")}, "the enum repeats a value"),
        ({"type": "boolean", "maximum": 1}, "only numbers take a minimum or maximum"),
        ({"type": "number", "minimum": float("inf")}, "bounds must be finite numbers"),
        ({"type": "integer", "minimum": 3, "maximum": 2}, "minimum is above maximum"),
    ],
)
def test_constraints_must_fit_the_type(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToolParam(name="p", description="d", required=True, **fields)  # type: ignore[arg-type]
