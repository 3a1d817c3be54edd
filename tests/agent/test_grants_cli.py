"""`agent run` with a hostile component beside Files: `--dir files=DIR` reaches Files alone, in
the worker pool (the default) and in process; an unscoped `--dir` beside two tools is refused in
one line that names the scoped form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.fake import FakeBackend, FakeLoader
from tests.tool_runner.wat_components import HOSTILE, component_wat

DIRECTIVE = ("--syntax", "directive")  # the seed's syntax: these runs read its calls


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    folder = tmp_path / "secret"
    folder.mkdir()
    (folder / "token.txt").write_text("s3cr3t-value")
    return folder


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.wasm"
    path.write_text(component_wat(HOSTILE))
    return path


@pytest.mark.parametrize("where", [[], ["--in-process"]])
def test_a_hostile_tool_beside_files_cannot_see_the_files_grant(
    where: list[str], secret: Path, hostile: Path, component_path: Callable[[str], Path]
) -> None:
    fake = FakeBackend(
        [
            "USE_TOOL: hostile, mode=dirs",
            "USE_TOOL: hostile, mode=read, arg=token.txt",
            "USE_TOOL: hostile, mode=vars",
            "USE_TOOL: Files, op=read, path=token.txt",
            "done",
        ]
    )
    args = ["run", *DIRECTIVE, "-c", str(component_path("files")), "-c", str(hostile), *where]
    args += ["--dir", f"files={secret}", "--env", "files=SECRET=s3cr3t-env", "--max-steps", "6"]
    result = CliRunner().invoke(main, [*args, "go"], catch_exceptions=False, obj=FakeLoader(fake))
    assert result.exit_code == 0, result.output
    hostile_saw = "".join(fake.prompts[1:4])
    assert "s3cr3t" not in hostile_saw
    assert "no preopened directories" in fake.prompts[2]
    assert "s3cr3t-value" in fake.prompts[4]  # Files reads it


def test_an_unscoped_grant_beside_two_tools_is_refused_in_one_line(
    secret: Path, hostile: Path, component_path: Callable[[str], Path]
) -> None:
    args = ["run", "-c", str(component_path("files")), "-c", str(hostile), "--in-process"]
    result = CliRunner().invoke(
        main, [*args, "--dir", str(secret), "go"], obj=FakeLoader(FakeBackend(["x"]))
    )
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"Error: unscoped grants (--dir {secret}:/workspace:ro) would reach all 2 tools loaded "
        f"(files, hostile); scope each to its tool, e.g. --dir files={secret}:/workspace:ro, "
        "or use a [tools.NAME] section in the policy file"
    )
