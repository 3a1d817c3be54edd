"""Where compiled components are cached by default (resolved by the caller, at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """`${XDG_CACHE_HOME:-$HOME/.cache}/llm-agent/compiled`, read from `environ`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "llm-agent" / "compiled"
