"""`agent eval --baseline llama-server`: the server runner starts a child process, waits for its
health check, sends each case as an OpenAI-style chat completion with tools, and reads the
returned tool calls; tested with a stand-in server script that records what it was sent and
answers as llama-server does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.config import ModelSettings, SamplingSettings
from agent.errors import EvalError
from agent.eval import evaluate, load_suite, start_llama_server
from agent.eval.server import read_reply
from agent.eval.suite import Suite

FAKE_SERVER = """\
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
log = open(sys.argv[0] + ".log", "a")
log.write(json.dumps(args) + "\\n")
log.flush()

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200 if self.path == "/health" else 404, {"status": "ok"})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        log.write(json.dumps(request) + "\\n")
        log.flush()
        question = request["messages"][-1]["content"]
        if question == "text":
            message = {"role": "assistant", "content": "no call"}
        else:
            arguments = json.dumps({"width": 3, "height": 4.0}) if question == "3 by 4" else "{bad"
            function = {"name": "geometry.area", "arguments": arguments}
            call = {"type": "function", "id": "x", "function": function}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        self._send(200, {"choices": [{"finish_reason": "tool_calls", "message": message}]})

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

AREA = {
    "name": "geometry.area",
    "description": "Area of a rectangle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "width": {"type": "integer", "description": "Width."},
            "height": {"type": "float", "description": "Height."},
        },
        "required": ["width", "height"],
    },
}


def _suite(folder: Path, questions: list[str]) -> Suite:
    path = folder / "BFCL_v4_simple_python.json"
    answers = folder / "possible_answer" / path.name
    answers.parent.mkdir()
    rows = [
        {"id": f"c{i}", "question": [[{"role": "user", "content": q}]], "function": [AREA]}
        for i, q in enumerate(questions)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    truth = {"geometry.area": {"width": [3], "height": [4.0]}}
    answers.write_text(
        "".join(
            json.dumps({"id": f"c{i}", "ground_truth": [truth]}) + "\n" for i in range(len(rows))
        )
    )
    return load_suite(path)


@pytest.fixture
def fake_server(tmp_path: Path) -> Path:
    script = tmp_path / "llama-server"
    script.write_text(f"#!{sys.executable}\n{FAKE_SERVER}")
    script.chmod(0o755)
    return script


def _sent(server: Path) -> list[Any]:
    return [json.loads(line) for line in Path(f"{server}.log").read_text().splitlines()]


def test_the_server_runner_sends_each_case_with_tools_and_reads_its_calls(
    fake_server: Path, tmp_path: Path
) -> None:
    suite = _suite(tmp_path, ["3 by 4", "text", "broken"])
    settings = ModelSettings(path=tmp_path / "m.gguf", ctx=1024, threads=1, seed=5)
    sampling = SamplingSettings(temperature=0, max_tokens=64)
    with start_llama_server(fake_server, settings, sampling) as server:
        results = list(evaluate(suite, server))
    assert [(r.valid, r.well_formed) for r in results] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    argv, first, *_ = _sent(fake_server)
    assert "--jinja" in argv and argv[argv.index("-m") + 1] == str(tmp_path / "m.gguf")
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("-c") + 1] == "1024"
    assert first["tool_choice"] == "required" and first["parallel_tool_calls"] is False
    assert first["tools"][0]["function"]["parameters"]["properties"]["height"]["type"] == "number"
    assert (first["temperature"], first["max_tokens"], first["seed"]) == (0, 64, 5)
    assert first["messages"] == [{"role": "user", "content": "3 by 4"}]


def test_a_server_that_is_missing_or_dies_is_one_line(tmp_path: Path) -> None:
    settings = ModelSettings(path=tmp_path / "m.gguf")
    with pytest.raises(EvalError, match="no llama-server at"):
        start_llama_server(tmp_path / "absent", settings, SamplingSettings())
    dying = tmp_path / "dies"
    dying.write_text(f"#!{sys.executable}\nimport sys; sys.exit(3)\n")
    dying.chmod(0o755)
    with pytest.raises(EvalError, match="exited with code 3"):
        start_llama_server(dying, settings, SamplingSettings())


@pytest.mark.parametrize(
    ("answer", "calls", "well_formed"),
    [
        ({"choices": [{"finish_reason": "length", "message": {"content": "cut"}}]}, (), False),
        ({"error": "x"}, (), False),
        (
            {
                "choices": [
                    {
                        "finish_reason": "tool_calls",
                        "message": {
                            "tool_calls": [
                                {"function": {"name": "f", "arguments": '{"a": [1]}'}},
                                {"function": {"name": "g", "arguments": "[1]"}},
                            ]
                        },
                    }
                ]
            },
            ({"f": {"a": [1]}},),
            False,
        ),
    ],
)
def test_replies_are_read_as_the_other_runners_read_them(
    answer: Any, calls: tuple[Any, ...], well_formed: bool
) -> None:
    reply = read_reply(answer)
    assert reply.calls == calls and reply.well_formed is well_formed


def test_the_command_needs_the_binary_for_that_baseline(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["eval", str(tmp_path / "BFCL_v4_simple_python.json"), "--baseline", "llama-server"]
    )
    assert result.exit_code == 2
    assert "--baseline llama-server needs --llama-server PATH" in result.output


def test_no_agent_needs_a_baseline(tmp_path: Path) -> None:
    suite = str(tmp_path / "BFCL_v4_simple_python.json")
    args = ["eval", suite, "--no-agent", "--baseline", "none"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--no-agent with no baseline runs nothing" in result.output
