"""Running a suite's cases through a model and judging each reply with BFCL's rules.

    runner = AgentRunner(backend, LoopSettings(syntax="auto"))     # or LlamaCppRunner(chat)
    for result in evaluate(suite, runner):
        ...                                   # one CaseResult per case, as it finishes
    report = EvalReport.of(suite, runner.name, results, model="SmolLM2.gguf")

`AgentRunner` runs step 1 of the agent loop itself (`run_agent`): the real system prompt, chat
template, grammar and parser of the chosen call syntax, with the case's functions as tool specs
(`agent.eval.specs`); calls are recorded, never run. Cases that expect a call use
`tool_choice="required"` (as the baseline is forced to the case's function), irrelevance cases
"auto", unless a tool choice is given; parallel categories allow several calls per reply.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from agent.choices import ToolChoice
from agent.config import LoopSettings
from agent.eval.checker import (
    Verdict,
    check_calls,
    check_relevance,
    find_description,
    is_irrelevance,
)
from agent.eval.specs import as_declared_floats, bfcl_call, tool_spec, uses_json_text
from agent.eval.suite import Case, Suite, is_relevance_category
from agent.events import RunStarted, StepFinished
from agent.loop import ChatBackend, run_agent
from agent.messages import ChatMessage, ToolCall
from tool_runner import ResultKind, ToolMetadata, ToolResult


class Reply(BaseModel):
    """What a model answered to one case: its text, its calls in BFCL's decoded form
    (`{name: {param: value}}`), and whether every call in it could be read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    calls: tuple[dict[str, dict[str, Any]], ...] = ()
    well_formed: bool = True


class CaseRunner(Protocol):
    """A way to put one case to a model (`AgentRunner`, or the llama-cpp-python baseline)."""

    @property
    def name(self) -> str:
        """What the report calls this runner ("agent", "llama-cpp")."""
        ...

    def reply(self, case: Case, category: str) -> Reply:
        """The model's reply to `case`; raises AgentError only for host-side failures."""
        ...


def expects_call(category: str) -> bool:
    """Whether the category's cases are answered with a call (all but irrelevance)."""
    return not is_irrelevance(category)


class _RecordedTools:
    """A `ToolExecutor` over synthetic specs: calls are recorded by the loop, never run."""

    def __init__(self, tools: Sequence[ToolMetadata]) -> None:
        self._tools = list(tools)

    def specs(self) -> Sequence[ToolMetadata]:
        return self._tools

    def execute(self, call: ToolCall) -> ToolResult:
        return ToolResult(tool=call.name, kind=ResultKind.SUCCESS, output="(recorded)")


class AgentRunner:
    """Step 1 of the agent loop on `backend`: the agent's prompt, grammar and parser."""

    name = "agent"

    def __init__(
        self, backend: ChatBackend, loop: LoopSettings, tool_choice: ToolChoice | None = None
    ) -> None:
        self.backend = backend
        self.loop = loop
        self.tool_choice = tool_choice
        self.syntax: str | None = None  # what the loop chose, once a case ran
        self.grammar: bool | None = None

    def reply(self, case: Case, category: str) -> Reply:
        """Run step 1 on the case's conversation; a system turn of the case becomes the system
        prompt's preamble (the tool list and call syntax follow it)."""
        choice = self.tool_choice or ("required" if expects_call(category) else "auto")
        system = next((m.content for m in case.messages if m.role == "system"), None)
        settings = self.loop.model_copy(
            update={
                "max_steps": 1,
                "tool_choice": choice,
                "system": system or self.loop.system,
                # BFCL's parallel cases want several calls in one reply
                "parallel_calls": self.loop.parallel_calls or "parallel" in category,
            }
        )
        conversation: list[ChatMessage] = [m for m in case.messages if m.role != "system"]
        tools = _RecordedTools([tool_spec(f) for f in case.functions])
        for event in run_agent(conversation, self.backend, tools, settings):
            if isinstance(event, RunStarted):
                self.syntax, self.grammar = event.syntax, event.grammar
            if isinstance(event, StepFinished):
                return Reply(
                    text=event.completion.text,
                    calls=tuple(
                        bfcl_call(call, find_description(case.functions, call.name))
                        for call in event.calls
                    ),
                    # a reply cut off by the token limit is not a whole call, even if it reads
                    well_formed=not event.errors and event.completion.finish_reason != "length",
                )
        return Reply(text="", well_formed=False)  # pragma: no cover - step 1 always finishes


