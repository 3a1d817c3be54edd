"""`WorkerPool`: tool calls run in supervised worker processes, never in the caller's process.

    with WorkerPool(components, policy, cache_dir=cache, settings=PoolSettings(workers=2)) as pool:
        pool.tools()                              # every tool's metadata
        pool.call("Echo", {"value": "hi"})        # a ToolResult, never an exception

Each worker (`tool_runner.worker`) owns its engines and serves one call at a time over two
pipes; calls from several threads run on several workers at once. Supervision:

- A call gets a wall-clock deadline: the tool's `timeout_s` plus `grace_s`. The worker's own
  epoch deadline normally ends it first; when the guest is stuck in a host call instead, the
  worker is SIGKILLed, the call reports `timeout` and a new worker takes its place.
- A worker that dies during a call (abort, segfault, OOM kill, `kill -9`) makes that call report
  `crashed`; it is restarted, at once the first time and with exponential backoff while
  failures follow each other (a success resets it). A supervisor thread replaces idle workers
  that died between calls. Restarts are counted in `stats()`.
- Each worker's data pages are capped by the OS (`memory_ceiling_mib`, RLIMIT_DATA; see
  `tool_runner.worker`), behind the sandbox's own memory limits.
- With `watch=True` the tools directory is watched; the tool set is reloaded between calls.

Opening raises what loading raises in-process (`LoadError`, `PolicyError`, ...: the same class
and one-line message, carried back by the worker) or `ToolHostError` (a worker that does not
start).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tool_runner.closing import Closing
from tool_runner.errors import ToolHostError, ToolRunnerError
from tool_runner.metadata import ArgValue, ToolMetadata
from tool_runner.policy import Policy
from tool_runner.protocol import (
    Call,
    Describe,
    Failed,
    FrameReader,
    HealthReply,
    Result,
    Start,
    Tools,
    decode_reply,
    encode,
    error_from,
    write_frame,
)
from tool_runner.result import ResultKind, ToolResult
from tool_runner.tool_host import HostStats, host_failure
from tool_runner.watch import DirectoryWatch


class PoolSettings(BaseModel):
    """How many workers, how long past a call's timeout before its worker is killed, how long a
    worker may take to start, the OS memory ceiling per worker (None: 1 GiB plus four times the
    policy's largest memory cap), the restart backoff, and whether to watch the tools dir."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int = Field(default=2, ge=1, le=64)
    grace_s: float = Field(default=1.0, gt=0)
    start_timeout_s: float = Field(default=120.0, gt=0)
    memory_ceiling_mib: int | None = Field(default=None, ge=64)
    backoff_s: float = Field(default=0.1, ge=0)
    max_backoff_s: float = Field(default=5.0, ge=0)
    watch: bool = False


SUPERVISE_EVERY_S = 0.2


class _Gone(Exception):
    """The worker's pipes closed: it died."""


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self, start: bytes, launch_at: float = 0.0) -> None:
        self._start = start
        self.launch_at = launch_at  # not before this `time.monotonic()` (restart backoff)
        self.proc: subprocess.Popen[bytes] | None = None
        self._out = self._in = -1
        self.seen = -1  # the watch generation its tools were last described at
        self.started = False

    def launch(self) -> None:
        """Start the process and send it `Start`; raises ToolHostError when it cannot fork."""
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tool_runner.worker", str(to_child), str(from_child)],
                pass_fds=(to_child, from_child),
                stdin=subprocess.DEVNULL,
                env=_worker_environment(),
            )
        except OSError as exc:
            self._close_fds()
            raise ToolHostError(f"cannot start a tool worker: {exc.strerror or exc}") from exc
        finally:
            os.close(to_child)
            os.close(from_child)
        self._reader = FrameReader(self._in)
        with contextlib.suppress(BrokenPipeError):  # it died already: the first read says so
            write_frame(self._out, self._start)

    def exchange(
        self, body: bytes | None, deadline: float
    ) -> Tools | Result | HealthReply | Failed:
        """Send `body` (None: only read) and read the reply; raises _Gone, TimeoutError."""
        try:
            if body is not None:
                write_frame(self._out, body)
            reply = self._reader.read(deadline)
        except TimeoutError:
            raise  # an OSError too, but the worker is alive: the caller decides
        except OSError as exc:  # a broken pipe, or the fds of a worker that could not restart
            raise _Gone() from exc
        if reply is None:
            raise _Gone()
        return decode_reply(reply)

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None

    def death(self) -> str:
        """How the process ended, in words (waits for it)."""
        if self.proc is None:
            return "was never started"
        code = self.proc.wait()
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}"
        return f"exited with status {code}"

    def stop(self, *, kill: bool = False, wait_s: float = 2.0) -> None:
        """End the process: end of file on its requests (or SIGKILL), then reap it."""
        if self.proc is not None and kill:
            self.proc.kill()
        self._close_fds()
        if self.proc is None:
            return
        try:
            self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _close_fds(self) -> None:
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._out = self._in = -1


