"""The sandbox policy: defaults deny everything; files and flags are validated with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tool_runner import DirGrant, Limits, Policy, PolicyError, policy_from_options
from tool_runner.options import SANDBOX_PARAMS, policy_from_params, sandbox_options
from tool_runner.policy import parse_env


def test_default_policy_grants_nothing() -> None:
    policy = Policy()
    assert (policy.env, policy.env_values, policy.dirs, policy.http_hosts) == ((), {}, (), ())
    assert policy.inherit_stdio is False and policy.reuse_instance is False
    assert policy.limits == Limits(timeout_s=10.0, memory_mib=256, max_output_bytes=1024 * 1024)
    assert policy.environment({"HOME": "/root", "PATH": "/bin"}) == []


def test_toml_and_json_files(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    toml = tmp_path / "policy.toml"
    toml.write_text(
        f"""
env = ["LANG"]
http_hosts = ["Example.COM", "localhost:8080"]
[env_values]
MODE = "test"
[[dirs]]
host = "{workspace}"
writable = true
[limits]
timeout_s = 2.5
[tool_limits.Echo]
memory_mib = 32
"""
    )
    policy = Policy.from_file(toml)
    assert policy.http_hosts == ("example.com", "localhost:8080")
    assert policy.dirs == (DirGrant(host=tmp_path / "ws", guest="/workspace", writable=True),)
    assert policy.limits_for("Echo").memory_mib == 32
    assert policy.limits_for("Other").timeout_s == 2.5
    assert policy.environment({"LANG": "C", "HOME": "/root"}) == [("LANG", "C"), ("MODE", "test")]
    json_file = tmp_path / "policy.json"
    json_file.write_text(policy.model_dump_json())
    assert Policy.from_file(json_file) == policy


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.toml", "limits = [", "cannot parse policy"),
        ("p.json", "{", "cannot parse policy"),
        ("p.json", "[1]", "expected a table/object at the top level"),
        ("p.toml", "network = true", "network: Extra inputs are not permitted"),
        ("p.toml", "[limits]\ntimeout_s = -1", "limits.timeout_s: Input should be greater than 0"),
        ("p.toml", 'env = ["A=B"]', "invalid environment variable name 'A=B'"),
        ("p.toml", 'http_hosts = ["http://x.com"]', "invalid host 'http://x.com'"),
        ("p.toml", '[[dirs]]\nhost = "/definitely/missing"', "is not a directory"),
    ],
)
def test_bad_policy_files_fail_with_one_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(PolicyError) as info:
        Policy.from_file(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        Policy.from_file(tmp_path / "nope.toml")


def test_dir_grant_specs(tmp_path: Path) -> None:
    assert DirGrant.parse(str(tmp_path)) == DirGrant(host=tmp_path)
    assert DirGrant.parse(f"{tmp_path}:/data:rw") == DirGrant(
        host=tmp_path, guest="/data", writable=True
    )
    assert DirGrant.parse(f"{tmp_path}:ro").writable is False
    assert DirGrant.parse(f"{tmp_path}:data").guest == "/data"
    for bad in (":/x", f"{tmp_path}:/a:/b", f"{tmp_path / 'missing'}"):
        with pytest.raises(PolicyError, match="invalid directory grant"):
            DirGrant.parse(bad)


def test_env_specs() -> None:
    assert parse_env("HOME") == ("HOME", None)
    assert parse_env("A=b=c") == ("A", "b=c")
    assert parse_env("EMPTY=") == ("EMPTY", "")
    with pytest.raises(PolicyError, match="invalid environment variable"):
        parse_env("1BAD")


def test_updated_validates(tmp_path: Path) -> None:
    assert Policy().updated(http_hosts=["a.org"]).http_hosts == ("a.org",)
    with pytest.raises(PolicyError, match="invalid policy: limits.memory_mib"):
        Policy().updated(limits={"memory_mib": 0})


def test_with_grants_adds_flags_on_top_of_a_file(tmp_path: Path) -> None:
    base = Policy(
        env=["LANG"],
        http_hosts=["a.org"],
        limits=Limits(timeout_s=5),
        tool_limits={"Echo": Limits(memory_mib=32)},
    )
    policy = base.with_grants(
        limits={"timeout_s": 1.5, "memory_mib": None},
        dirs=[f"{tmp_path}:/data:rw"],
        env=["HOME", "MODE=x"],
        http_hosts=["b.org"],
        inherit_stdio=True,
    )
    assert policy.env == ("LANG", "HOME") and policy.env_values == {"MODE": "x"}
    assert policy.http_hosts == ("a.org", "b.org")
    assert policy.dirs == (DirGrant(host=tmp_path, guest="/data", writable=True),)
    # A flag limit overrides every per-tool entry too; unset flags keep the file's values.
    assert policy.limits_for("Other").timeout_s == 1.5
    assert policy.limits_for("Echo") == Limits(timeout_s=1.5, memory_mib=32)
    assert policy.inherit_stdio is True
    assert base.with_grants() is base
    with pytest.raises(PolicyError, match="invalid policy: limits.timeout_s"):
        base.with_grants(limits={"timeout_s": 0})


def test_policy_from_options_reads_the_file_then_adds_the_flags(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('http_hosts = ["a.org"]\n[limits]\ntimeout_s = 5\n')
    policy = policy_from_options(
        policy_file, env=["HOME"], http_hosts=["b.org"], memory_mib=32, fuel=1000
    )
    assert policy.http_hosts == ("a.org", "b.org") and policy.env == ("HOME",)
    assert policy.limits == Limits(timeout_s=5, memory_mib=32, fuel=1000)
    assert policy_from_options() == Policy()
    with pytest.raises(PolicyError, match=r"^cannot read policy .*none\.toml"):
        policy_from_options(tmp_path / "none.toml")
    with pytest.raises(PolicyError, match="invalid directory grant"):
        policy_from_options(dirs=[":rw"])


def test_sandbox_options_give_the_same_policy_as_the_function(tmp_path: Path) -> None:
    seen: list[Policy] = []

    @click.command()
    @sandbox_options
    def command(**params: Any) -> None:
        assert set(params) == set(SANDBOX_PARAMS)
        seen.append(policy_from_params(params))

    flags = ["--dir", f"{tmp_path}:/data:rw", "--env", "A=1", "--allow-host", "b.org"]
    flags += ["--timeout", "2", "--memory", "8", "--fuel", "9", "--max-output", "10"]
    result = CliRunner().invoke(command, [*flags, "--inherit-stdio"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen == [
        policy_from_options(
            dirs=[f"{tmp_path}:/data:rw"],
            env=["A=1"],
            http_hosts=["b.org"],
            timeout_s=2,
            memory_mib=8,
            fuel=9,
            max_output_bytes=10,
            inherit_stdio=True,
        )
    ]
    CliRunner().invoke(command, [], catch_exceptions=False)
    assert seen[-1] == Policy()


def test_a_section_per_tool_from_toml_and_scoped_flags(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    digest = "ab" * 32
    toml = tmp_path / "policy.toml"
    toml.write_text(
        f"""
