"""`tool-runner` exits cleanly: no tokio panic and no abort at interpreter shutdown.

wasmtime releases a store's output sinks from its own threads; one released while Python shuts
down aborted the process after a correct result (rc 134, "panic in a function that cannot
unwind"), in a few runs out of a hundred. The suite never exits between calls, so this runs the
real command in subprocesses, two at a time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RUNS = 4  # per command; about 1 s each, two at a time


def _run(argv: list[str]) -> tuple[int, str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stderr


def test_the_cli_exits_without_a_panic(
    tmp_path: Path, component_path: Callable[[str], Path]
) -> None:
    cli = str(Path(sys.executable).with_name("tool-runner"))
    commands = [
        [cli, "-c", str(component_path("print")), "--message", "hi"],
        [cli, "-c", str(component_path("files")), "--dir", str(tmp_path), "--op", "read"]
        + ["--path", "missing.txt"],
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(_run, [argv for argv in commands for _ in range(RUNS)]))
    assert [rc for rc, _ in outcomes] == [0] * RUNS + [1] * RUNS
    assert not [err for _, err in outcomes if "panicked" in err or "abort" in err.lower()]
