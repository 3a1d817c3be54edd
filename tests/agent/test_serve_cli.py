"""`agent serve` as a user runs it: a real process on an ephemeral port with the tiny GGUF and the
echo component, talked to with the `openai` client and stopped with Ctrl-C; its start-up errors
through click's CliRunner."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest
from click.testing import CliRunner

from agent.cli import main

pytestmark = pytest.mark.slow

SERVE = [sys.executable, "-c", "from agent.cli import main; main()", "serve"]
FAST = ["--ctx", "2048", "--threads", "2", "--seed", "1", "--in-process"]


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The server process and its URL, read from the line it prints when ready."""
    process = subprocess.Popen(
        [*SERVE, *args], stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"at (http://127\.0\.0\.1:\d+)/v1; Ctrl-C stops\.", line)
    if found is None:
        process.kill()
        pytest.fail(f"no address in {line!r}: {process.communicate()[1]}")
    return process, found.group(1)


@pytest.fixture
def stop() -> Iterator[Callable[[subprocess.Popen[str]], int]]:
    started: list[subprocess.Popen[str]] = []

    def interrupt(process: subprocess.Popen[str]) -> int:
        started.append(process)
        process.send_signal(signal.SIGINT)
        return process.wait(timeout=30)

    yield interrupt
    for process in started:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("key_from", ["flag", "environment"])
def test_serve_answers_the_openai_client_until_ctrl_c(
    tiny_model_path: Path,
    echo: Path,
    key_from: str,
    stop: Callable[[subprocess.Popen[str]], int],
) -> None:
    args = ["-m", str(tiny_model_path), "-c", str(echo), "--port", "0", *FAST]
    env = {"LLM_AGENT_API_KEY": "sesame"} if key_from == "environment" else {}
    if key_from == "flag":
        args += ["--api-key", "sesame"]
    process, url = _start(args, env)
    try:
        client = openai.OpenAI(base_url=url + "/v1", api_key="sesame", max_retries=0)
        assert [m.id for m in client.models.list().data] == ["tiny"]
        reply = client.chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=3
        )
        assert reply.choices[0].finish_reason in ("stop", "length")
        assert reply.model_extra is not None and reply.model_extra["llm_agent"]["tools"] == ["Echo"]
        stranger = openai.OpenAI(base_url=url + "/v1", api_key="guess", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            stranger.models.list()
    finally:
        code = stop(process)
    assert code == 0


def test_a_port_in_use_fails_before_the_model_loads(tiny_model_path: Path, echo: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "-m", str(tiny_model_path / "absent.gguf"), "-c", str(echo),
             "--port", str(port)],
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "Invalid value for '--port'"),
        (
            ["--host", "no.such.host.invalid", "--port", "0"],
            "cannot listen on no.such.host.invalid:0",
        ),
    ],
)
def test_bad_addresses_are_one_line(echo: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", "-c", str(echo), *args])
    assert result.exit_code in (1, 2)
    assert message in result.output and "Traceback" not in result.output


def test_listening_beyond_loopback_without_a_key_warns(
    tiny_model_path: Path, stop: Callable[[subprocess.Popen[str]], int]
) -> None:
    args = ["-m", str(tiny_model_path), "--no-tools", "--host", "0.0.0.0", "--port", "0", *FAST]
    env = {key: value for key, value in os.environ.items() if key != "LLM_AGENT_API_KEY"}
    process = subprocess.Popen([*SERVE, *args], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        serving, warning = process.stderr.readline(), process.stderr.readline()
        found = re.search(r"\(tools: none\) at http://0\.0\.0\.0:(\d+)/v1", serving)
        assert found is not None, serving
        assert warning.startswith("Warning: listening on 0.0.0.0 without an API key (--api-key)")
        client = openai.OpenAI(
            base_url=f"http://127.0.0.1:{found.group(1)}/v1", api_key="-", max_retries=0
        )
        assert [m.id for m in client.models.list().data] == ["tiny"]  # no key needed
    finally:
        code = stop(process)
    assert code == 0