[tools.files]
dirs = [{{ host = "{notes}", guest = "/workspace" }}]
[tools.http-get]
http_hosts = ["Example.ORG", "[0:0::1]:8080"]
env = ["API_TOKEN"]
[tools."sha256:{digest}"]
env_values = {{ MODE = "x" }}
[tools.files.limits]
timeout_s = 2.5
"""
    )
    policy = policy_from_options(
        toml, dirs=[f"files={tmp_path}:/more"], http_hosts=["http-get=api.example.org:8443"]
    )
    files = policy.for_tool("files", alone=False)
    assert [(d.host, d.guest) for d in files.dirs] == [(notes, "/workspace"), (tmp_path, "/more")]
    assert files.limits.timeout_s == 2.5 and files.tools == {} and files.http_hosts == ()
    http = policy.for_tool("http-get", digest, alone=False)
    assert http.http_hosts == ("example.org", "[::1]:8080", "api.example.org:8443")
    assert (http.env, http.env_values, http.dirs) == (("API_TOKEN",), {"MODE": "x"}, ())
    assert policy.for_tool("other", alone=False).http_hosts == ()
    assert policy.needs_digest


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[tools.'a/b']\nenv = []", "invalid tool key 'a/b'"),
        ("[tools.'sha256:12']\nenv = []", "invalid tool key 'sha256:12'"),
        ("[pins]\nfiles = 'xyz'", "invalid sha256 'xyz' for 'files'"),
        ("[tools.files]\nhttp_hosts = ['a:99999']", "invalid host 'a:99999'"),
    ],
)
def test_bad_tool_sections_fail_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(content)
    with pytest.raises(PolicyError) as info:
        Policy.from_file(path)
    assert message in str(info.value) and "\n" not in str(info.value)
