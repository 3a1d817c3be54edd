"""BFCL's AST checker for Python calls, reimplemented from `bfcl_eval/eval_checker/ast_eval/
ast_checker.py` (bfcl-eval 2026.3.23), rule for rule.

    verdict = check_calls("simple_python", functions, calls, ground_truth)
    verdict.valid, verdict.errors, verdict.error_type

`calls` are the model's calls as BFCL decodes them, `[{name: {param: value}}, ...]`; the ground
truth is the suite's `possible_answer` entry, `[{name: {param: [accepted values]}}, ...]`, where an
accepted value `""` marks an optional parameter that may be left out. The package itself cannot be
imported here (its checker module loads its whole model registry, which needs dozens of
dependencies), so the rules are copied: same type mapping, same string normalisation, same order
of checks and the same error types. Only Python is covered (BFCL's Java and JavaScript categories
go through their own type converters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_NESTED_TYPES = ("array", "tuple")  # the types whose items BFCL checks (one level deep)
_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")

Call = Mapping[str, Mapping[str, Any]]
"""One decoded call: `{function name: {parameter: value}}`."""


class Verdict(BaseModel):
    """BFCL's judgement of one case: valid or not, its error lines and error type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid: bool
    errors: tuple[str, ...] = ()
    error_type: str | None = None


_VALID = Verdict(valid=True)


def _fail(error_type: str, *errors: str) -> Verdict:
    return Verdict(valid=False, errors=errors, error_type=error_type)


def check_calls(
    category: str,
    functions: Sequence[Mapping[str, Any]],
    calls: Sequence[Call],
    ground_truth: Sequence[Call],
) -> Verdict:
    """BFCL's `ast_checker` for Python: parallel categories match calls in any order, multiple
    ones check the one expected function, the others need exactly one call."""
    if "parallel" in category:
        return parallel_no_order(functions, calls, ground_truth)
    if "multiple" in category:
        return multiple_function(functions, calls, ground_truth)
    if len(calls) != 1:
        return _fail("simple_function_checker:wrong_count", "Wrong number of functions.")
    return simple_function(functions[0], calls[0], ground_truth[0])


