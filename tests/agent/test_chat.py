"""`agent chat` driven through scripted stdin (click's CliRunner) with the library's scripted
backend: commands handled locally, Ctrl-C cancelling one turn, the terminal approver, /save."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.approval import ApprovalRequest
from agent.cli import main
from agent.cli.approve import TerminalApprover, match_choice
from agent.fake import FakeBackend, FakeLoader
from agent.messages import Prompt

DIRECTIVE = ("--syntax", "directive")  # the scripted replies are in the seed's syntax


@pytest.fixture
def echo(component_path: Callable[[str], Path]) -> Path:
    return component_path("echo")


@pytest.fixture(autouse=True)
def _own_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_AGENT_DATA_DIR", str(tmp_path / "data"))


def chat(*args: str | Path, input: str | Any, fake: FakeBackend) -> Result:
    return CliRunner().invoke(
        main, ["chat", *map(str, args)], input=input, catch_exceptions=False, obj=FakeLoader(fake)
    )


def test_chat_keeps_the_conversation_and_exits_on_eof(echo: Path) -> None:
    fake = FakeBackend(["first answer", "second answer"])
    result = chat("-c", echo, "-vv", input="first question\nsecond question\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert "Model fake.gguf; tools: Echo." in result.stdout and "\n> \nBye.\n" in result.stdout
    assert result.stdout.count("first answer") == 1 and result.stdout.count("second answer") == 1
    # the second turn's prompt extends the whole first exchange
    assert fake.prompts[1].startswith(fake.prompts[0] + "first answer")
    added = result.stderr.split("Prompt (step 1, added): ")[1]
    assert "second question" in added and "first question" not in added
    footers = [line for line in result.stderr.splitlines() if line.startswith("fake.gguf · ")]
    assert len(footers) == 2 and all(" · 1 step · 0 tool calls · " in f for f in footers)


def test_chat_exit_command_and_reset(echo: Path) -> None:
    fake = FakeBackend(["one", "two"])
    result = chat("-c", echo, input="question\n/reset\nagain\n\n/exit\nnever read\n", fake=fake)
    assert result.exit_code == 0
    assert "(conversation cleared)" in result.output and "never read" not in result.output
    assert "question" not in fake.prompts[1]  # the reset forgot the first exchange
    assert not fake.replies


def test_slash_commands_are_answered_locally(echo: Path) -> None:
    fake = FakeBackend(["only this"])
    script = "/help\n/tools\n/frobnicate now\n//etc is a folder\n"
    result = chat("-c", echo, input=script, fake=fake)
    assert result.exit_code == 0, result.output
    for command in ("/help", "/tools", "/reset", "/save", "/exit"):
        assert f"  {command} " in result.output
    assert "  Echo: " in result.output
    assert "Unknown command /frobnicate: /help lists the commands" in result.output
    assert len(fake.prompts) == 1  # only the // line went to the model, as "/etc ..."
    assert "/etc is a folder" in fake.prompts[0] and "frobnicate" not in fake.prompts[0]


def test_save_writes_the_conversation_as_json(echo: Path, tmp_path: Path) -> None:
    target = tmp_path / "chat.json"
    fake = FakeBackend(["USE_TOOL: Echo, value=hey", "it said hey"])
    result = chat(*DIRECTIVE, "-c", echo, input=f"say hey\n/save {target}\n/save\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert (
        f"(saved 5 messages to {target})" in result.output and "Usage: /save FILE" in result.output
    )
    saved = json.loads(target.read_text())
    assert saved["model"] == "fake.gguf" and len(saved["conversation_id"]) == 12
    assert [m["role"] for m in saved["messages"]][-1] == "assistant"
    (exchange,) = saved["exchanges"]
    assert exchange["answer"] == "it said hey"
    assert exchange["steps"][0]["calls"][0]["result"]["output"] == "hey"
    result = chat(
        *DIRECTIVE, "-c", echo, input=f"/save {tmp_path}/no/such/dir/x.json\n", fake=FakeBackend()
    )
    assert "Cannot write" in result.output and result.exit_code == 0


class CancelSecond(FakeBackend):
    """A backend whose second request is interrupted (Ctrl-C) mid-reply."""

    calls = 0

    def stream_prompt(self, prompt: Prompt, **options: Any) -> Any:
        self.calls += 1
        if self.calls == 2:
            self.prompts.append(prompt.text)
            yield "half a"
            raise KeyboardInterrupt
        return (yield from super().stream_prompt(prompt, **options))


def test_ctrl_c_cancels_the_turn_and_keeps_the_conversation(echo: Path) -> None:
    fake = CancelSecond(["first answer", "third answer"])
    result = chat("-c", echo, input="one\ntwo\nthree\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert "(cancelled: the conversation is as before this request)" in result.stderr
    assert "third answer" in result.stdout and result.stdout.rstrip().endswith("Bye.")
    third = fake.prompts[2]
    assert "one" in third and "first answer" in third and "three" in third
    assert "two" not in third and "half a" not in third  # the cancelled turn left no trace


class _Interrupted(io.RawIOBase):
    """A stdin whose read is interrupted, as by Ctrl-C at the prompt."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if len(buffer) == 0:  # click probing whether the stream is binary
            return 0
        raise KeyboardInterrupt


