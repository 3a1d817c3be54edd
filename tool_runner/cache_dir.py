"""The compile cache's folder: where it is by default, and opening it only when it is private.

Compiled components are native code, so the folder that holds them must be the user's alone:
`open_private_dir` creates it with mode 0700 and refuses one owned by another user or writable
by group or others (a one-line `CacheError` saying how to fix it). A folder that is merely
readable by others (an older cache made with the default umask) is tightened to 0700.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from tool_runner.errors import CacheError

PRIVATE_MODE = 0o700
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """`${XDG_CACHE_HOME:-$HOME/.cache}/llm-agent/compiled`, read from `environ`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "llm-agent" / "compiled"


def open_private_dir(directory: Path) -> int:
    """A descriptor of `directory` (created 0700 if missing), checked to be the user's alone.

    Every later access goes through the descriptor, so the folder checked is the folder used.
    Raises OSError when it cannot be created or opened (the caller then works without a cache)
    and CacheError when it is not private.
    """
    try:
        fd = os.open(directory, _DIR_FLAGS)
    except FileNotFoundError:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # a concurrent run's: checked like any
            os.mkdir(directory, PRIVATE_MODE)
        fd = os.open(directory, _DIR_FLAGS)
    try:
        _check_private(fd, directory)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private_subdir(parent_fd: int, name: str) -> int:
    """A descriptor of the folder `name` in `parent_fd` (created 0700, never a symlink)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, PRIVATE_MODE, dir_fd=parent_fd)
    return os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent_fd)


def _check_private(fd: int, directory: Path) -> None:
    found = os.fstat(fd)
    uid = os.geteuid()
    if found.st_uid != uid:
        raise CacheError(
            directory,
            f"is owned by uid {found.st_uid}, not by you (uid {uid})",
            "set XDG_CACHE_HOME to a folder of your own, or run with --no-cache",
        )
    mode = stat.S_IMODE(found.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheError(
            directory,
            f"is writable by group or others (mode {mode:04o}), so its compiled code may have "
            "been replaced",
            f"remove it (rm -r '{directory}'; it is only a cache, recreated private), or run "
            "with --no-cache",
        )
    if mode != PRIVATE_MODE:
        os.fchmod(fd, PRIVATE_MODE)


def overlaps(a: Path, b: Path) -> bool:
    """Whether one of the (resolved) paths `a`, `b` contains the other."""
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents
