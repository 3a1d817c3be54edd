"""The Files tool: sees only the granted directories (at /workspace, or the guest path a grant
names), and says where it looks."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import fileops
import pytest
from tool_loading import LoadTool
from toolspec import ToolError

from tool_runner import DirGrant, Policy, ResultKind, Tool, ToolResult


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("buy milk\ninvoice 2024-05-17 paid\nwalk\n")
    (root / "notes" / "empty").mkdir()
    (root / "report.md").write_text("# Report\nThe invoice total is 42.\n")
    (root / "big.txt").write_text("0123456789" * 10_000)
    (root / "image.bin").write_bytes(bytes(range(256)))
    return root


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("the secret invoice\n")
    return secret


@pytest.fixture(scope="module")
def files(load_tool: LoadTool, workspace: Path, outside: Path) -> Tool:
    (workspace / "link.txt").symlink_to(outside)
    return load_tool("files", Policy(dirs=(DirGrant(host=workspace),)))


def _ok(tool: Tool, **args: str | bool) -> str:
    result = tool.call(args)
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output is not None
    return result.output


def _error(tool: Tool, **args: str | bool) -> str:
    result = tool.call(args)
    assert result.kind is ResultKind.TOOL_ERROR, result.output
    assert result.error is not None and "\n" not in result.error
    return result.error


def test_without_a_grant_it_sees_nothing(load_tool: LoadTool) -> None:
    tool = load_tool("files")
    for op in ("list", "read", "search"):
        assert "no directory is granted" in _error(tool, op=op, path="notes", pattern="x")


def test_lists_the_granted_directory(files: Tool) -> None:
    listing = _ok(files, op="list").splitlines()
    assert listing[0] == ".: 5 entries"
    assert "notes/" in listing
    assert "report.md (34 bytes)" in listing
    assert "link.txt (unreadable)" in listing  # its target is outside the grant
    assert _ok(files, op="list", path="notes").splitlines() == [
        "notes: 2 entries",
        "empty/",
        "todo.txt (38 bytes)",
    ]
    assert _ok(files, op="list", path="notes/empty") == "notes/empty: empty directory"


def test_reads_a_file_only_inside_the_grant(files: Tool) -> None:
    assert (
        _ok(files, op="read", path="notes/todo.txt") == "buy milk\ninvoice 2024-05-17 paid\nwalk\n"
    )
    assert _ok(files, op="read", path="/workspace/report.md").startswith("# Report")
    for path in ("../etc/passwd", "/etc/passwd", "notes/../../x"):
        assert "outside the granted directory" in _error(files, op="read", path=path)
    # A symlink out of the grant is refused by the sandbox itself.
    assert "secret" not in _error(files, op="read", path="link.txt")


def test_read_is_capped(files: Tool) -> None:
    text = _ok(files, op="read", path="big.txt")
    assert text.startswith("0123456789" * 100)
    assert text.endswith("[truncated: big.txt is 100000 bytes; showed the first 65536]")
    short = _ok(files, op="read", path="big.txt", max_bytes="12")
    assert short.startswith("012345678901\n[truncated")


def test_searches_substrings_and_regexes(files: Tool) -> None:
    # A directory's own files first, then its subdirectories; the symlink's target is unseen.
    assert _ok(files, op="search", pattern="invoice").splitlines() == [
        "report.md:2: The invoice total is 42.",
        "notes/todo.txt:2: invoice 2024-05-17 paid",
    ]
    assert _ok(files, op="search", pattern=r"\d{4}-\d\d-\d\d", regex=True) == (
        "notes/todo.txt:2: invoice 2024-05-17 paid"
    )
    assert _ok(files, op="search", path="report.md", pattern="total") == (
        "report.md:2: The invoice total is 42."
    )
    assert "no line under '.' matches" in _ok(files, op="search", pattern="zebra")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"op": "read", "path": "missing.txt"}, "'missing.txt' does not exist"),
        ({"op": "read", "path": "notes"}, "is a directory"),
        ({"op": "list", "path": "report.md"}, "is a file, not a directory"),
        ({"op": "read", "path": "image.bin"}, "not a UTF-8 text file"),
        ({"op": "search"}, "needs a pattern"),
        ({"op": "search", "pattern": "(", "regex": "true"}, "invalid regular expression"),
    ],
)
def test_bad_requests_get_clear_errors(files: Tool, args: dict[str, str], message: str) -> None:
    assert message in _error(files, **args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"op": "delete"}, "parameter 'op' expects one of: list, read, search (got 'delete')"),
        ({"op": "read", "max_bytes": "0"}, "'max_bytes' expects a value from 1 to 65536, got 0"),
        ({"op": "read", "max_bytes": 65537}, "expects a value from 1 to 65536, got 65537"),
    ],
)
def test_values_outside_the_declared_ones_never_reach_the_tool(
    files: Tool, args: dict[str, str], message: str
) -> None:
    result = files.call(args)
    assert result.kind is ResultKind.INVALID_ARGUMENTS and message in (result.error or "")


def test_a_read_only_grant_is_enough(load_tool: LoadTool, workspace: Path) -> None:
    tool = load_tool("files", Policy(dirs=(DirGrant(host=workspace / "notes", writable=False),)))
    assert _ok(tool, op="list").splitlines()[0] == ".: 2 entries"


def test_resolve_keeps_paths_inside_the_root(tmp_path: Path) -> None:
    root = str(tmp_path)
    assert fileops.resolve("a/../b", root) == f"{root}/b"
    assert fileops.resolve("/workspace/a", root) == f"{root}/a"
    with pytest.raises(fileops.ToolError, match="outside"):
        fileops.resolve("a/../../b", root)


HANG_LIMIT_S = 20.0  # a call that hangs on the FIFO fails the test instead of the suite


@pytest.fixture
def fifo_workspace(tmp_path: Path) -> Iterator[Path]:
    """A granted folder with a text file and a FIFO no one writes to; teardown opens the
    FIFO's write end, which frees any reader that blocked on it."""
    (tmp_path / "notes.txt").write_text("the fifo is next door\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    yield tmp_path
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def _call_within(tool: Tool, limit_s: float, **args: str) -> ToolResult:
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tool.call, args)
        try:
            return future.result(timeout=limit_s)
        except FutureTimeout:
            pytest.fail(f"the call {args} hung on the FIFO", pytrace=False)


