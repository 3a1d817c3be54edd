"""The tool-runner CLI through click's CliRunner: the seed transcript, JSON, errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tool_runner.cli import command

SEED_TRANSCRIPT = """\
Component path: "{path}"
Tool metadata:
  Name: Echo
  Description: Echos the passed in value
  Version: 0.1.0
  Parameters:
    - value: Value to be echoed (string)

Executing tool...
[Success] Tool output: Hello
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_reproduces_the_seed_transcript(echo_path: Path, seed_echo_path: Path) -> None:
    for path in (echo_path, seed_echo_path):
        result = run("-c", str(path), "--value", "Hello")
        assert result.exit_code == 0
        assert result.stdout == SEED_TRANSCRIPT.format(path=path)
        assert result.stderr == ""


def test_arg_option_and_json(hostile_path: Path) -> None:
    result = run("-c", str(hostile_path), "--mode", "print", "--arg", "arg=hi", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["kind"] == "success"
    assert (payload["output"], payload["stdout"], payload["stderr"]) == ("hi", "hi", "hi")
    assert payload["tool"] == "hostile" and payload["elapsed_ms"] > 0


def test_captured_output_is_shown_after_the_result(hostile_path: Path) -> None:
    result = run("-c", str(hostile_path), "--mode", "print", "--arg", "arg=shown")
    assert result.stdout.endswith("[Success] Tool output: shown\n[stdout]\nshown\n")
    assert result.stderr == "[stderr]\nshown\n"


def test_tool_failures_exit_1(hostile_path: Path) -> None:
    own = run("-c", str(hostile_path), "--mode", "Error", "--arg", "arg=it broke")
    assert (own.exit_code, own.stdout.splitlines()[-1]) == (1, "[Error] it broke")
    loop = run("-c", str(hostile_path), "--mode", "loop", "--timeout", "0.1")
    assert loop.exit_code == 1
    assert loop.stdout.splitlines()[-1] == "[Error] timeout: timed out after 0.1 s"
    as_json = run("-c", str(hostile_path), "--mode", "trap", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["kind"] == "trap"


def test_policy_flags(hostile_path: Path, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("granted")
    read = run(
        "-c", str(hostile_path), "--mode", "read", "--arg", "arg=f.txt", "--dir", f"{tmp_path}"
    )
    assert read.stdout.splitlines()[-1] == "[Success] Tool output: granted"
    env = run("-c", str(hostile_path), "--mode", "vars", "--env", "GREETING=hi", "--json")
    assert json.loads(env.stdout)["output"] == "GREETING=hi\n"
    policy = tmp_path / "policy.toml"
    policy.write_text("[limits]\nmax_output_bytes = 10\n")
    flood = run("-c", str(hostile_path), "--mode", "flood", "--policy", str(policy), "--json")
    assert json.loads(flood.stdout)["error"] == "stdout exceeded the output limit of 10 bytes"
    bigger = run(
        "-c",
        str(hostile_path),
        "--mode",
        "output",
        "--policy",
        str(policy),
        "--max-output",
        "3000000",
        "--json",
    )
    assert json.loads(bigger.stdout)["ok"] is True


def test_describe_prints_metadata_and_schema_without_running(hostile_path: Path) -> None:
    text = run("-c", str(hostile_path), "--describe")
    assert text.exit_code == 0
    assert "    - arg: Its argument (string, optional)" in text.stdout
    assert "Executing tool..." not in text.stdout
    assert '"required": [\n    "mode"\n  ]' in text.stdout
    payload = json.loads(run("-c", str(hostile_path), "--describe", "--json").stdout)
    assert payload["schema"]["properties"]["mode"]["type"] == "string"
    assert payload["metadata"]["name"] == "hostile"


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_usage_and_load_errors_are_one_line_exit_2(
    echo_path: Path, hostile_path: Path, tmp_path: Path
) -> None:
    assert _one_line_error(run("-c", str(tmp_path / "x.wasm"), "--value", "1")) == (
        f"tool-runner: error: cannot load {tmp_path / 'x.wasm'}: no such file"
    )
    assert "Missing option '-c'" in _one_line_error(run("--value", "x"))
    assert "No such option '--vale'" in _one_line_error(run("-c", str(echo_path), "--vale", "x"))
    assert _one_line_error(run("-c", str(echo_path))) == (
        "tool-runner: error: invalid arguments: missing required parameter 'value'"
    )
    assert "is given twice" in _one_line_error(
        run("-c", str(echo_path), "--value", "a", "--arg", "value=b")
    )
    assert "expected NAME=VALUE" in _one_line_error(run("-c", str(echo_path), "--arg", "value"))
    assert "invalid directory grant" in _one_line_error(
        run("-c", str(hostile_path), "--mode", "echo", "--dir", str(tmp_path / "missing"))
    )
    assert "cannot read policy" in _one_line_error(
        run("-c", str(echo_path), "--value", "x", "--policy", str(tmp_path / "nope.toml"))
    )
    assert "'abc' is not a valid float" in _one_line_error(
        run("-c", str(echo_path), "--timeout", "abc")
    )
    core = tmp_path / "core.wat"
    core.write_text("(module)")
    assert "not a component" in _one_line_error(run("-c", str(core)))
