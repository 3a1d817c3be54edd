"""`agent models ...` through click's CliRunner, against the local fake hub."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fakehub import FakeHub

from agent.cli import main
from agent.cli.models import ProgressLine
from agent.errors import DownloadInterruptedError
from agent.models import DownloadProgress

PHI = "Phi-3-mini-4k-instruct-q4.gguf"
AGENT = Path(sys.executable).with_name("agent")  # the installed console script

Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    with FakeHub() as server:
        server.add("microsoft/Phi-3-mini-4k-instruct-gguf", PHI, b"GGUF phi" * 1000)
        server.add("tester/cli", "x.gguf", b"GGUF x")
        yield server


@pytest.fixture
def invoke(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run `agent ...` in-process, talking to the fake hub, with a fresh models dir."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("LLM_AGENT_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return run


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_list_shows_each_model_with_size_and_status(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / PHI).write_bytes(b"GGUF")

    result = invoke("models", "list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "CONTEXT", "SYNTAX", "LICENCE", "STATUS"]
    phi = next(line for line in lines if line.startswith("phi-mini-instruct"))
    assert "4 B" in phi and phi.endswith("downloaded")
    qwen = next(line for line in lines if line.startswith("qwen2.5-7b-instruct"))
    assert "4.7 GB" in qwen and qwen.endswith("missing")
    assert f"models dir: {tmp_path}" in result.stdout


def test_download_prints_the_path_and_is_idempotent(
    invoke: Invoke, hub: FakeHub, tmp_path: Path
) -> None:
    first = invoke("models", "download", "phi-mini-instruct")
    requests = len(hub.requests)
    second = invoke("models", "download", "phi-mini-instruct")

    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == str(tmp_path / PHI)
    assert first.stderr == ""  # not a terminal: no progress bar
    assert second.stdout == first.stdout
    assert len(hub.requests) == requests
    assert invoke("models", "path", "phi-mini-instruct").stdout.strip() == str(tmp_path / PHI)


def test_download_any_hub_file_into_an_explicit_dir(invoke: Invoke, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"

    result = invoke("models", "download", "tester/cli/x.gguf", "--models-dir", str(elsewhere))

    assert result.exit_code == 0, result.output
    assert (elsewhere / "x.gguf").read_bytes() == b"GGUF x"


def test_progress_can_be_forced_on(invoke: Invoke) -> None:
    result = invoke("models", "download", "tester/cli/x.gguf", "--progress")

    assert result.exit_code == 0, result.output
    assert "x.gguf  100.0%  6 B / 6 B" in result.stderr
    assert "verifying sha256" in result.stderr and result.stderr.endswith("\n")


def test_remove_then_path_fails_with_a_hint(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / PHI).write_bytes(b"GGUF")

    removed = invoke("models", "remove", "phi-mini-instruct")
    path = invoke("models", "path", "phi-mini-instruct")

    assert removed.exit_code == 0 and removed.stdout.strip() == f"removed {tmp_path / PHI}"
    assert "agent models download phi-mini-instruct" in _one_line_error(path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("download", "no-such-model"), "unknown model 'no-such-model'"),
        (("download", "tester/cli/absent.gguf"), "file absent.gguf in tester/cli not found"),
        (("download", "nobody/nothing/x.gguf"), "repository nobody/nothing not found"),
        (("remove", "qwen2.5-3b-instruct"), "is not downloaded"),
        (("path", "llama-3.2-1b-instruct"), "is not downloaded"),
    ],
)
def test_errors_are_one_line(invoke: Invoke, args: tuple[str, ...], expected: str) -> None:
    assert expected in _one_line_error(invoke("models", *args))


def test_offline_mode_fails_without_a_request(
    invoke: Invoke, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = len(hub.requests)

    line = _one_line_error(invoke("models", "download", "phi-mini-instruct"))

    assert "HF_HUB_OFFLINE" in line and "MODEL=path/to/file.gguf make run-agent" in line
    assert len(hub.requests) == before


def test_the_installed_command_fails_in_one_line_without_a_network(tmp_path: Path) -> None:
    """What `make run-agent` shows when the default model is missing and the hub is unreachable."""
    env = {
        **os.environ,
        "HF_ENDPOINT": "http://127.0.0.1:9",  # the discard port: connection refused
        "LLM_AGENT_MODELS_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [str(AGENT), "models", "download", "phi-mini-instruct"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: cannot reach the Hugging Face Hub (http://127.0.0.1:9")
    assert result.stderr.rstrip().endswith("run with MODEL=path/to/file.gguf make run-agent")
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_progress_line_shows_percent_size_speed_and_eta() -> None:
    event = DownloadProgress(
        filename="m.gguf", phase="download", done=600_000_000, total=2_400_000_000, resumed_from=0
    )
    line = ProgressLine.render(event, elapsed_s=20.0)
    assert line == "m.gguf   25.0%  600.0 MB / 2.4 GB  30.0 MB/s  ETA 1:00"

    out = io.StringIO()
    bar = ProgressLine(out, interval_s=0)
    bar(event)
    bar.close()
    assert out.getvalue().startswith("\rm.gguf") and out.getvalue().endswith("\n")


def test_speed_counts_only_the_bytes_of_this_run() -> None:
    event = DownloadProgress(
        filename="m.gguf", phase="download", done=1_100_000, total=None, resumed_from=1_000_000
    )
    assert ProgressLine.render(event, elapsed_s=1.0) == "m.gguf  1.1 MB  100.0 KB/s"


def test_no_speed_is_shown_before_it_means_anything() -> None:
    event = DownloadProgress(filename="m.gguf", phase="download", done=10, total=100)
    assert ProgressLine.render(event, elapsed_s=0.01) == "m.gguf   10.0%  10 B / 100 B"


def test_ctrl_c_during_a_download_exits_130_with_one_line(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(name: str, **_: object) -> Path:
        raise DownloadInterruptedError(f"{name}.gguf", "models/.partial/x.incomplete", 5_000_000)

    monkeypatch.setattr("agent.cli.models.download_model", interrupted)

    result = invoke("models", "download", "phi-mini-instruct")

    assert result.exit_code == 130
    assert result.stderr.strip() == (
        "Error: download of phi-mini-instruct.gguf failed: interrupted after 5.0 MB "
        "(partial file kept at models/.partial/x.incomplete; rerun to resume)"
    )


def test_a_real_ctrl_c_keeps_the_partial_file_and_a_rerun_resumes(
    hub: FakeHub, tmp_path: Path
) -> None:
    """SIGINT to the installed command while the hub is mid-transfer: exit 130, one line, the
    partial file kept outside the final name; the next run fetches only the rest."""
    data = os.urandom(2 << 20)
    hub.add("tester/stall", "stall.gguf", data, stall_at=1 << 20)
    env = {**os.environ, "HF_ENDPOINT": hub.url, "LLM_AGENT_MODELS_DIR": str(tmp_path)}
    command = [str(AGENT), "models", "download", "tester/stall/stall.gguf"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    partial_dir = tmp_path / ".partial"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partials = list(partial_dir.glob("stall.gguf.*")) if partial_dir.is_dir() else []
        if partials and partials[0].stat().st_size == 1 << 20:
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the download never reached the stall")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("Error: download of stall.gguf failed: interrupted after 1.0 MB")
    assert "rerun to resume" in stderr
    assert not (tmp_path / "stall.gguf").exists()
    assert partials[0].stat().st_size == 1 << 20

    hub.add("tester/stall", "stall.gguf", data)  # no stall this time
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "stall.gguf").read_bytes() == data
    ranges = [r.range for r in hub.requests if r.path.endswith("/stall.gguf") and r.method == "GET"]
    assert ranges[-1] == f"bytes={1 << 20}-"
    assert not partial_dir.exists() or list(partial_dir.iterdir()) == []
