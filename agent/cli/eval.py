"""`agent eval`: a BFCL-format suite on a GGUF model, the agent beside llama-cpp-python's own
function-calling handler and llama.cpp's own server.

The command only adapts: flags become settings (`agent.resolve_settings`), the suite is read
(`agent.eval.load_suite`), the agent's runner and then each baseline's run every case
(`agent.eval.evaluate`), and the reports are printed (or one JSON object with `--json`). Library
errors become one-line click errors: exit 2 for bad settings, 1 for anything else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from agent import LlamaLoader, resolve_settings
from agent.choices import SYNTAX_CHOICES, TOOL_CHOICES, ToolChoice
from agent.cli.run import _one_line_errors  # one mapping of library errors for every command
from agent.config import AgentSettings, field_help
from agent.eval import (
    AgentRunner,
    CaseRunner,
    EvalReport,
    Suite,
    evaluate,
    load_suite,
    open_baseline,
    start_llama_server,
)
from agent.models import default_models_dir

BASELINES = ("llama-cpp", "llama-server", "none")
_LABELS = {
    "llama-cpp": "llama-cpp-python chatml-function-calling",
    "llama-server": "llama-server --jinja",
}


def _run(suite: Suite, runner: CaseRunner, model: str) -> EvalReport:
    """Every case through `runner`; a `.` (right) or `x` (wrong) per case on stderr."""
    results = []
    click.echo(f"{runner.name}: ", nl=False, err=True)
    for result in evaluate(suite, runner):
        results.append(result)
        click.echo("." if result.valid else "x", nl=False, err=True)
    click.echo(err=True)
    if isinstance(runner, AgentRunner):
        return EvalReport.of(
            suite, runner.name, results, model=model, syntax=runner.syntax, grammar=runner.grammar
        )
    return EvalReport.of(suite, runner.name, results, model=model)


def _line(report: EvalReport) -> str:
    label = _LABELS.get(report.runner, report.runner)
    if report.runner == "agent":
        grammar = "grammar" if report.grammar else "no grammar"
        label = f"agent ({report.syntax} syntax, {grammar})"
    return (
        f"  {label:<42} accuracy {report.accuracy:6.1%} ({report.correct}/{report.cases}), "
        f"well-formed {report.well_formed:6.1%}, median {report.median_s:.2f} s/case"
    )


def _failures(report: EvalReport) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "error_type": r.error_type,
            "errors": list(r.errors),
            "text": r.text,
            "calls": list(r.calls),
            "well_formed": r.well_formed,
        }  # fmt: skip
        for r in report.results
        if not r.valid
    ]


@click.command(name="eval")
@click.argument("suite_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-m", "--model", help=field_help("model"))
@click.option("--models-dir", type=click.Path(path_type=Path), help=field_help("models_dir"))
@click.option(
    "--answers",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Possible answers  [default: possible_answer/<same name> beside the suite]",
)
@click.option("--category", help="BFCL category  [default: from the file name]")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N cases.")
@click.option(
    "--baseline",
    "baselines",
    type=click.Choice(BASELINES),
    multiple=True,
    default=("llama-cpp",),
    show_default=True,
    help="The peers run on the same cases (repeat for several): llama-cpp-python's "
    "chatml-function-calling, llama.cpp's llama-server --jinja, or none.",
)
@click.option(
    "--agent/--no-agent",
    "run_agent",
    default=True,
    show_default=True,
    help="Run the agent itself (--no-agent: only the baselines).",
)
@click.option(
    "--llama-server",
    "server_binary",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The llama-server binary for --baseline llama-server (scripts/build-llama-tools.sh "
    "prints its path).",
)
@click.option("--syntax", type=click.Choice(SYNTAX_CHOICES), help=field_help("syntax", "auto"))
@click.option(
    "--grammar/--no-grammar",
    default=None,
    help=field_help("grammar", "on"),
)
@click.option(
    "--tool-choice",
    type=click.Choice(TOOL_CHOICES),
    help="  [default: required where the category expects a call, else auto]",
)
@click.option("--ctx", type=int, default=4096, show_default=True, help=field_help("ctx"))
@click.option("--threads", type=int, help=field_help("threads", "llama.cpp's choice"))
@click.option("--gpu-layers", type=int, help=field_help("gpu_layers"))
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--temperature", type=float, default=0.0, show_default=True, help="0 is greedy.")
@click.option(
    "--max-tokens", type=int, default=256, show_default=True, help=field_help("max_tokens", "256")
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the figures and every failure as JSON."
)
@click.option("-v", "--verbose", is_flag=True, help=field_help("verbose"))
def eval_command(
    suite_file: Path,
    answers: Path | None,
    category: str | None,
    limit: int | None,
    baselines: tuple[str, ...],
    server_binary: Path | None,
    run_agent: bool,
    tool_choice: ToolChoice | None,  # click.Choice(TOOL_CHOICES) admits only those
    as_json: bool,
    **flags: Any,
) -> None:
    """Score tool calls on a BFCL-format suite (e.g. BFCL_v4_simple_python.json) with BFCL's
    AST rules: the agent's prompt, grammar and parser, beside llama-cpp-python's own handler."""
    peers = () if "none" in baselines else tuple(dict.fromkeys(baselines))
    if "llama-server" in peers and server_binary is None:
        raise click.UsageError("--baseline llama-server needs --llama-server PATH")
    if not run_agent and not peers:
        raise click.UsageError("--no-agent with no baseline runs nothing")
    with _one_line_errors():
        settings: AgentSettings = resolve_settings(flags, environ=os.environ)
        if settings.models_dir is None:  # the checkout's models/ or the user's, as agent run
            settings = settings.model_copy(update={"models_dir": default_models_dir(os.environ)})
        suite = load_suite(suite_file, answers=answers, category=category, limit=limit)
        loader = LlamaLoader()
        path = loader.resolve(settings)
        model = path.name
        reports = []
        if run_agent:
            backend = loader.load(settings, path)
            try:
                runner = AgentRunner(backend, settings.loop(), tool_choice)
                reports.append(_run(suite, runner, model))
            finally:
                backend.close()
        sampling, model_settings = settings.sampling(), settings.model_settings(path)
        for peer_name in peers:
            if peer_name == "llama-cpp":
                with open_baseline(model_settings, sampling, tool_choice) as peer:
                    reports.append(_run(suite, peer, model))
            elif server_binary is not None:
                with start_llama_server(
                    server_binary, model_settings, sampling, tool_choice
                ) as server:
                    reports.append(_run(suite, server, model))
    if as_json:
        out = {
            "reports": [{**r.summary(), "failures": _failures(r)} for r in reports],
        }
        click.echo(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return
    shown = f"first {len(suite.cases)}" if limit else "all"
    click.echo(f"BFCL {suite.category} ({shown} cases), {model}")
    for report in reports:
        click.echo(_line(report))
    structured = reports[0].json_text_cases if reports else 0
    if structured:
        click.echo(
            f"  {structured} of {reports[0].cases} cases have array/object parameters: every "
            "runner gets their JSON Schema."
        )


__all__ = ["eval_command"]
