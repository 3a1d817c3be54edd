"""docs/usage.md stays true: it names every setting's variable and every exit code, and its
config and policy examples load with the real loaders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.cli.run import EXIT_CODES, EXIT_DENIED, EXIT_INTERRUPTED
from agent.config import ENV_PREFIX, AgentSettings, read_config_file, resolve_settings
from tool_runner import Policy


@pytest.fixture(scope="module")
def usage(repo_root: Path) -> str:
    return (repo_root / "docs" / "usage.md").read_text(encoding="utf-8")


def _example(usage: str, name: str) -> str:
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```toml\n(.*?)```", usage, re.S)
    assert found is not None, f"no {name} example in docs/usage.md"
    return found.group(1)


def test_every_setting_has_its_variable_in_the_doc(usage: str) -> None:
    missing = [
        ENV_PREFIX + name.upper()
        for name in AgentSettings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in usage
    ]
    assert missing == []


def test_every_exit_code_is_in_the_doc(usage: str) -> None:
    for code in (0, 1, 2, *EXIT_CODES.values(), EXIT_DENIED, EXIT_INTERRUPTED):
        assert re.search(rf"^\| {code} \| ", usage, re.M), code


def test_the_config_example_loads(usage: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(_example(usage, "config.toml"))
    assert read_config_file(path)["max_steps"] == 8
    settings = resolve_settings({}, config_file=path)
    assert settings.model == "qwen2.5-1.5b-instruct" and settings.ctx == 8192
    assert settings.dirs == ("files=~/notes:/data:ro",) and settings.timeout == 20


def test_the_policy_example_loads(usage: str, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(_example(usage, "policy.toml"))
    policy = Policy.from_file(path)
    files = policy.for_tool("files")
    mounts = [(d.guest, d.writable) for d in files.dirs]
    assert mounts == [("/workspace", False), ("/scratch", True)]
    assert policy.for_tool("http-get").http_hosts == ("example.org:443",)
    assert policy.limits.timeout_s == 10.0 and policy.for_tool("echo").dirs == ()


def test_shell_completion_works_as_documented(usage: str) -> None:
    assert "_AGENT_COMPLETE=bash_source agent" in usage
    result = CliRunner().invoke(main, [], prog_name="agent", env={"_AGENT_COMPLETE": "bash_source"})
    assert result.exit_code == 0 and "_agent_completion" in result.output
    result = CliRunner().invoke(
        main,
        [],
        prog_name="agent",
        env={"_AGENT_COMPLETE": "bash_complete", "COMP_WORDS": "agent lo", "COMP_CWORD": "1"},
    )
    assert result.output.strip() == "plain,logs"


def test_the_readme_links_the_usage_page(repo_root: Path) -> None:
    assert "docs/usage.md" in (repo_root / "README.md").read_text(encoding="utf-8")
