"""List, read and search text files inside the granted directories, for the Files tool.

The runner mounts a granted directory at /workspace unless the grant names another guest path
(`--dir PATH:/data`). A relative path is looked up in /workspace; an absolute one in whichever
granted directory holds it (`/data/notes.txt`). The guest cannot list its preopened directories
by name (WASI gives them only as descriptors 3, 4, ...), so it finds the one that holds an
absolute path by trying the path's leading folders: outside a preopened directory nothing is a
directory. The sandbox enforces all of it by itself; the checks here exist to give the model a
clear message (an escaping path, no grant at all, where a path is looked up) instead of a bare
"not found".
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping

from toolspec import Param, ToolError, ToolSpec, Usage, optional_int, required

ROOT = "/workspace"
OPS = ("list", "read", "search")
MAX_READ_BYTES = 64 * 1024
MAX_LIST_ENTRIES = 500
MAX_MATCHES = 200
MAX_SEARCH_FILES = 2_000
MAX_SEARCH_FILE_BYTES = 1024 * 1024
MAX_LINE_CHARS = 300

SPEC = ToolSpec(
    name="Files",
    description=(
        "Reads the directory the user granted: list a folder, read a text file (up to 64 KiB), "
        "search lines for a text (a regular expression with regex=true)"
    ),
    version="0.1.0",
    params=(
        Param("op", "What to do", enum=OPS),
        Param("path", "File or folder, relative; default .", required=False),
        Param("pattern", "For search: the text to find", required=False),
        Param("regex", "For search: pattern is a regular expression", "boolean", False),
        Param(
            "max_bytes",
            "For read: at most this many bytes",
            "integer",
            False,
            minimum=1,
            maximum=MAX_READ_BYTES,
        ),
    ),
    usage=(
        Usage("What files do I have?", "USE_TOOL: Files, op=list"),
        Usage("Show me notes/todo.txt", "USE_TOOL: Files, op=read, path=notes/todo.txt"),
        Usage(
            "Which files mention 'invoice'?",
            "USE_TOOL: Files, op=search, pattern=invoice",
        ),
        Usage(
            "Find lines with a date like 2024-05-17 in the logs folder",
            r'USE_TOOL: Files, op=search, path=logs, pattern="\\d{4}-\\d{2}-\\d{2}", regex=true',
        ),
    ),
)


FIRST_PREOPEN_FD = 3  # WASI numbers the preopened directories from 3
MAX_GRANTS = 64


def granted_count() -> int:
    """How many directories this guest was granted (the directories at descriptors 3, 4, ...)."""
    count = 0
    while count < MAX_GRANTS:
        try:
            if not stat.S_ISDIR(os.fstat(FIRST_PREOPEN_FD + count).st_mode):
                break
        except OSError:
            break
        count += 1
    return count


def _not_granted(root: str) -> ToolError:
    granted = granted_count()
    if granted == 0:
        return ToolError(
            "no directory is granted to this tool; grant one with --dir PATH (mounted at "
            f"{ROOT}) or --dir PATH:/GUEST, or dirs in the policy"
        )
    some = "1 directory is" if granted == 1 else f"{granted} directories are"
    return ToolError(
        f"relative paths are looked up in {root}, which is not granted ({some} granted "
        "elsewhere): give the absolute path under the guest path of your --dir PATH:/GUEST grant"
    )


def resolve(path: str, root: str = ROOT) -> str:
    """The absolute guest path for `path` (relative to `root`); ToolError if it escapes."""
    if not os.path.isdir(root):
        raise _not_granted(root)
    text = path.strip() or "."
    if "\x00" in text:
        raise ToolError("the path contains a NUL character")
    if text == ROOT or text.startswith(ROOT + "/"):  # the guest's own absolute form
        text = text[len(ROOT) :].lstrip("/") or "."
    joined = posixpath.normpath(posixpath.join(root, text))
    if joined != root and not joined.startswith(root.rstrip("/") + "/"):
        raise ToolError(
            f"path {path!r} is outside the granted directory; use a path relative to it"
        )
    return joined


def mount_of(path: str) -> str | None:
    """The granted directory that holds the absolute, normalised `path`: the shortest of its
    leading folders that is a directory (in the guest, only granted ones and what they hold
    are); None when there is none."""
    parts = [part for part in path.split("/") if part]
    for end in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:end])
        if os.path.isdir(prefix):
            return prefix
    return None


def locate(path: str) -> tuple[str, str]:
    """The guest path for a `path` argument and the granted directory it is in: a relative path
    (or one under /workspace) in /workspace, another absolute one in the granted directory that
    holds it. ToolError saying where it looked otherwise."""
    text = path.strip()
    if "\x00" in text:
        raise ToolError("the path contains a NUL character")
    if not text.startswith("/") or text == ROOT or text.startswith(ROOT + "/"):
        return resolve(text, ROOT), ROOT
    normal = "/" + posixpath.normpath(text).lstrip("/")
    root = mount_of(normal)
    if root is None:
        if granted_count() == 0:
            raise _not_granted(ROOT)
        raise ToolError(
            f"path {path!r} is outside the granted directory: no granted directory holds it "
            f"(relative paths are looked up in {ROOT}, absolute ones under a --dir PATH:/GUEST "
            "grant's guest path)"
        )
    return normal, root


def _relative(path: str, root: str) -> str:
    """How a path is shown: relative to /workspace, else absolute (the path the model gave)."""
    return posixpath.relpath(path, root) if root == ROOT else path


def _stat(path: str, shown: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise ToolError(f"{shown!r} does not exist") from None
    except OSError as exc:
        raise ToolError(f"cannot access {shown!r}: {exc.strerror or exc}") from None


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is (a FIFO, device, socket...), else None.

    Opening a FIFO blocks until a writer comes, and a device can be endless: such files are
    refused before they are opened (read) or passed over (search, list says what they are).
    """
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a special file"


