"""Self-built tools (issue 16): the model writes a Python function, a person approves it, and
it runs in the sandbox as a tool, kept in the user's library for later runs.

    smith = Toolsmith(Library(user_paths(os.environ).library_dir), approver)
    executor = ToolsmithExecutor(session_executor, smith, create=True)   # offers CreateTool

Modules: `draft.py` (`ToolDraft`, `check_draft`: checked on the host by parsing, never
running), `build.py` (componentize-py and the prebuilt Python runner, built once and kept with
its sha256), `library.py` (`Library`: approved tools under the user's data folder),
`smith.py` (`Toolsmith`: `CreateTool`, approval, calls through the runner with no grants;
`AutoApprove`), `executor.py` (`ToolsmithExecutor`), `errors.py`.
"""

from __future__ import annotations

from agent.toolsmith.draft import DraftError, ToolDraft, check_draft, read_draft
from agent.toolsmith.errors import BuildError, LibraryError, ToolsmithError
from agent.toolsmith.executor import ToolsmithExecutor, with_library
from agent.toolsmith.library import Library, LibraryEntry, StoredTool
from agent.toolsmith.smith import CREATE_TOOL, AutoApprove, Toolsmith, grant_key

__all__ = [
    "CREATE_TOOL",
    "AutoApprove",
    "BuildError",
    "DraftError",
    "Library",
    "LibraryEntry",
    "LibraryError",
    "StoredTool",
    "ToolDraft",
    "Toolsmith",
    "ToolsmithError",
    "ToolsmithExecutor",
    "check_draft",
    "grant_key",
    "read_draft",
    "with_library",
]
