"""Grants per tool: a hostile component loaded beside Files with `--dir files=DIR` sees neither
DIR nor Files' environment, in process and in worker processes; unscoped grants beside a second
tool are refused; network grants name host and port, refuse private addresses reached by name,
and pin the resolved address."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from fast_limits import FAST_LIMITS

from tool_runner import (
    Policy,
    PolicyError,
    PoolSettings,
    ResultKind,
    ToolRunner,
    WorkerPool,
)
from tool_runner.grants import load_name, normalise_host, scope_of
from tool_runner.host import HttpDenied, check_url, pinned_address
from tool_runner.policy import policy_from_options

CACHE = None  # tool_runner's default: the suite's shared compile cache (see tests/conftest.py)


@pytest.fixture
def secret_dir(tmp_path: Path) -> Path:
    """A directory only Files is granted, holding a secret."""
    folder = tmp_path / "secret"
    folder.mkdir()
    (folder / "token.txt").write_text("s3cr3t")
    return folder


@pytest.fixture
def pair(tmp_path: Path, hostile_path: Path, component_path: Callable[[str], Path]) -> list[Path]:
    """Files and the hostile component, side by side."""
    hostile = tmp_path / "hostile.wat"
    shutil.copy(hostile_path, hostile)
    return [component_path("files"), hostile]


def _scoped(secret_dir: Path) -> Policy:
    return policy_from_options(
        dirs=[f"files={secret_dir}"], env=["files=SECRET_TOKEN=abc"]
    ).updated(limits=FAST_LIMITS.model_copy(update={"timeout_s": 5.0, "memory_mib": 256}))


def _assert_hostile_sees_nothing(call: Callable[[str, dict[str, str]], str]) -> None:
    assert call("hostile", {"mode": "dirs"}) == ""
    assert call("hostile", {"mode": "vars"}) == ""
    assert "no preopened directories" in call("hostile", {"mode": "read", "arg": "token.txt"})


def test_a_hostile_tool_beside_files_cannot_see_its_directory_in_process(
    tmp_path: Path, pair: list[Path], secret_dir: Path
) -> None:
    with ToolRunner(policy=_scoped(secret_dir), cache_dir=CACHE) as runner:
        files, hostile = runner.load_all(pair)
        assert (files.key, hostile.key) == ("files", "hostile")
        assert [d.host for d in files.policy.dirs] == [secret_dir]
        assert files.policy.env_values == {"SECRET_TOKEN": "abc"}
        assert hostile.policy.dirs == () and hostile.policy.env_values == {}
        listed = files.call({"op": "list", "path": "."})
        assert "token.txt" in (listed.output or ""), listed.error

        def call(name: str, args: dict[str, str]) -> str:
            result = hostile.call(args)
            return result.text

        _assert_hostile_sees_nothing(call)


def test_a_hostile_tool_beside_files_cannot_see_its_directory_in_workers(
    tmp_path: Path, pair: list[Path], secret_dir: Path
) -> None:
    settings = PoolSettings(workers=1)
    with WorkerPool(pair, _scoped(secret_dir), cache_dir=CACHE, settings=settings) as pool:
        assert "token.txt" in (pool.call("Files", {"op": "list", "path": "."}).output or "")

        def call(name: str, args: dict[str, str]) -> str:
            return pool.call(name, args).text

        _assert_hostile_sees_nothing(call)
        # the policy a call brings is split per tool the same way
        again = pool.call("hostile", {"mode": "dirs"}, policy=_scoped(secret_dir))
        assert again.kind is ResultKind.SUCCESS and again.output == ""


def test_a_tool_claiming_another_tools_name_gets_only_its_own_grants(
    tmp_path: Path, component_path: Callable[[str], Path], secret_dir: Path
) -> None:
    # an impostor: Files' own bytes, loaded under another name, claims the name "Files"
    impostor = tmp_path / "impostor.wasm"
    shutil.copy(component_path("files"), impostor)
    with ToolRunner(policy=_scoped(secret_dir), cache_dir=CACHE) as runner:
        tool = runner.load(impostor, alone=False)
        assert tool.name == "Files" and tool.key == "impostor"
        assert tool.policy.dirs == ()
        assert not tool.call({"op": "list", "path": "."}).ok


def test_a_grant_keyed_by_digest_reaches_those_bytes_only(
    tmp_path: Path, pair: list[Path], secret_dir: Path
) -> None:
    with ToolRunner(policy=Policy(), cache_dir=CACHE) as runner:
        digest = runner.load(pair[0]).digest
    policy = Policy.model_validate(
        {"tools": {f"sha256:{digest}": {"dirs": [{"host": str(secret_dir)}]}}}
    )
    with ToolRunner(policy=policy, cache_dir=CACHE) as runner:
        files, hostile = runner.load_all(pair)
        assert [d.host for d in files.policy.dirs] == [secret_dir]
        assert hostile.policy.dirs == ()


def test_an_unscoped_grant_beside_a_second_tool_is_refused_with_a_hint(
    tmp_path: Path, pair: list[Path], secret_dir: Path
) -> None:
    policy = policy_from_options(dirs=[str(secret_dir)])
    with ToolRunner(policy=policy, cache_dir=CACHE) as runner:
        with pytest.raises(PolicyError) as info:
            runner.load_all(pair)
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(f"unscoped grants (--dir {secret_dir}:/workspace:ro) would")
        assert f"e.g. --dir files={secret_dir}:/workspace:ro" in message
        # alone, the same grant is the tool's
        (alone,) = runner.load_all(pair[:1])
        assert [d.host for d in alone.policy.dirs] == [secret_dir]


def test_an_unscoped_grant_is_refused_by_the_worker_pool_too(
    tmp_path: Path, pair: list[Path], secret_dir: Path
) -> None:
    with pytest.raises(PolicyError, match="would reach all 2 tools"):
        WorkerPool(pair, policy_from_options(env=["HOME"]), cache_dir=CACHE)


@pytest.mark.parametrize(
    ("spec", "kind", "expected"),
    [
        ("files=/tmp", "dir", ("files", "/tmp")),
        ("/tmp:/data:rw", "dir", (None, "/tmp:/data:rw")),
        ("./a=b", "dir", (None, "./a=b")),
        ("http-get=example.org:443", "host", ("http-get", "example.org:443")),
        ("http-get=API_TOKEN", "env", ("http-get", "API_TOKEN")),
        ("files=HOME=/x", "env", ("files", "HOME=/x")),
        ("MODE=test", "env", (None, "MODE=test")),
        ("HOME", "env", (None, "HOME")),
    ],
)
def test_scoped_grant_specs(spec: str, kind: str, expected: tuple[str | None, str]) -> None:
    assert scope_of(spec, kind) == expected


def test_load_names_come_from_the_file_not_the_component() -> None:
    assert load_name("components/files-tool-component.wasm") == "files"
    assert load_name("x/http-get-tool-component.wasm") == "http-get"
    assert load_name("hostile.wat") == "hostile"
    assert load_name("my-component.wasm") == "my"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM", "example.com"),
        ("[0:0::1]:8080", "[::1]:8080"),
        ("::FFFF:1.2.3.4", "[::ffff:102:304]"),
        ("127.0.0.1:80", "127.0.0.1:80"),
    ],
)
def test_hosts_are_normalised(text: str, expected: str) -> None:
    assert normalise_host(text) == expected


@pytest.mark.parametrize("text", ["http://x.com", "a:0", "a:65536", "x..y", "127.000.0.1", "[zz]"])
def test_bad_hosts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        normalise_host(text)


def test_a_grant_names_host_and_port() -> None:
    policy = Policy(http_hosts=("example.org", "api.example.org:8443", "[::1]:9000"))
    assert check_url(policy, "https://example.org/x").hostname == "example.org"
    assert check_url(policy, "http://EXAMPLE.org:80/").hostname == "example.org"
    assert check_url(policy, "https://api.example.org:8443/").port == 8443
    assert check_url(policy, "http://[0::1]:9000/").port == 9000
    for url in ("http://example.org:8080/", "https://api.example.org/", "http://[::1]:9001/"):
        with pytest.raises(HttpDenied, match="is not allowed; allow it with --allow-host"):
            check_url(policy, url)


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    with pytest.raises(HttpDenied) as info:
        pinned_address("localhost", 8080)
    assert "a loopback or private address" in str(info.value)
    assert "--allow-host 127.0.0.1:8080" in str(info.value) or "[::1]:8080" in str(info.value)
    # granted by address, it is used as granted
    assert pinned_address("127.0.0.1", 8080) == "127.0.0.1"
    assert pinned_address("[::1]", 8080) == "::1"


def test_every_connection_checks_the_address_it_connects_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter(["93.184.215.14", "127.0.0.1"])  # a rebinding resolver

    def resolve(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert pinned_address("rebind.example", 80) == "93.184.215.14"
    with pytest.raises(HttpDenied, match="resolves to 127.0.0.1"):
        pinned_address("rebind.example", 80)