def list_dir(path: str, root: str) -> str:
    """One line per entry: directories end in '/', files show their size."""
    shown = _relative(path, root)
    if not stat.S_ISDIR(_stat(path, shown).st_mode):
        raise ToolError(f"{shown!r} is a file, not a directory; use op=read to read it")
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise ToolError(f"cannot list {shown!r}: {exc.strerror or exc}") from None
    lines = []
    for name in names[:MAX_LIST_ENTRIES]:
        full = posixpath.join(path, name)
        try:
            info = os.stat(full)
        except OSError:
            lines.append(f"{name} (unreadable)")
            continue
        kind = _not_regular(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            lines.append(f"{name}/")
        elif kind is not None:
            lines.append(f"{name} ({kind})")
        else:
            lines.append(f"{name} ({info.st_size} bytes)")
    count = f"{len(names)} entry" if len(names) == 1 else f"{len(names)} entries"
    header = f"{shown}: {count}" if names else f"{shown}: empty directory"
    if len(names) > MAX_LIST_ENTRIES:
        lines.append(f"[{len(names) - MAX_LIST_ENTRIES} more entries not shown]")
    return "\n".join([header, *lines])


def read_file(path: str, root: str, limit: int) -> str:
    """The text of a UTF-8 file, cut at `limit` bytes with a note saying so."""
    shown = _relative(path, root)
    info = _stat(path, shown)
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{shown!r} is a directory; use op=list to see what it holds")
    kind = _not_regular(info.st_mode)
    if kind is not None:
        raise ToolError(f"{shown!r} is {kind}, not a regular file; only regular files are read")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ToolError(f"cannot read {shown!r}: {exc.strerror or exc}") from None
    cut = len(data) > limit
    data = data[:limit]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not cut or exc.start < len(data) - 3:  # not just a character split by the cut
            raise ToolError(f"{shown!r} is not a UTF-8 text file") from None
        text = data[: exc.start].decode("utf-8")
    if cut:
        text += f"\n[truncated: {shown} is {info.st_size} bytes; showed the first {limit}]"
    return text


def _walk(path: str) -> Iterator[str]:
    if os.path.isfile(path):
        yield path
        return
    for directory, subdirs, files in os.walk(path):
        subdirs.sort()
        for name in sorted(files):
            yield posixpath.join(directory, name)


def search(path: str, root: str, pattern: str, regex: bool) -> str:
    """`relative/path:line: text` for each matching line, bounded in files and matches."""
    shown = _relative(path, root)
    _stat(path, shown)
    if not pattern:
        raise ToolError("search needs a pattern to look for")
    try:
        found = re.compile(pattern if regex else re.escape(pattern)).search
    except re.error as exc:
        raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from None
    matches: list[str] = []
    scanned = 0
    for file in _walk(path):
        scanned += 1
        if scanned > MAX_SEARCH_FILES or len(matches) >= MAX_MATCHES:
            break
        try:
            info = os.stat(file)
            if _not_regular(info.st_mode) or info.st_size > MAX_SEARCH_FILE_BYTES:
                continue  # a FIFO or device would block or never end
            with open(file, "rb") as handle:
                text = handle.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # unreadable and binary files are not text to search
        for number, line in enumerate(text.splitlines(), start=1):
            if found(line):
                clipped = line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"
                matches.append(f"{_relative(file, root)}:{number}: {clipped}")
                if len(matches) >= MAX_MATCHES:
                    break
    kind = "regular expression" if regex else "text"
    if not matches:
        return f"no line under {shown!r} matches the {kind} {pattern!r}"
    more = f"\n[stopped after {MAX_MATCHES} matches]" if len(matches) >= MAX_MATCHES else ""
    return "\n".join(matches) + more


def _flag(args: Mapping[str, str], name: str) -> bool:
    raw = args.get(name, "false").strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no", ""):
        return False
    raise ToolError(f"parameter '{name}' must be true or false, got {raw!r}")


def run(args: Mapping[str, str]) -> str:
    """Carry out the requested `op` (see `locate` for where paths are looked up); ToolError
    with a one-line message."""
    op = required(args, "op").strip().lower()
    if op not in OPS:
        raise ToolError(f"unknown op {args['op']!r}: use one of {', '.join(OPS)}")
    path, root = locate(args.get("path", "."))
    if op == "list":
        return list_dir(path, root)
    if op == "read":
        limit = optional_int(args, "max_bytes", MAX_READ_BYTES)
        if limit <= 0:
            raise ToolError("max_bytes must be a positive number of bytes")
        return read_file(path, root, min(limit, MAX_READ_BYTES))
    return search(path, root, args.get("pattern", ""), _flag(args, "regex"))