def test_ctrl_c_at_a_piped_prompt_ends_the_chat_cleanly(echo: Path) -> None:
    result = chat("-c", echo, input=_Interrupted(), fake=FakeBackend())
    assert result.exit_code == 0 and result.exception is None
    assert result.output.rstrip().endswith("Bye.")


def test_chat_is_logged_and_continues(echo: Path) -> None:
    result = chat("-c", echo, input="remember the word walrus\n", fake=FakeBackend(["ok"]))
    assert result.exit_code == 0, result.output
    fake = FakeBackend(["walrus"])
    result = chat("-c", echo, "--continue", input="which word?\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert "(continuing conversation " in result.output and "1 earlier exchange)" in result.output
    assert "remember the word walrus" in fake.prompts[0] and "which word?" in fake.prompts[0]


@pytest.mark.slow
def test_chat_with_the_tiny_model_reuses_the_kv_cache(tiny_model_path: Path, echo: Path) -> None:
    fast = ["--ctx", "2048", "--max-tokens", "32", "--seed", "5", "--threads", "2"]
    result = CliRunner().invoke(
        main,
        ["chat", "-m", str(tiny_model_path), "-c", str(echo), "--max-steps", "1", "-vv", *fast],
        input="first question\nsecond question\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    figures = [line for line in result.stderr.splitlines() if line.startswith("[step 1]")]
    assert len(figures) == 2
    cached = int(figures[1].split("(")[1].split(" ")[0])
    assert cached > 0


def test_terminal_approver_shows_the_request_escaped_and_takes_a_choice() -> None:
    request = ApprovalRequest(
        kind="capability",
        subject="Files",
        title="read \x1b]0;owned\x07/home",
        detail="line one\nline \x1b[2Jtwo",
        choices=("once", "session", "always", "deny"),
    )
    answers = iter(["maybe", "s"])
    asked: list[str] = []

    def read_line(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    runner = CliRunner()
    with runner.isolation() as (_, err, *_rest):
        assert TerminalApprover(read_line).ask(request) == "session"
        shown = err.getvalue().decode()
    assert "\x1b" not in shown and "\\x1b]0;owned\\x07/home" in shown
    assert "  line \\x1b[2Jtwo" in shown and "Please answer one of: once, session" in shown
    assert asked == ["Answer [once/session/always/deny]: "] * 2


def test_terminal_approver_refuses_on_eof() -> None:
    request = ApprovalRequest(
        kind="new_tool", subject="Sum", title="add a tool", choices=("approve", "reject")
    )

    def read_line(prompt: str) -> str:
        raise EOFError

    assert TerminalApprover(read_line).ask(request) == "reject"
    assert match_choice("a", ("approve", "always")) is None  # ambiguous
    assert match_choice("ALWAYS", ("approve", "always")) == "always"


def test_a_denied_capability_is_put_to_the_person(
    component_path: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # the directory a "once" grant mounts at /workspace
    (work / "hello.txt").write_text("hi\n")
    files = component_path("files")
    fake = FakeBackend(["USE_TOOL: Files, op=list", "One file."] * 2)
    result = chat(*DIRECTIVE, "-c", files, input="what is here?\nonce\nand now?\ndeny\n", fake=fake)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("Approval needed (capability, files): ") == 2
    assert "Answer [once/session/always/deny]: " in result.stderr
    assert "Execution result: .: 1 entry\nhello.txt (3 bytes)" in result.stderr
    assert "no directory is granted" in result.stderr  # the second time, refused


class InterruptedLoader(FakeLoader):
    """Ctrl-C while the model loads."""

    def load(self, settings: object, path: Path) -> FakeBackend:
        raise KeyboardInterrupt


def test_ctrl_c_while_the_model_loads_exits_130(echo: Path) -> None:
    result = CliRunner().invoke(
        main, ["chat", "-c", str(echo)], input="", obj=InterruptedLoader(FakeBackend())
    )
    assert result.exit_code == 130 and result.stderr.strip() == "Interrupted."
    assert "Aborted" not in result.output