def _worker_environment() -> dict[str, str]:
    """This environment, with the folder this `tool_runner` came from first on the path: a
    worker runs the same code as its pool, installed or not."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{path}" if path else root}


def default_ceiling_mib(policy: Policy) -> int:
    """1 GiB for the worker itself plus four times the largest per-memory cap of `policy`."""
    caps = [policy.limits.memory_mib, *(lim.memory_mib for lim in policy.tool_limits.values())]
    return 1024 + 4 * max(caps)


class WorkerPool(Closing):
    """N supervised worker processes serving the tools in `components` and/or `tools_dir`.

    Two components that serve the same tool name are refused at load, unless `unique_names`:
    then every tool whose name several components share is served as `<load name>.<name>`
    (`ToolSet`; the load name is the file's stem, `tool_runner.grants.load_name`)."""

    def __init__(
        self,
        components: Sequence[Path] = (),
        policy: Policy | None = None,
        *,
        tools_dir: Path | None = None,
        cache_dir: Path | None = None,
        cache: bool = True,
        settings: PoolSettings | None = None,
        unique_names: bool = False,
    ) -> None:
        self.policy = policy if policy is not None else Policy()
        self.settings = settings if settings is not None else PoolSettings()
        ceiling = self.settings.memory_ceiling_mib or default_ceiling_mib(self.policy)
        start = Start(
            components=tuple(components),
            tools_dir=tools_dir,
            policy=self.policy,
            cache_dir=cache_dir,
            cache=cache,
            memory_ceiling_mib=ceiling,
            unique_names=unique_names,
        )
        self._start = encode(start)
        self._lock = threading.RLock()
        self._available = threading.Condition(self._lock)
        self._idle: list[_Worker] = []
        self._closed = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._workers: list[_Worker] = []
        self._calls = self._restarts = self._crashed = self._timeouts = self._failures = 0
        self._problems: tuple[str, ...] = ()
        self._watch: DirectoryWatch | None = None
        self._tools: tuple[ToolMetadata, ...] = ()
        self._generation = 0
        try:
            self._workers = [self._spawn() for _ in range(self.settings.workers)]
            for worker in self._workers:
                self._tools = self._wait_started(worker).tools
                self._release(worker)
            if self.settings.watch and tools_dir is not None:
                self._watch = DirectoryWatch(tools_dir)
            self._supervisor = threading.Thread(
                target=self._supervise, name="tool-pool-supervisor", daemon=True
            )
            self._supervisor.start()
        except BaseException:
            self.close()
            raise

    def _spawn(self, launch_at: float = 0.0) -> _Worker:
        worker = _Worker(self._start, launch_at)
        if launch_at <= time.monotonic():
            worker.launch()
        return worker

    def _acquire(self) -> _Worker:
        with self._available:
            while not self._idle:
                self._available.wait()
            return self._idle.pop()  # the most recently used: its caches are warm

    def _release(self, worker: _Worker) -> None:
        with self._available:
            self._idle.append(worker)
            self._available.notify()

    def _supervise(self) -> None:
        """Replace idle workers that died between calls (a call finds out by itself) and start
        the ones whose backoff is over."""
        while not self._closed.wait(SUPERVISE_EVERY_S):
            with self._available:
                dead = [w for w in self._idle if w.started and not w.alive()]
                for worker in dead:
                    self._idle.remove(worker)
                    self._idle.append(self._replace(worker))
                due = [w for w in self._idle if w.proc is None and w.launch_at <= time.monotonic()]
                for worker in due:
                    with contextlib.suppress(ToolHostError):  # the next call says why
                        worker.launch()

    def _wait_started(self, worker: _Worker) -> Tools:
        deadline = time.monotonic() + self.settings.start_timeout_s
        try:
            reply = worker.exchange(None, deadline)
        except TimeoutError:
            worker.stop(kill=True)
            raise ToolHostError(
                f"a tool worker did not start within {self.settings.start_timeout_s:g}s"
            ) from None
        except _Gone:
            raise ToolHostError(f"a tool worker {worker.death()} while starting") from None
        if isinstance(reply, Failed):
            raise error_from(reply)
        if not isinstance(reply, Tools):
            raise ToolHostError(f"a tool worker answered start with {reply.op!r}")
        worker.started = True
        worker.seen = self._watch.generation if self._watch is not None else -1
        return reply

    def tools(self) -> tuple[ToolMetadata, ...]:
        """Every tool's metadata, sorted by name (reloaded first if the directory changed)."""
        if self._watch is not None and self._watch.generation != self._generation:
            worker = self._acquire()
            try:
                self._refresh(worker)
            except (_Gone, TimeoutError, ToolRunnerError):
                worker = self._replace(worker, kill=True)
            finally:
                self._release(worker)
        return self._tools

    def _refresh(self, worker: _Worker) -> None:
        generation = self._watch.generation if self._watch is not None else -1
        if worker.seen == generation:
            return
        reply = worker.exchange(
            encode(Describe()), time.monotonic() + self.settings.start_timeout_s
        )
        if not isinstance(reply, Tools):
            raise ToolHostError(f"a tool worker answered describe with {reply.op!r}")
        worker.seen = generation
        with self._lock:
            self._tools, self._generation = reply.tools, generation
            if reply.problems:
                self._problems = reply.problems

    def call(
        self,
        tool: str,
        arguments: Mapping[str, ArgValue] | None = None,
        *,
        policy: Policy | None = None,
    ) -> ToolResult:
        """Run `tool` on an idle worker (waiting for one) under `policy` (None: the pool's);
        never raises for what the guest or the worker does: timeouts and crashes are results."""
        started = time.monotonic()
        request = Call(tool=tool, arguments=dict(arguments or {}), policy=policy)
        worker = self._acquire()
        try:
            worker, result = self._call_on(worker, started, request)
        finally:
            self._release(worker)
        with self._lock:
            self._calls += 1
        return result

    def _call_on(
        self, worker: _Worker, started: float, request: Call
    ) -> tuple[_Worker, ToolResult]:
        tool = request.tool
        try:
            if worker.proc is None:
                time.sleep(max(0.0, worker.launch_at - time.monotonic()))
                worker.launch()
            if not worker.started:
                self._wait_started(worker)
            self._refresh(worker)
        except (_Gone, TimeoutError, ToolRunnerError) as exc:
            return self._replace(worker, kill=True), host_failure(
                tool, started, ResultKind.CRASHED, f"the tool worker could not start: {exc}"
            )
        timeout_s = (request.policy or self.policy).limits_for(tool).timeout_s
        deadline = started + timeout_s + self.settings.grace_s
        try:
            reply = worker.exchange(encode(request), deadline)
        except TimeoutError:
            with self._lock:
                self._timeouts += 1
            message = (
                f"the call did not finish within {timeout_s:g}s (blocked outside wasm, e.g. in "
                "a host call); its worker was killed and replaced"
            )
            return self._replace(worker, kill=True, failed=False), host_failure(
                tool, started, ResultKind.TIMEOUT, message
            )
        except _Gone:
            with self._lock:
                self._crashed += 1
            message = f"the tool's worker process {worker.death()} during the call; restarted"
            return self._replace(worker), host_failure(tool, started, ResultKind.CRASHED, message)
        if isinstance(reply, Result):
            with self._lock:
                self._failures = 0
            return worker, reply.result
        message = reply.message if isinstance(reply, Failed) else f"unexpected {reply.op!r}"
        return worker, host_failure(tool, started, ResultKind.CRASHED, message)

    def _replace(self, worker: _Worker, *, kill: bool = False, failed: bool = True) -> _Worker:
        """Stop `worker` and start its successor: at once, or after a backoff that doubles
        with each failure in a row (its start is awaited on first use)."""
        worker.stop(kill=kill, wait_s=0.5)
        delay = 0.0
        with self._lock:
            self._restarts += 1
            if failed:
                self._failures += 1
                if self._failures > 1:
                    delay = self.settings.backoff_s * 2 ** (self._failures - 2)
        launch_at = time.monotonic() + min(delay, self.settings.max_backoff_s)
        try:
            fresh = self._spawn(launch_at)
        except ToolHostError:
            fresh = _Worker(self._start, launch_at)  # could not fork: the next call tries again
        with self._lock:
            self._workers = [fresh if w is worker else w for w in self._workers]
        return fresh

    def stats(self) -> HostStats:
        """Counts so far (see HostStats)."""
        with self._lock:
            return HostStats(
                transport="workers",
                workers=self.settings.workers,
                alive=sum(1 for w in self._workers if w.alive()),
                calls=self._calls,
                restarts=self._restarts,
                crashed=self._crashed,
                timeouts=self._timeouts,
                problems=self._problems,
            )

    def pids(self) -> list[int]:
        """The process ids of the current workers."""
        with self._lock:
            return [w.proc.pid for w in self._workers if w.proc is not None]

    def close(self) -> None:
        """Stop the watch and every worker (end of file on its pipe, SIGKILL after 2 s)."""
        self._closed.set()
        if self._supervisor is not None:
            self._supervisor.join()
            self._supervisor = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
