"""`agent chat` and `agent run` on a real terminal (a pseudo-terminal), as a person uses them:
Ctrl-C mid-reply, the up arrow, the status line. The agent runs in a child process with click's
standalone handling (signals, exit codes) and the library's scripted backend made slow, so that
the keys arrive while a reply is being written."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_CHILD = """
import sys, time
from agent.cli import main
from agent.fake import FakeBackend, FakeLoader

class Slow(FakeBackend):
    def stream_prompt(self, prompt, **options):
        if "one slow request" in prompt.text.rsplit("user", 1)[-1]:
            for _ in range(200):
                time.sleep(0.05)
                yield " word"
        return (yield from super().stream_prompt(prompt, **options))

main(sys.argv[1:], prog_name="agent", obj=FakeLoader(Slow(["first reply"] * 20)))
"""

LIMIT_S = 60.0
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # cursor moves and modes; carriage returns


class Terminal:
    """A child process on a pseudo-terminal: what it wrote so far, keys to send, its status."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the agent
            os.execve(sys.executable, [sys.executable, "-c", _CHILD, *args], env)
        self.pid, self.fd = pid, fd
        self.raw = ""  # as written, escape sequences and all
        self.text = ""  # without cursor and mode sequences

    def expect(self, marker: str, after: int = 0) -> int:
        """Read until `marker` shows up after position `after`; its end position."""
        deadline = time.monotonic() + LIMIT_S
        while marker not in self.text[after:]:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{marker!r} never came; the terminal shows:\n{self.text}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child is gone
                    chunk = b""
                if not chunk:
                    pytest.fail(f"the agent ended before {marker!r}:\n{self.text}")
                self.raw += chunk.decode("utf-8", "replace")
                self.text = _CONTROL.sub("", self.raw)
        return self.text.index(marker, after) + len(marker)

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait(self) -> int:
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            try:  # drain, so that the child never blocks on a full terminal
                while select.select([self.fd], [], [], 0.05)[0]:
                    self.raw += os.read(self.fd, 4096).decode("utf-8", "replace")
                    self.text = _CONTROL.sub("", self.raw)
            except OSError:
                pass
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        pytest.fail(f"the agent did not exit:\n{self.text}")

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(
    tmp_path: Path, component_path: Callable[[str], Path]
) -> Iterator[Callable[..., Terminal]]:
    env = {
        **os.environ,
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # no cursor-position queries for this test to answer
        "LLM_AGENT_DATA_DIR": str(tmp_path / "data"),
    }
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    opened: list[Terminal] = []
    echo = str(component_path("echo"))

    def start(*args: str) -> Terminal:
        opened.append(Terminal([*args, "-c", echo, "--in-process"], env))
        return opened[-1]

    yield start
    for term in opened:
        term.close()


def test_ctrl_c_in_run_exits_130_in_one_line(terminal: Callable[..., Terminal]) -> None:
    term = terminal("run", "one slow request")
    term.expect(" word word")  # streamed to the terminal as it comes
    assert "loading the model and tools… 0.0s" in term.text  # the status line, on a terminal
    term.send("\x03")
    assert term.wait() == 130
    after = [line for line in term.text.rsplit("word", 1)[-1].splitlines() if line.strip()]
    assert after[-1] == "Interrupted." and after[:-1] in ([], ["^C"])  # the terminal's echo
    assert "Aborted" not in term.text and "Traceback" not in term.text


def test_chat_ctrl_c_cancels_the_reply_and_the_up_arrow_recalls(
    terminal: Callable[..., Terminal],
) -> None:
    term = terminal("chat")
    at = term.expect("Ctrl-D quits.")
    at = term.expect(">", at)
    term.send("first question\r")
    at = term.expect("first reply", at)
    at = term.expect(">", at)
    term.send("one slow request\r")
    at = term.expect(" word word", at)
    term.send("\x03")
    at = term.expect("(cancelled: the conversation is as before this request)", at)
    at = term.expect(">", at)
    term.send("/help\r")
    at = term.expect("/save FILE", at)
    at = term.expect(">", at)
    term.send("\x1b[A\x1b[A\x1b[A")  # up three times: back to "first question"
    at = term.expect("first question", at)
    term.send("\r")
    at = term.expect("first reply", at)
    at = term.expect(">", at)
    term.send("\x04")  # Ctrl-D
    term.expect("Bye.", at)
    assert term.wait() == 0 and "Traceback" not in term.text