def find_description(functions: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The function called `name` among `functions`, or None."""
    return next((f for f in functions if f["name"] == name), None)


def _answer_type(accepted: Sequence[Any]) -> type | None:
    for answer in accepted:
        if answer != "":  # an optional parameter's "may be left out"
            return type(answer)
    return None


def _type_check(
    param: str,
    value: Any,
    accepted: Sequence[Any],
    expected_description: str,
    expected: type,
    nested: type | None,
) -> tuple[Verdict, bool]:
    """BFCL's `type_checker`: the verdict and whether the value stands for a variable (a value of
    the accepted answers' type rather than the declared one)."""
    answer_type = _answer_type(accepted)
    is_variable = answer_type is not None and answer_type != expected
    nested_failure: Verdict | None = None
    if type(value) is expected:
        if nested is None:
            return _VALID, is_variable
        items = cast("list[Any]", value)  # array and tuple parameters are lists here
        for accepted_item in accepted:
            flag = True
            if type(accepted_item) is list:
                for item in items:
                    item_verdict, _ = _type_check(
                        param, item, accepted_item, str(nested), nested, None
                    )
                    if not item_verdict.valid:
                        flag = False
                        break
            if flag:
                return _VALID, is_variable
        nested_failure = _fail(
            "type_error:nested",
            f"Nested type checking failed for parameter {param!r}. Expected outer type "
            f"{expected_description} with inner type {nested}. Parameter value: {value!r}.",
        )
    if answer_type is not None and type(value) is answer_type:
        # BFCL returns here with whatever it found so far: a nested failure stays one
        return (nested_failure or _VALID), True
    errors = nested_failure.errors if nested_failure else ()
    return (
        _fail(
            "type_error:simple",
            *errors,
            f"Incorrect type for parameter {param!r}. Expected type {expected_description}, "
            f"got {type(value).__name__}. Parameter value: {value!r}.",
        ),
        False,
    )


def standardize_string(text: str) -> str:
    """BFCL's normalisation: no spaces or `,./-_*^`, lower case, single quotes as double."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _standardized(values: Sequence[Any]) -> list[Any]:
    return [standardize_string(v) if type(v) is str else v for v in values]


def _string_check(param: str, value: str, accepted: Sequence[Any]) -> Verdict:
    allowed = [standardize_string(a) for a in accepted if type(a) is str]
    if standardize_string(value) not in allowed:
        return _fail(
            "value_error:string",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {list(accepted)}."
            " Case insensitive.",
        )
    return _VALID


def _list_check(param: str, value: Sequence[Any], accepted: Sequence[Any]) -> Verdict:
    allowed = [_standardized(a) for a in accepted]
    if _standardized(list(value)) not in allowed:
        return _fail(
            "value_error:list/tuple",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {list(accepted)}.",
        )
    return _VALID


def _dict_check(param: str, value: Mapping[str, Any], accepted: Sequence[Any]) -> Verdict:
    verdict = _fail("dict_checker:unclear")
    for answer in accepted:
        if answer == "":
            continue
        verdict = _fail("dict_checker:unclear")
        flag = True
        for key, item in value.items():
            if key not in answer:
                verdict = _fail("value_error:dict_key", f"Unexpected dict key parameter: '{key}'.")
                flag = False
                break
            allowed = _standardized(answer[key])
            item_std = standardize_string(item) if type(item) is str else item
            if item_std not in allowed:
                verdict = _fail(
                    "value_error:dict_value",
                    f"Invalid value for parameter {key!r}: {item!r}. Expected one of {allowed}.",
                )
                flag = False
                break
        for key, values in answer.items():
            if key not in value and "" not in values:
                verdict = _fail("value_error:dict_key", f"Missing dict key parameter: '{key}'.")
                flag = False
                break
        if flag:
            return _VALID
    return verdict


def _list_dict_check(param: str, value: Sequence[Any], accepted: Sequence[Any]) -> Verdict:
    verdict = _fail("list_dict_checker:unclear")
    for answer in accepted:
        if len(value) != len(answer):
            verdict = _fail(
                "value_error:list_dict_count", "Wrong number of dictionaries in the list."
            )
            continue
        flag = True
        for index, item in enumerate(value):
            verdict = _dict_check(param, item, [answer[index]])
            if not verdict.valid:
                flag = False
                break
        if flag:
            return _VALID
    return verdict


def simple_function(function: Mapping[str, Any], call: Call, ground_truth: Call) -> Verdict:
    """BFCL's `simple_function_checker` for Python: name, required parameters, then each given
    parameter's type and value, then optional parameters left out."""
    accepted_by_param = next(iter(ground_truth.values()))
    name = function["name"]
    details = function["parameters"]["properties"]
    required = function["parameters"]["required"]
    if name not in call:
        return _fail(
            "simple_function_checker:wrong_func_name",
            f"Function name {name!r} not found in model output.",
        )
    given = call[name]
    for param in required:
        if param not in given:
            return _fail(
                "simple_function_checker:missing_required",
                f"Missing required parameter: {param!r}.",
            )
    for param, raw in given.items():
        if param not in details or param not in accepted_by_param:
            return _fail(
                "simple_function_checker:unexpected_param", f"Unexpected parameter: {param!r}."
            )
        value = raw
        declared = details[param]["type"]
        expected = PYTHON_TYPES[declared]
        nested = None
        if declared in _NESTED_TYPES:
            nested = PYTHON_TYPES[details[param]["items"]["type"]]
        accepted = accepted_by_param[param]
        if declared == "tuple" and type(value) is tuple:
            value = list(value)
        if declared == "float" and type(value) is int:
            value = float(value)  # Python converts int to float
        verdict, is_variable = _type_check(param, value, accepted, declared, expected, nested)
        if not verdict.valid:
            return verdict
        if not is_variable:
            if expected is dict:
                verdict = _dict_check(param, value, accepted)
            elif expected is list and nested is dict:
                verdict = _list_dict_check(param, value, accepted)
            elif expected is str:
                verdict = _string_check(param, value, accepted)
            elif expected is list:
                verdict = _list_check(param, value, accepted)
            else:
                verdict = _others_check(param, value, accepted)
        else:
            verdict = _others_check(param, value, accepted)
        if not verdict.valid:
            return verdict
    for param, accepted in accepted_by_param.items():
        if param not in given and "" not in accepted:
            return _fail(
                "simple_function_checker:missing_optional",
                f"Optional parameter {param!r} not provided and not marked as optional.",
            )
    return _VALID


def _others_check(param: str, value: Any, accepted: Sequence[Any]) -> Verdict:
    if value not in accepted:
        return _fail(
            "value_error:others",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {list(accepted)}.",
        )
    return _VALID


def parallel_no_order(
    functions: Sequence[Mapping[str, Any]], calls: Sequence[Call], ground_truth: Sequence[Call]
) -> Verdict:
    """BFCL's `parallel_function_checker_no_order`: every expected call matches a distinct model
    call, in any order, and there are as many calls as expected."""
    if len(calls) != len(ground_truth):
        return _fail("parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
    matched: list[int] = []
    for index, expected in enumerate(ground_truth):
        function = find_description(functions, next(iter(expected)))
        if function is None:
            return _fail("parallel_function_checker_no_order:cannot_find_description")
        found = False
        for candidate, call in enumerate(calls):
            if candidate in matched:
                continue
            if simple_function(function, call, expected).valid:
                matched.append(candidate)
                found = True
                break
        if not found:
            considered = [i for i in range(len(calls)) if i not in matched]
            return _fail(
                "parallel_function_checker_no_order:cannot_find_match",
                f"Could not find a matching function among index {considered} of model output "
                f"for index {index} of possible answers.",
            )
    return _VALID


def multiple_function(
    functions: Sequence[Mapping[str, Any]], calls: Sequence[Call], ground_truth: Sequence[Call]
) -> Verdict:
    """BFCL's `multiple_function_checker`: as many calls as expected (one), the first checked
    against the expected function."""
    if len(calls) != len(ground_truth):
        return _fail("multiple_function_checker:wrong_count", "Wrong number of functions.")
    function = find_description(functions, next(iter(ground_truth[0])))
    if function is None:
        return _fail("multiple_function_checker:cannot_find_description")
    return simple_function(function, calls[0], ground_truth[0])


def is_irrelevance(category: str) -> bool:
    """BFCL's irrelevance categories expect no call at all."""
    return "irrelevance" in category


def check_relevance(category: str, calls: Sequence[Call]) -> Verdict:
    """BFCL's relevance rule: irrelevance cases pass without a call, relevance cases with one (an
    empty output or `[{}]` is no call)."""
    has_call = bool(calls) and not (len(calls) == 1 and len(calls[0]) == 0)
    if is_irrelevance(category):
        if has_call:
            return _fail(
                "irrelevance_error:decoder_success",
                "Valid syntax. Successfully decode AST when it should not.",
            )
        return _VALID
    if not has_call:
        return _fail("relevance_error:decoder_failed", "Invalid syntax. No function call.")
    return _VALID
