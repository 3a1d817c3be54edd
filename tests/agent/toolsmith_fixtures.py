"""The toolsmith tests' shared setup: the Python runner built once per version of its sources
(kept beside the test compile cache, so its bytes compile once across runs) and libraries that
already hold it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from agent.toolsmith import Library, build
from tool_runner import default_cache_dir


def built_runner() -> Path:
    """The runner component, built when its sources changed (about a minute), else kept."""
    return build.ensure_runner(default_cache_dir(os.environ).parent / "toolsmith-runner")


def library_with_runner(directory: Path) -> Library:
    """An empty library in `directory` whose runner folder holds the built runner."""
    built = built_runner()
    library = Library(directory)
    library.runner_dir.mkdir(parents=True)
    shutil.copy(built, library.runner_dir / built.name)
    shutil.copy(built.with_suffix(".sha256"), library.runner_dir)
    return library
