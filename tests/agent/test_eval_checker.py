"""The BFCL checker, reimplemented in `agent.eval.checker`: every possible answer of BFCL's own
data passes it, and each rule of BFCL's `ast_checker.py` fails what it fails there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.eval import check_calls, check_relevance, load_suite

TRIANGLE = {
    "name": "calculate_triangle_area",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer"},
            "height": {"type": "float"},
            "unit": {"type": "string"},
            "exact": {"type": "boolean"},
            "sides": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["base", "height"],
    },
}
TRUTH = [
    {
        "calculate_triangle_area": {
            "base": [10],
            "height": [5.0],
            "unit": ["square units", ""],
            "exact": [True, ""],
            "sides": [[3, 4], ""],
        }
    }
]


def _given(accepted: list[Any]) -> bool:
    return any(v != "" for v in accepted)


def _first_answer(accepted: list[Any]) -> Any:
    """The first accepted value that is not the optional marker "", with dict answers (each key's
    accepted values) unwrapped."""
    value = next(v for v in accepted if v != "")
    if isinstance(value, dict):
        return {k: _first_answer(v) for k, v in value.items() if _given(v)}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_first_answer([v]) for v in value]
    return value


def _calls_from_truth(ground_truth: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    calls = []
    for expected in ground_truth:
        ((name, params),) = expected.items()
        calls.append({name: {p: _first_answer(v) for p, v in params.items() if _given(v)}})
    return calls


@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel"])
def test_every_possible_answer_of_bfcl_passes(bfcl_dir: Path, category: str) -> None:
    suite = load_suite(bfcl_dir / f"BFCL_v4_{category}.json")
    assert len(suite.cases) >= 200
    failed = {
        case.id: verdict.errors
        for case in suite.cases
        if not (
            verdict := check_calls(
                category, case.functions, _calls_from_truth(case.ground_truth), case.ground_truth
            )
        ).valid
    }
    assert failed == {}


def _check(arguments: dict[str, Any], name: str = "calculate_triangle_area") -> tuple[bool, str]:
    verdict = check_calls("simple_python", [TRIANGLE], [{name: arguments}], TRUTH)
    return verdict.valid, verdict.error_type or ""


@pytest.mark.parametrize(
    ("arguments", "valid", "error_type"),
    [
        ({"base": 10, "height": 5.0}, True, ""),
        ({"base": 10, "height": 5}, True, ""),  # an int is accepted for a float
        ({"base": 10, "height": 5.0, "unit": "Square-Units"}, True, ""),  # normalised
        ({"base": 10, "height": 5.0, "sides": [3, 4]}, True, ""),
        ({"base": 10}, False, "simple_function_checker:missing_required"),
        ({"base": 10, "height": 5.0, "color": "red"}, False, "unexpected_param"),
        ({"base": 11, "height": 5.0}, False, "value_error:others"),
        ({"base": "10", "height": 5.0}, False, "type_error:simple"),
        ({"base": 10.0, "height": 5.0}, False, "type_error:simple"),
        ({"base": True, "height": 5.0}, False, "type_error:simple"),
        ({"base": 10, "height": 5.0, "unit": "meters"}, False, "value_error:string"),
        ({"base": 10, "height": 5.0, "exact": False}, False, "value_error:others"),
        ({"base": 10, "height": 5.0, "sides": [4, 3]}, False, "value_error:list/tuple"),
        # BFCL: the optional marker "" passes the nested type check; the values then differ
        ({"base": 10, "height": 5.0, "sides": ["3", "4"]}, False, "value_error:list/tuple"),
    ],
)
def test_simple_rules(arguments: dict[str, Any], valid: bool, error_type: str) -> None:
    got_valid, got_type = _check(arguments)
    assert got_valid is valid
    assert error_type in got_type


def test_items_of_a_required_array_are_type_checked() -> None:
    truth = [{"calculate_triangle_area": {"base": [10], "height": [5.0], "sides": [[3, 4]]}}]
    call = {"calculate_triangle_area": {"base": 10, "height": 5, "sides": ["3", "4"]}}
    verdict = check_calls("simple_python", [TRIANGLE], [call], truth)
    assert verdict.error_type == "type_error:nested"


def test_a_wrong_name_and_a_wrong_count_fail() -> None:
    assert _check({"base": 10, "height": 5.0}, name="area")[1].endswith("wrong_func_name")
    two = [{"calculate_triangle_area": {"base": 10, "height": 5.0}}] * 2
    verdict = check_calls("simple_python", [TRIANGLE], two, TRUTH)
    assert verdict.error_type == "simple_function_checker:wrong_count"


def test_an_optional_answer_without_empty_marker_must_be_given() -> None:
    truth = [{"calculate_triangle_area": {"base": [10], "height": [5.0], "unit": ["cm"]}}]
    verdict = check_calls(
        "simple_python", [TRIANGLE], [{"calculate_triangle_area": {"base": 10, "height": 5}}], truth
    )
    assert verdict.error_type == "simple_function_checker:missing_optional"


def test_parallel_calls_match_in_any_order_and_multiple_checks_the_expected_one() -> None:
    truth = [
        {"calculate_triangle_area": {"base": [1], "height": [2.0]}},
        {"calculate_triangle_area": {"base": [3], "height": [4.0]}},
    ]
    calls = [
        {"calculate_triangle_area": {"base": 3, "height": 4}},
        {"calculate_triangle_area": {"base": 1, "height": 2}},
    ]
    assert check_calls("parallel", [TRIANGLE], calls, truth).valid
    assert not check_calls("parallel", [TRIANGLE], calls[:1], truth).valid
    wrong = [calls[0], {"calculate_triangle_area": {"base": 3, "height": 4}}]
    assert str(check_calls("parallel", [TRIANGLE], wrong, truth).error_type).endswith("match")
    other = {"name": "other", "parameters": {"properties": {}, "required": []}}
    assert check_calls("multiple", [other, TRIANGLE], calls[1:], truth[:1]).valid
    assert not check_calls("multiple", [other, TRIANGLE], [{"other": {}}], truth[:1]).valid


def test_dict_parameters_follow_bfcls_dict_rules() -> None:
    function = {
        "name": "f",
        "parameters": {"properties": {"d": {"type": "dict"}}, "required": ["d"]},
    }
    truth = [{"f": {"d": [{"city": ["New York", "NYC"], "state": ["NY", ""]}]}}]
    assert check_calls("simple_python", [function], [{"f": {"d": {"city": "nyc"}}}], truth).valid
    extra = [{"f": {"d": {"city": "NYC", "zip": "1"}}}]
    assert check_calls("simple_python", [function], extra, truth).error_type == (
        "value_error:dict_key"
    )


def test_relevance_rules() -> None:
    assert check_relevance("irrelevance", []).valid
    assert check_relevance("irrelevance", [{}]).valid  # BFCL: [{}] is no call
    assert not check_relevance("irrelevance", [{"f": {}}]).valid
    assert check_relevance("live_relevance", [{"f": {}}]).valid
    assert not check_relevance("live_relevance", []).valid
