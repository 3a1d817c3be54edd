"""`agent eval` through click's CliRunner on real BFCL cases with the real SmolLM2-135M-Instruct:
the agent's side and llama-cpp-python's handler, a few cases each (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main

pytestmark = pytest.mark.slow

FAST = ["--threads", "2", "--ctx", "2048", "--max-tokens", "64"]


def test_eval_prints_the_agent_beside_the_baseline(bfcl_dir: Path, smollm2_path: Path) -> None:
    suite = bfcl_dir / "BFCL_v4_simple_python.json"
    args = ["eval", str(suite), "-m", str(smollm2_path), "--limit", "3", *FAST]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"BFCL simple_python (first 3 cases), {smollm2_path.name}"
    assert lines[1].lstrip().startswith("agent (") and "/3)" in lines[1]
    assert lines[2].lstrip().startswith("llama-cpp-python chatml-function-calling")
    assert all("well-formed" in line and "s/case" in line for line in lines[1:3])


def test_eval_json_has_figures_and_failures(bfcl_dir: Path, smollm2_path: Path) -> None:
    suite = bfcl_dir / "BFCL_v4_irrelevance.json"
    args = ["eval", str(suite), "-m", str(smollm2_path), "--limit", "2", "--baseline", "none"]
    result = CliRunner().invoke(main, [*args, "--json", *FAST], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)["reports"]
    assert report["runner"] == "agent" and report["category"] == "irrelevance"
    assert report["cases"] == 2 and 0 <= report["correct"] <= 2
    assert len(report["failures"]) == 2 - report["correct"]
    assert {"accuracy", "well_formed", "median_s", "json_text_cases"} <= set(report)


def test_eval_errors_are_one_line(tmp_path: Path, smollm2_path: Path) -> None:
    bad = tmp_path / "questions.json"
    bad.write_text("{}\n")
    result = CliRunner().invoke(main, ["eval", str(bad), "-m", str(smollm2_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: questions.json: cannot tell the category")
