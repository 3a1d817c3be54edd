"""Building components with componentize-py, and the prebuilt Python runner.

The runner (`wit-lib/superagent/runner/app.py`, world `superagent:functions/host`) is built
once per version of its sources and componentize-py, and kept as
`python-runner-<key>.wasm` with its sha256 beside it (`.sha256`); a kept runner whose bytes no
longer match is rebuilt. Every self-built tool is this component plus the tool's source.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from agent.toolsmith.errors import BuildError

SUPERAGENT_WIT = Path(__file__).resolve().parents[2] / "wit-lib" / "superagent"
RUNNER_APP = SUPERAGENT_WIT / "runner"
WORLD = "host"
BUILD_TIMEOUT_S = 600.0
MAX_ERROR_LINES = 6


def componentize_py() -> Path:
    """componentize-py beside this Python (the project's dev dependency); raises BuildError."""
    found = Path(sys.executable).parent / "componentize-py"
    if not found.is_file():
        raise BuildError(
            "componentize-py is not installed (pip install componentize-py==0.25.1, the dev extra)"
        )
    return found


def componentize(app_dirs: list[Path], module: str, out: Path) -> None:
    """Build `module` (found on `app_dirs`) into the component `out` of the superagent world;
    raises BuildError with the first useful lines of componentize-py's output."""
    command = [str(componentize_py()), "-q", "-d", str(SUPERAGENT_WIT), "-w", WORLD, "componentize"]
    for directory in app_dirs:
        command += ["-p", str(directory)]
    command += [module, "-o", str(out)]
    with tempfile.TemporaryDirectory(prefix="no-site-") as no_site:
        # componentize-py bundles $VIRTUAL_ENV's site-packages: an empty one keeps it to the app
        (Path(no_site) / "lib" / "site-packages").mkdir(parents=True)
        env = {**os.environ, "VIRTUAL_ENV": no_site}
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise BuildError(f"componentize-py took longer than {BUILD_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        raise BuildError("componentize-py failed: " + first_lines(done.stderr or done.stdout))


def first_lines(text: str, limit: int = MAX_ERROR_LINES) -> str:
    """The last `limit` non-empty lines of `text` (where a traceback says what went wrong)."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-limit:]) or "(no output)"


def sha256_file(path: Path) -> str:
    """The sha256 (hex) of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def runner_key() -> str:
    """What the runner is built from: its sources and componentize-py's version (16 hex)."""
    digest = hashlib.sha256()
    for path in (SUPERAGENT_WIT / "function.wit", RUNNER_APP / "app.py"):
        digest.update(path.read_bytes())
    try:
        digest.update(importlib.metadata.version("componentize-py").encode())
    except importlib.metadata.PackageNotFoundError:
        raise BuildError(
            "componentize-py is not installed (pip install componentize-py==0.25.1, the dev extra)"
        ) from None
    return digest.hexdigest()[:16]


def ensure_runner(directory: Path) -> Path:
    """The runner component in `directory`, built when missing or when its bytes do not match
    its recorded sha256 (`runner_digest` then reads it); raises BuildError."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"python-runner-{runner_key()}.wasm"
    recorded = path.with_suffix(".sha256")
    if path.is_file() and recorded.is_file() and recorded.read_text().strip() == sha256_file(path):
        return path
    with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as work:
        built = Path(work) / "runner.wasm"
        componentize([RUNNER_APP], "app", built)
        recorded.write_text(sha256_file(built) + "\n")
        built.replace(path)
    return path


def runner_digest(path: Path) -> str:
    """The sha256 recorded beside a runner that `ensure_runner` just returned (and checked)."""
    return path.with_suffix(".sha256").read_text().strip()