class CaseResult(BaseModel):
    """One judged case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    valid: bool
    well_formed: bool
    seconds: float
    json_text: bool
    text: str
    calls: tuple[dict[str, dict[str, Any]], ...] = ()
    errors: tuple[str, ...] = ()
    error_type: str | None = None


def judge(case: Case, category: str, reply: Reply, seconds: float) -> CaseResult:
    """BFCL's verdict on `reply`: relevance categories on whether there is a call; the others
    on the calls, which must all be readable (BFCL fails an output it cannot decode), numbers
    for BFCL's float parameters read as floats (`specs.as_declared_floats`)."""
    if is_relevance_category(category):
        verdict = check_relevance(category, reply.calls)
    elif not reply.well_formed:
        verdict = Verdict(
            valid=False,
            errors=("Invalid syntax. Failed to decode the calls.",),
            error_type="ast_decoder:decoder_failed",
        )
    else:
        calls = as_declared_floats(reply.calls, case.functions)
        verdict = check_calls(category, case.functions, calls, case.ground_truth)
    return CaseResult(
        id=case.id,
        valid=verdict.valid,
        well_formed=reply.well_formed,
        seconds=seconds,
        json_text=any(uses_json_text(f) for f in case.functions),
        text=reply.text,
        calls=reply.calls,
        errors=verdict.errors,
        error_type=verdict.error_type,
    )


def evaluate(suite: Suite, runner: CaseRunner) -> Iterator[CaseResult]:
    """Each case of `suite` put to `runner` and judged, in order, as it finishes."""
    for case in suite.cases:
        started = time.perf_counter()
        reply = runner.reply(case, suite.category)
        yield judge(case, suite.category, reply, time.perf_counter() - started)


class EvalReport(BaseModel):
    """A suite's results with one runner: accuracy, share of well-formed replies, median time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str
    category: str
    runner: str
    model: str = ""
    syntax: str | None = None
    grammar: bool | None = None
    results: tuple[CaseResult, ...]

    @classmethod
    def of(
        cls,
        suite: Suite,
        runner: str,
        results: Sequence[CaseResult],
        *,
        model: str = "",
        syntax: str | None = None,
        grammar: bool | None = None,
    ) -> EvalReport:
        """The report of `results`, run on `suite` (the agent's syntax and grammar setting)."""
        return cls(
            suite=suite.path.name,
            category=suite.category,
            runner=runner,
            model=model,
            syntax=syntax,
            grammar=grammar,
            results=tuple(results),
        )

    @property
    def cases(self) -> int:
        """How many cases ran."""
        return len(self.results)

    @property
    def correct(self) -> int:
        """How many cases BFCL judged right."""
        return sum(r.valid for r in self.results)

    @property
    def accuracy(self) -> float:
        """The share of cases judged right (0 when none ran)."""
        return self.correct / self.cases if self.cases else 0.0

    @property
    def well_formed(self) -> float:
        """The share of replies whose calls could all be read."""
        return sum(r.well_formed for r in self.results) / self.cases if self.cases else 0.0

    @property
    def median_s(self) -> float:
        """The median wall time per case, in seconds."""
        return statistics.median(r.seconds for r in self.results) if self.results else 0.0

    @property
    def json_text_cases(self) -> int:
        """Cases with an array or object parameter (given to every runner as JSON Schema)."""
        return sum(r.json_text for r in self.results)

    def summary(self) -> dict[str, Any]:
        """The figures, for `--json`."""
        return {
            "suite": self.suite,
            "category": self.category,
            "runner": self.runner,
            "model": self.model,
            "syntax": self.syntax,
            "grammar": self.grammar,
            "cases": self.cases,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "well_formed": round(self.well_formed, 4),
            "median_s": round(self.median_s, 3),
            "json_text_cases": self.json_text_cases,
        }
