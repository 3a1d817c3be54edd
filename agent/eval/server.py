"""The second peer: llama.cpp's own server (`llama-server --jinja`) on the same model and cases.

    with LlamaServerRunner.start(binary, settings, sampling) as peer:
        reply = peer.reply(case, "simple_python")

The server runs as a child process on 127.0.0.1 (a free port, the model's own chat template with
`--jinja`, one slot); each case is one OpenAI-style `/v1/chat/completions` request with the
case's functions as `tools` (`specs.openai_tool`), `tool_choice` "required" where the category
expects a call and "auto" otherwise, and `parallel_tool_calls` only for parallel categories.
The returned `tool_calls` are read as the other runners' calls are: a call whose arguments are
not a JSON object, or a reply cut off by `max_tokens`, is not well-formed. Only the standard
library talks to it. Raises EvalError when the binary is missing or the server does not come up.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from agent.choices import ToolChoice
from agent.config import ModelSettings, SamplingSettings
from agent.errors import EvalError, ModelError
from agent.eval.runner import Reply, expects_call
from agent.eval.specs import openai_tool
from agent.eval.suite import Case
from tool_runner import Closing

_STARTUP_S = 120.0
_REQUEST_S = 600.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LlamaServerRunner(Closing):
    """Cases through a `llama-server --jinja` child process; `close()` stops it."""

    name = "llama-server"

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        url: str,
        sampling: SamplingSettings,
        tool_choice: ToolChoice | None = None,
        seed: int = 0,
    ) -> None:
        self._process = process
        self.url = url
        self.sampling = sampling
        self.tool_choice = tool_choice
        self.seed = seed

    @classmethod
    def start(
        cls,
        binary: Path,
        settings: ModelSettings,
        sampling: SamplingSettings,
        tool_choice: ToolChoice | None = None,
    ) -> LlamaServerRunner:
        """Start `binary` on the model of `settings` and wait until it serves; raises EvalError."""
        if not binary.is_file():
            raise EvalError(f"no llama-server at {binary} (scripts/build-llama-tools.sh builds it)")
        port = _free_port()
        command = [
            str(binary), "-m", str(settings.path), "--jinja", "--host", "127.0.0.1",
            "--port", str(port), "-c", str(settings.ctx), "-np", "1", "--no-webui",
        ]  # fmt: skip
        if settings.threads is not None:
            command += ["-t", str(settings.threads), "-tb", str(settings.threads)]
        if settings.gpu_layers:
            command += ["-ngl", str(settings.gpu_layers)]
        if settings.seed is not None:
            command += ["--seed", str(settings.seed)]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None if settings.verbose else subprocess.DEVNULL,
            )
        except OSError as exc:
            raise EvalError(f"cannot start {binary}: {exc.strerror or exc}") from exc
        seed = settings.seed if settings.seed is not None else 0
        runner = cls(process, f"http://127.0.0.1:{port}", sampling, tool_choice, seed)
        try:
            runner._wait_until_ready()
        except BaseException:
            runner.close()
            raise
        return runner

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _STARTUP_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EvalError(f"llama-server exited with code {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or still loading the model (503)
            time.sleep(0.25)
        raise EvalError(f"llama-server did not come up within {_STARTUP_S:.0f} s")

    def request(self, case: Case, category: str) -> dict[str, Any]:
        """The chat completion request for `case` (OpenAI's shape)."""
        s = self.sampling
        choice = self.tool_choice or ("required" if expects_call(category) else "auto")
        return {
            "messages": [{"role": m.role, "content": m.content} for m in case.messages],
            "tools": [openai_tool(f) for f in case.functions],
            "tool_choice": choice,
            "parallel_tool_calls": "parallel" in category,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "top_k": s.top_k,
            "min_p": s.min_p,
            "repeat_penalty": s.repeat_penalty,
            "max_tokens": s.max_tokens,
            "seed": self.seed,
        }

    def reply(self, case: Case, category: str) -> Reply:
        """The server's answer to `case`; raises ModelError when the server fails."""
        body = json.dumps(self.request(case, category)).encode()
        request = urllib.request.Request(
            f"{self.url}/v1/chat/completions",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=_REQUEST_S) as response:
                answer: Any = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:200]
            # the server refuses some replies it cannot parse into calls: a malformed reply
            return Reply(text=f"HTTP {exc.code}: {detail}", well_formed=False)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ModelError(f"llama-server failed: {exc}") from exc
        return read_reply(answer)

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def read_reply(answer: Any) -> Reply:
    """A chat completion response as a Reply: its calls in BFCL's form (arguments decoded from
    their JSON text), well-formed when every call reads and the reply was not cut off."""
    try:
        choice = answer["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        return Reply(text=json.dumps(answer)[:500], well_formed=False)
    calls: list[dict[str, dict[str, Any]]] = []
    well_formed = choice.get("finish_reason") != "length"
    for tool_call in message.get("tool_calls") or []:
        function = tool_call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except (ValueError, RecursionError):
            well_formed = False
            continue
        if not isinstance(arguments, dict) or not isinstance(function.get("name"), str):
            well_formed = False
            continue
        calls.append({function["name"]: arguments})
    text = message.get("content") or json.dumps(message.get("tool_calls") or [])
    return Reply(text=text, calls=tuple(calls), well_formed=well_formed)
