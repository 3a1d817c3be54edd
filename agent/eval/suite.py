"""A BFCL-format suite: one JSON object per line with `id`, `question` and `function`, and for
categories that judge calls a `possible_answer/` file of the same name with each case's
`ground_truth`.

    suite = load_suite(Path("bfcl/BFCL_v4_simple_python.json"), limit=100)
    suite.category, suite.cases[0].messages, suite.cases[0].functions, suite.cases[0].ground_truth

The category comes from the file name (`BFCL_v4_<category>.json`) unless given. Categories with
single-turn Python calls are supported: simple, multiple, parallel (and their live_ variants),
irrelevance and relevance. Problems raise `EvalError` with one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import EvalError
from agent.eval.checker import is_irrelevance
from agent.messages import ChatMessage

_FILE_NAME = re.compile(r"^BFCL_v\d+_(?P<category>[a-z_]+)\.jsonl?$")
_UNSUPPORTED = ("java", "javascript", "multi_turn", "memory", "web_search", "format_sensitivity")


class Case(BaseModel):
    """One question: the conversation, the functions offered and the accepted calls (empty for
    relevance categories)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    messages: tuple[ChatMessage, ...]
    functions: tuple[dict[str, Any], ...]
    ground_truth: tuple[dict[str, Any], ...] = ()


class Suite(BaseModel):
    """The cases of one category, read from `path`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    category: str
    cases: tuple[Case, ...]

    @property
    def judges_calls(self) -> bool:
        """Whether cases are judged on their calls (else only on whether there is one)."""
        return not is_relevance_category(self.category)


def is_relevance_category(category: str) -> bool:
    """Irrelevance and relevance cases are judged only on whether the model calls a function."""
    return is_irrelevance(category) or category.endswith("relevance")


def category_of(path: Path) -> str:
    """The category named by a BFCL file name; raises EvalError for another name."""
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise EvalError(
            f"{path.name}: cannot tell the category from the file name (BFCL_v4_<category>.json);"
            " pass --category"
        )
    return match.group("category")


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "id" not in row:
            raise EvalError(f"{path}:{number}: not a BFCL entry (an object with an id)")
        rows.append(row)
    return rows


def _case(row: dict[str, Any], truth: dict[str, Any] | None) -> Case:
    turns = row.get("question") or [[]]
    if len(turns) != 1:
        raise EvalError(f"{row['id']}: multi-turn cases are not supported")
    messages = tuple(ChatMessage(role=m["role"], content=m["content"]) for m in turns[0])
    ground_truth = tuple(truth["ground_truth"]) if truth is not None else ()
    return Case(
        id=row["id"], messages=messages, functions=tuple(row["function"]), ground_truth=ground_truth
    )


def load_suite(
    path: Path,
    *,
    answers: Path | None = None,
    category: str | None = None,
    limit: int | None = None,
) -> Suite:
    """The first `limit` cases (all when None) of the suite at `path`, with the possible answers
    from `answers` (default: `possible_answer/<same name>` beside it). Raises EvalError."""
    category = category or category_of(path)
    if any(word in category for word in _UNSUPPORTED):
        raise EvalError(f"category {category!r} is not supported (single-turn Python calls only)")
    rows = _read_lines(path)[:limit] if limit is not None else _read_lines(path)
    truths: dict[str, dict[str, Any]] = {}
    if not is_relevance_category(category):
        answers = answers or path.parent / "possible_answer" / path.name
        truths = {row["id"]: row for row in _read_lines(answers)}
        missing = [row["id"] for row in rows if row["id"] not in truths]
        if missing:
            raise EvalError(f"{answers} has no possible answer for {missing[0]}")
    try:
        cases = tuple(_case(row, truths.get(row["id"])) for row in rows)
    except (KeyError, TypeError, ValidationError) as exc:
        raise EvalError(f"{path}: an entry is not in BFCL's format ({exc})") from exc
    return Suite(path=path, category=category, cases=cases)
