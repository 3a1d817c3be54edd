"""`agent eval`: tool calling measured on a BFCL-format suite, beside llama-cpp-python's own.

    from agent.eval import load_suite, AgentRunner, evaluate, EvalReport

    suite = load_suite(Path("BFCL_v4_simple_python.json"), limit=100)
    results = list(evaluate(suite, AgentRunner(backend, LoopSettings())))
    report = EvalReport.of(suite, "agent", results)

The agent's side runs step 1 of the real loop (prompt, template, grammar, parser) with the
case's functions as tool specs; the baseline (`open_baseline`, llama-cpp-python's
`chatml-function-calling` handler) runs the same cases; both are judged with BFCL's AST rules
(`agent.eval.checker`, reimplemented from the `bfcl-eval` package). Importing this package does
not load llama.cpp.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agent.eval.checker import Verdict, check_calls, check_relevance
from agent.eval.runner import (
    AgentRunner,
    CaseResult,
    CaseRunner,
    EvalReport,
    Reply,
    evaluate,
    expects_call,
    judge,
)
from agent.eval.specs import bfcl_call, json_schema, openai_tool, tool_spec, uses_json_text
from agent.eval.suite import Case, Suite, category_of, load_suite

if TYPE_CHECKING:
    from agent.choices import ToolChoice
    from agent.config import ModelSettings, SamplingSettings
    from agent.eval.baseline import LlamaCppRunner
    from agent.eval.server import LlamaServerRunner


def open_baseline(
    settings: ModelSettings, sampling: SamplingSettings, tool_choice: ToolChoice | None = None
) -> LlamaCppRunner:
    """llama-cpp-python's `chatml-function-calling` handler on the model of `settings` (loads
    llama.cpp); raises ModelError."""
    from agent.eval.baseline import LlamaCppRunner

    return LlamaCppRunner(settings, sampling, tool_choice)


def start_llama_server(
    binary: Path,
    settings: ModelSettings,
    sampling: SamplingSettings,
    tool_choice: ToolChoice | None = None,
) -> LlamaServerRunner:
    """llama.cpp's own `llama-server --jinja` (the binary at `binary`) on the model of
    `settings`, as a child process on 127.0.0.1; raises EvalError when it does not come up."""
    from agent.eval.server import LlamaServerRunner

    return LlamaServerRunner.start(binary, settings, sampling, tool_choice)


__all__ = [
    "AgentRunner",
    "Case",
    "CaseResult",
    "CaseRunner",
    "EvalReport",
    "Reply",
    "Suite",
    "Verdict",
    "bfcl_call",
    "json_schema",
    "category_of",
    "check_calls",
    "check_relevance",
    "evaluate",
    "expects_call",
    "judge",
    "load_suite",
    "open_baseline",
    "start_llama_server",
    "openai_tool",
    "tool_spec",
    "uses_json_text",
]
