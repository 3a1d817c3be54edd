"""Untrusted text cannot drive the terminal: control characters are printed as visible escapes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tool_runner import for_terminal

TITLE = "\x1b]0;pwned\x07"  # sets the window title
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes the clipboard (OSC 52)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (TITLE, "\\x1b]0;pwned\\x07"),
        (CLIPBOARD, "\\x1b]52;c;cm0gLXJmIH4=\\x07"),
        ("ok\rfake", "ok\\rfake"),  # overwriting the line
        ("\x9b2J", "\\x9b2J"),  # C1 CSI: clears the screen on some terminals
        ("abc\u202edcba", "abc\\u202edcba"),  # a right-to-left override
        ("del\x7f", "del\\x7f"),
    ],
)
def test_control_characters_become_visible(text: str, shown: str) -> None:
    assert for_terminal(text) == shown


def test_plain_text_newlines_and_tabs_are_kept() -> None:
    text = "Ünïcode, émoji 😀\n\tindented\n"
    assert for_terminal(text) == text


def test_every_control_character_is_escaped() -> None:
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:
        if chr(code) in "\n\t":
            continue
        shown = for_terminal(chr(code))
        assert shown.startswith("\\") and all(0x20 <= ord(c) < 0x7F for c in shown), code


def test_tool_runner_prints_a_hostile_output_escaped(
    component_path: Callable[[str], Path],
) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tool-runner")), "-c", str(component_path("echo")),
         "--value", f"before{TITLE}after", "--in-process"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "[Success] Tool output: before\\x1b]0;pwned\\x07after" in done.stdout