def test_a_fifo_is_refused_not_opened(load_tool: LoadTool, fifo_workspace: Path) -> None:
    tool = load_tool("files", Policy(dirs=(DirGrant(host=fifo_workspace),)))
    started = time.monotonic()
    read = _call_within(tool, HANG_LIMIT_S, op="read", path="pipe")
    assert read.kind is ResultKind.TOOL_ERROR
    # WASI reports a FIFO as a file of unknown type
    assert read.error == "'pipe' is a special file, not a regular file; only regular files are read"
    found = _call_within(tool, HANG_LIMIT_S, op="search", pattern="fifo")
    assert found.output == "notes.txt:1: the fifo is next door"
    listed = _call_within(tool, HANG_LIMIT_S, op="list")
    assert "pipe (a special file)" in (listed.output or "")
    assert time.monotonic() - started < 5


def test_fileops_refuse_devices_and_fifos(fifo_workspace: Path) -> None:
    root = str(fifo_workspace)
    with pytest.raises(ToolError, match="is a FIFO, not a regular file"):
        fileops.read_file(str(fifo_workspace / "pipe"), root, 100)
    with pytest.raises(ToolError, match="is a character device, not a regular file"):
        fileops.read_file("/dev/zero", "/dev", 100)
    found = fileops.search(root, root, "fifo", regex=False)
    assert found == f"{root}/notes.txt:1: the fifo is next door"  # outside /workspace: absolute


@pytest.fixture(scope="module")
def at_data(load_tool: LoadTool, workspace: Path) -> Tool:
    return load_tool("files", Policy(dirs=(DirGrant(host=workspace / "notes", guest="/data"),)))


def test_a_grant_mounted_elsewhere_is_read_by_absolute_paths(at_data: Tool) -> None:
    assert _ok(at_data, op="list", path="/data").splitlines() == [
        "/data: 2 entries",
        "empty/",
        "todo.txt (38 bytes)",
    ]
    assert _ok(at_data, op="read", path="/data/todo.txt").startswith("buy milk")
    assert _ok(at_data, op="read", path="/data/empty/../todo.txt").startswith("buy milk")
    assert _ok(at_data, op="search", path="/data", pattern="invoice") == (
        "/data/todo.txt:2: invoice 2024-05-17 paid"
    )


def test_a_grant_mounted_elsewhere_says_where_paths_are_looked_up(at_data: Tool) -> None:
    relative = _error(at_data, op="list")
    assert relative.startswith("relative paths are looked up in /workspace, which is not granted")
    assert "(1 directory is granted elsewhere)" in relative and "--dir PATH:/GUEST" in relative
    for path in ("/etc/passwd", "/data/../etc/passwd", "/dat"):
        message = _error(at_data, op="read", path=path)
        assert "outside the granted directory: no granted directory holds it" in message


def test_two_grants_are_both_reachable(load_tool: LoadTool, workspace: Path) -> None:
    grants = (DirGrant(host=workspace), DirGrant(host=workspace / "notes", guest="/mnt/notes"))
    tool = load_tool("files", Policy(dirs=grants))
    assert _ok(tool, op="read", path="report.md").startswith("# Report")
    assert _ok(tool, op="read", path="/mnt/notes/todo.txt").startswith("buy milk")
    assert _ok(tool, op="list", path="/mnt/notes").startswith("/mnt/notes: 2 entries")
    assert "outside" in _error(tool, op="list", path="/mnt")


def test_locate_keeps_workspace_paths_relative(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="granted"):  # on the host, fd 3 may be anything
        fileops.locate("/no/such/place/at/all")
    assert fileops.mount_of(str(tmp_path / "a" / "b")) == "/" + str(tmp_path).split("/")[1]
    with pytest.raises(ToolError, match="NUL"):
        fileops.locate("/data/\x00")
