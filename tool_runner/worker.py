"""A tool worker process: owns one `ToolRunner` (its engines) and serves protocol requests.

    python -m tool_runner.worker IN_FD OUT_FD

The pool (`tool_runner.pool`) starts it with two pipes: requests arrive on IN_FD and replies go
out on OUT_FD, framed (`tool_runner.protocol`); stdin is /dev/null, stdout and stderr are the
pool's (so `inherit_stdio` still reaches the terminal). The first request is `Start`: the
worker sets its OS memory ceiling, loads the components and answers `Tools` (or `Failed` with
the load error, and exits). It then answers requests one at a time until IN_FD reaches end of
file, and leaves with `os._exit` so that no native teardown runs at interpreter exit.

The memory ceiling is RLIMIT_DATA, not RLIMIT_AS: wasmtime reserves several GiB of address
space per linear memory (guard regions, never backed), so an address-space cap refuses to
instantiate anything while bounding nothing real; RLIMIT_DATA (Linux >= 4.7) counts the
private writable pages a memory is actually grown into, which is what the cap is for.
"""

from __future__ import annotations

import os
import resource
import sys
from typing import TYPE_CHECKING

from tool_runner.errors import ProtocolError, ToolRunnerError
from tool_runner.protocol import (
    Call,
    Describe,
    Failed,
    FrameReader,
    Health,
    HealthReply,
    Result,
    Start,
    Tools,
    decode_request,
    encode,
    failure,
    write_frame,
)
from tool_runner.result import ResultKind, ToolResult

if TYPE_CHECKING:  # both load wasmtime, which a worker imports only after its ceiling is set
    from tool_runner.policy import Policy
    from tool_runner.toolset import ToolSet

MIB = 1024 * 1024


def set_memory_ceiling(mib: int | None) -> None:
    """Cap this process's data pages (see the module docstring); None leaves it as it is."""
    if mib is not None:
        limit = mib * MIB
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


class _Served:
    """The worker's state: its tool sets (one per policy a request brought) and call count."""

    def __init__(self, start: Start) -> None:
        from tool_runner.runner import ToolRunner

        self.start = start
        self.runner = ToolRunner(start.policy, start.cache_dir, cache=start.cache)
        self.default = self._toolset(start.policy)
        self.by_policy: dict[str, ToolSet] = {}
        self.calls = 0

    def _toolset(self, policy: Policy) -> ToolSet:
        from tool_runner.toolset import ToolSet

        return ToolSet(
            self.runner,
            files=self.start.components,
            directory=self.start.tools_dir,
            policy=policy,
            unique_names=self.start.unique_names,
        )

    def describe(self) -> Tools:
        problems = self.default.refresh()
        return Tools(tools=self.default.tools(), problems=tuple(problems))

    def call(self, request: Call) -> Result | Failed:
        self.calls += 1
        tools = self.default
        if request.policy is not None and request.policy != self.start.policy:
            key = request.policy.model_dump_json()
            if key not in self.by_policy:
                if len(self.by_policy) >= 8:  # a bounded cache: the oldest policy goes
                    self.by_policy.pop(next(iter(self.by_policy)))
                try:  # each tool gets its own part of the policy (or it is refused)
                    self.by_policy[key] = self._toolset(request.policy)
                except ToolRunnerError as exc:
                    return Failed(error=type(exc).__name__, message=str(exc))
            tools = self.by_policy[key]
        tool = tools.tool(request.tool)
        if tool is None:
            names = ", ".join(m.name for m in tools.tools()) or "none"
            error = f"unknown tool {request.tool!r}; the available tools are: {names}"
            return Result(
                result=ToolResult(tool=request.tool, kind=ResultKind.UNKNOWN_TOOL, error=error)
            )
        return Result(result=tool.call(request.arguments))


def serve(in_fd: int, out_fd: int) -> None:
    """Answer requests from `in_fd` on `out_fd` until end of file (see the module docstring)."""
    reader = FrameReader(in_fd)
    body = reader.read()
    if body is None:
        return
    start = decode_request(body)
    if not isinstance(start, Start):
        write_frame(out_fd, encode(Failed(message="the first request must be start")))
        return
    set_memory_ceiling(start.memory_ceiling_mib)
    try:
        served = _Served(start)
    except ToolRunnerError as exc:
        write_frame(out_fd, encode(failure(exc)))
        return
    write_frame(out_fd, encode(Tools(tools=served.default.tools())))
    while (body := reader.read()) is not None:
        try:
            request = decode_request(body)
        except ProtocolError as exc:
            write_frame(out_fd, encode(Failed(message=str(exc))))
            continue
        if isinstance(request, Call):
            reply: Tools | Result | HealthReply | Failed = served.call(request)
        elif isinstance(request, Describe):
            reply = served.describe()
        elif isinstance(request, Health):
            names = tuple(m.name for m in served.default.tools())
            reply = HealthReply(pid=os.getpid(), calls=served.calls, tools=names)
        else:
            reply = Failed(message="start was already sent")
        write_frame(out_fd, encode(reply))


def main(argv: list[str] | None = None) -> None:
    """Entry point: `python -m tool_runner.worker IN_FD OUT_FD`."""
    args = sys.argv[1:] if argv is None else argv
    in_fd, out_fd = int(args[0]), int(args[1])
    code = 0
    try:
        serve(in_fd, out_fd)
    except BrokenPipeError:
        pass  # the pool went away: nothing to answer
    except BaseException:  # a bug: say it on stderr, the pool reports the worker as crashed
        import traceback

        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
