"""Settings resolution (defaults < config file < environment < flags) and the tool executor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import AgentSettings, resolve_settings
from agent.errors import ConfigError
from agent.executor import component_paths, open_executor
from agent.messages import ToolCall
from agent.session import sandbox_policy
from tool_runner import LoadError, Policy, ResultKind


def test_defaults() -> None:
    settings = resolve_settings({})
    assert settings == AgentSettings()
    assert settings.loop().max_steps == 5 and settings.loop().grammar is None
    assert settings.model_settings(Path("m.gguf")).gpu_layers == -1


def test_layers_override_in_order(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("max_steps = 7\ntemperature = 0.5\ntop-k = 3\n")
    environ = {"LLM_AGENT_TEMPERATURE": "0.9", "LLM_AGENT_ALLOW_HOSTS": "a.com,b.com"}
    settings = resolve_settings({"top_k": 9, "seed": None}, config_file=config, environ=environ)
    assert settings.max_steps == 7  # file
    assert settings.temperature == 0.9  # environment beats file
    assert settings.top_k == 9  # flag beats file
    assert settings.allow_hosts == ("a.com", "b.com")
    assert settings.sampling().temperature == 0.9


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('[agent]\nsyntax = "hermes"\n')
    settings = resolve_settings({}, environ={"LLM_AGENT_CONFIG": str(config)})
    assert settings.syntax == "hermes"


@pytest.mark.parametrize(
    ("flags", "environ", "text", "message"),
    [
        ({"max_steps": 0}, {}, None, "invalid max_steps in command line"),
        ({}, {"LLM_AGENT_CTX": "lots"}, None, "invalid ctx in environment"),
        ({}, {}, "bogus = 1\n", "unknown setting 'bogus' in config file"),
        ({}, {}, "max_steps = [\n", "cannot parse config file"),
        ({}, {}, 'syntax = "klingon"\n', "invalid syntax in config file"),
    ],
)
def test_bad_settings_name_their_source(
    tmp_path: Path, flags: dict[str, object], environ: dict[str, str], text: str | None,
    message: str,
) -> None:  # fmt: skip
    config = None
    if text is not None:
        config = tmp_path / "agent.toml"
        config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve_settings(flags, config_file=config, environ=environ)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        resolve_settings({}, config_file=tmp_path / "none.toml")


def test_policy_from_flags_on_top_of_a_file(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('http_hosts = ["a.com"]\n[limits]\ntimeout_s = 3\n')
    settings = AgentSettings(
        policy=policy_file,
        dirs=(str(tmp_path),),
        env=("HOME", "GREETING=hi"),
        allow_hosts=("b.com",),
        memory=64,
        fuel=1000,
        max_output=2048,
        inherit_stdio=True,
    )
    policy = sandbox_policy(settings)
    assert policy.http_hosts == ("a.com", "b.com")
    assert policy.limits.timeout_s == 3 and policy.limits.memory_mib == 64
    assert policy.limits.fuel == 1000 and policy.limits.max_output_bytes == 2048
    assert policy.inherit_stdio
    assert policy.env == ("HOME",) and policy.env_values == {"GREETING": "hi"}
    assert policy.dirs[0].guest == "/workspace"
    assert sandbox_policy(AgentSettings()) == Policy()


def test_bad_policy_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid environment|env"):
        sandbox_policy(AgentSettings(env=("1BAD",)))
    with pytest.raises(ConfigError, match="cannot read policy"):
        sandbox_policy(AgentSettings(policy=tmp_path / "none.toml"))


def test_component_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make components"):
        component_paths((), tmp_path / "missing")
    with pytest.raises(ConfigError, match="no components"):
        component_paths((), tmp_path)
    (tmp_path / "b.wasm").write_bytes(b"")
    (tmp_path / "a.wasm").write_bytes(b"")
    assert component_paths((), tmp_path) == [tmp_path / "a.wasm", tmp_path / "b.wasm"]
    assert component_paths((Path("x.wasm"),), tmp_path) == [Path("x.wasm")]


def test_executor_runs_the_real_echo_and_refuses_unknown_tools(
    component_path: Callable[[str], Path],
) -> None:
    echo = component_path("echo")
    with open_executor([echo], echo.parent, Policy()) as executor:
        assert [spec.name for spec in executor.specs()] == ["Echo"]
        ok = executor.execute(ToolCall(id="1", name="Echo", arguments={"value": "a, b"}))
        assert ok.ok and ok.output == "a, b"
        lower = executor.execute(ToolCall(id="2", name="echo", arguments={"value": "x"}))
        assert lower.ok and lower.output == "x"
        missing = executor.execute(ToolCall(id="3", name="Echo", arguments={}))
        assert missing.kind is ResultKind.INVALID_ARGUMENTS and "value" in (missing.error or "")
        unknown = executor.execute(ToolCall(id="4", name="Shout", arguments={}))
        assert unknown.kind is ResultKind.UNKNOWN_TOOL and unknown.error == (
            "unknown tool 'Shout'; the available tools are: Echo"
        )


def test_the_same_tool_twice_is_a_load_error(component_path: Callable[[str], Path]) -> None:
    echo = component_path("echo")
    with (
        pytest.raises(LoadError, match="already used"),
        open_executor([echo, echo], echo.parent, Policy()),
    ):
        pass


def test_the_settings_name_every_sandbox_flag_as_tool_runner_does() -> None:
    from tool_runner import SANDBOX_PARAMS

    # `--policy` is `policy` in the settings and the config file; sandbox_policy maps it
    assert set(SANDBOX_PARAMS) - {"policy_file"} <= set(AgentSettings.model_fields)
