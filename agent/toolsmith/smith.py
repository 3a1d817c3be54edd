"""The `Toolsmith`: writes, approves, stores and runs self-built tools.

A self-built tool is the prebuilt Python runner component (`build.ensure_runner`) plus the
tool's source: each call runs the runner in a fresh sandbox store with the tool's source and
arguments, under a policy with **no grants** (only the session's limits: time, memory, fuel,
output), whatever the session granted its other tools, unless the person grants them to that
tool by its key `library.NAME` (`grant_key`): a `[tools."library.NAME"]` section of the policy
file, or a scoped flag such as `--dir library.NAME=PATH`.

`create` takes `CreateTool`'s arguments: the draft is checked on the host (`draft.check_draft`:
parsed, never run), put to the person through the `Approver` (name, description, parameters
and the full source; nothing the model wrote runs before a yes), stored in the `Library` and
offered at once. A draft that does not build, a refusal, or a Python error when the tool runs
comes back to the model as an error `ToolResult` whose first lines say what to fix.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.approval import ApprovalRequest, Approver
from agent.executor import match_name
from agent.toolsmith.build import ensure_runner, runner_digest
from agent.toolsmith.draft import DraftError, ToolDraft, check_draft, read_draft
from agent.toolsmith.errors import ToolsmithError
from agent.toolsmith.library import Library, StoredTool
from tool_runner import (
    ArgumentsError,
    Closing,
    LoadError,
    Policy,
    ResultKind,
    ToolMetadata,
    ToolParam,
    ToolResult,
    canonical_arguments,
    typed_arguments,
)

if TYPE_CHECKING:  # the runtime loads wasmtime: only when a self-built tool first runs
    from tool_runner import Tool, ToolRunner

CREATE_TOOL = ToolMetadata(
    name="CreateTool",
    description=(
        "Write a new tool when no tool fits: one Python function named `name`, whose parameters "
        "are those of `parameters`; it returns a string or a JSON value. It runs sandboxed with "
        "the standard library but no files, network or environment. A person approves it first."
    ),
    version="1",
    params=(
        ToolParam(name="name", description="Tool and function name", type="string", required=True),
        ToolParam(name="description", description="What it does", type="string", required=True),
        ToolParam(
            name="parameters",
            description='JSON Schema, e.g. {"type": "object", "properties": {"text": {"type": '
            '"string"}}, "required": ["text"]}',
            type="string",
            required=True,
        ),
        ToolParam(
            name="source",
            description="Python source defining the function",
            type="string",
            required=True,
        ),
    ),
)
APPROVE = ("yes", "no")
GRANT_PREFIX = "library."


def grant_key(name: str) -> str:
    """The policy key a library tool's grants are given under (never a component's load name,
    which cannot start with `library.` unless a person named a file so)."""
    return f"{GRANT_PREFIX}{name}"


class AutoApprove:
    """An `Approver` for `agent run --approve-new-tools`: yes to new tools, no to anything
    else (capability requests still need their own flags)."""

    who = "--approve-new-tools"

    def ask(self, request: ApprovalRequest) -> str:
        """The first choice for a new tool, the refusal otherwise."""
        return request.choices[0] if request.kind == "new_tool" else request.refusal


def approval_request(draft: ToolDraft, metadata: ToolMetadata) -> ApprovalRequest:
    """The question put to the person about `draft`: everything it is, source in full."""
    params = json.dumps(metadata.json_schema(), indent=2)
    detail = (
        f"Name: {draft.name}\nDescription: {draft.description}\nParameters: {params}\n"
        f"Source:\n{draft.source}\n"
        "It runs in the sandbox with no files, network or environment (grant them to "
        f"{grant_key(draft.name)} in the policy file if it needs any)."
    )
    return ApprovalRequest(
        kind="new_tool",
        subject=draft.name,
        title=f"The model wrote a new tool, {draft.name}: let it run?",
        detail=detail,
        choices=APPROVE,
    )


class Toolsmith(Closing):
    """The library's tools for a session, `CreateTool`'s implementation, and the runner they
    run on (loaded on the first call; compiled once through `cache_dir`)."""

    def __init__(
        self,
        library: Library,
        approver: Approver | Callable[[], Approver],
        *,
        policy: Policy | None = None,
        cache_dir: Path | None = None,
        stored: list[StoredTool] | None = None,
    ) -> None:
        self.library = library
        self._approver = approver
        self.policy = policy if policy is not None else Policy()
        """The session's policy: only a library tool's own section (`grant_key`) and the
        limits apply to it, never the grants given to other tools or to all."""
        self._cache_dir = cache_dir
        found = stored if stored is not None else library.load_all()
        self._stored = {tool.metadata.name: tool for tool in found}
        self._runner: ToolRunner | None = None
        self._runner_tools: dict[tuple[Path, str], Tool] = {}  # by runner and policy (JSON)
        self._runner_file: tuple[Path, str] | None = None  # checked once per toolsmith

    @property
    def approver(self) -> Approver:
        """Who approves new tools (given, or asked for each time: a session's front end may
        install its approver after the session opened)."""
        return self._approver if hasattr(self._approver, "ask") else self._approver()

    def specs(self) -> list[ToolMetadata]:
        """The stored tools' metadata, sorted by name."""
        return [self._stored[name].metadata for name in sorted(self._stored)]

    def find(self, name: str) -> str | None:
        """The stored tool's name matching `name` (as executors match), or None."""
        return match_name(name, self._stored)

    def create(self, arguments: Mapping[str, Any], taken: set[str]) -> ToolResult:
        """`CreateTool`: check, approve, store and offer a draft; never raises."""
        try:
            draft = read_draft(dict(arguments))
            metadata = check_draft(draft, taken)
        except DraftError as exc:
            return _failed(ResultKind.TOOL_ERROR, f"the tool does not build: {exc}")
        answer = self.approver.ask(approval_request(draft, metadata))
        if answer != APPROVE[0]:
            return _failed(
                ResultKind.TOOL_ERROR,
                f"the person did not approve {draft.name}; it was not saved and will not run "
                "(agent run: --approve-new-tools lets new tools run)",
            )
        try:
            stored = self.save(draft, approved_by=self._approved_by())
        except (ToolsmithError, OSError) as exc:  # no runner, or the library cannot be written
            return _failed(ResultKind.TOOL_ERROR, f"the tool could not be stored: {exc}")
        params = ", ".join(f"{p.name}: {p.type}" for p in stored.metadata.params)
        return ToolResult(
            tool=CREATE_TOOL.name,
            kind=ResultKind.SUCCESS,
            output=f"created {draft.name}({params}); call it like any other tool",
        )

    def save(self, draft: ToolDraft, *, approved_by: str) -> StoredTool:
        """Store an approved draft on the current runner and offer it; raises ToolsmithError
        (BuildError when the runner cannot be built)."""
        if self._runner_file is None or not self._runner_file[0].is_file():
            runner = ensure_runner(self.library.runner_dir)
            self._runner_file = (runner, runner_digest(runner))
        runner, digest = self._runner_file
        stored = self.library.save(
            draft, runner=runner, approved_by=approved_by, runner_sha256=digest
        )
        self._stored[stored.metadata.name] = stored
        return stored

    def _approved_by(self) -> str:
        approver = self.approver
        who = getattr(approver, "who", type(approver).__name__)
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown user"
        return f"{user} ({who})"

    def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Run the stored tool `name` (exactly as `find` returned it) in the sandbox; never
        raises for the tool's failures."""
        stored = self._stored[name]
        try:
            canonical = canonical_arguments(stored.metadata, dict(arguments))
        except ArgumentsError as exc:
            return _failed(ResultKind.INVALID_ARGUMENTS, str(exc), tool=name)
        try:
            runner = self._runner_tool(stored.runner_path, name)
        except (LoadError, ToolsmithError) as exc:
            return _failed(ResultKind.TOOL_ERROR, f"the runner did not load: {exc}", tool=name)
        request = {
            "source": stored.source,
            "function": name,
            "arguments": json.dumps(typed_arguments(stored.metadata.params, canonical)),
        }
        result = runner.call(request)
        return result.model_copy(update={"tool": name, "arguments": canonical})

    def policy_for(self, name: str) -> Policy:
        """The policy a library tool runs under: its own grants (none unless a person gave
        them to `grant_key(name)`) and the session's limits."""
        return self.policy.for_tool(grant_key(name), alone=False)

    def _runner_tool(self, path: Path, name: str) -> Tool:
        """The runner loaded under `name`'s policy: tools with the same grants (as a rule,
        none) share one load."""
        policy = self.policy_for(name)
        key = (path, policy.model_dump_json())
        tool = self._runner_tools.get(key)
        if tool is None:
            if self._runner is None:
                from tool_runner import ToolRunner

                self._runner = ToolRunner(policy=Policy(), cache_dir=self._cache_dir)
            tool = self._runner_tools[key] = self._runner.load(path, policy)
        return tool

    def close(self) -> None:
        """Close the runner (its engines and kept stores)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
            self._runner_tools.clear()


def _failed(kind: ResultKind, message: str, *, tool: str = CREATE_TOOL.name) -> ToolResult:
    return ToolResult(tool=tool, kind=kind, error=message)
