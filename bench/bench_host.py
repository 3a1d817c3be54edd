"""What the tool host costs: per-call latency and throughput, each path against in-process.

Prints, in one run:
- the median per-call latency of the C echo (a fresh sandbox per call) in this process, through
  the worker pool (one worker, calls one after another) and through NATS on loopback (a real
  nats-server and one `tool-runner worker`), with the differences to in-process;
- the throughput (calls/s) of a CPU-bound tool (a WAT loop of `--spin` iterations) in this
  process and through pools of 1, 2 and 4 workers, with as many calling threads as workers, and
  the ratios to one worker; beside them the machine's own ceiling, measured the same way: the
  speed-up of two plain Python processes over one on a CPU-bound loop (on a machine whose cores
  are busy with other work, no pool can scale past it).

    .venv/bin/python bench/bench_host.py [--calls 2000] [--cpu-calls 40] [--spin 30000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tool_runner import NatsHost, Policy, PoolSettings, ToolRunner, WorkerPool

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path[:0] = [str(REPO / "tests" / "tool_runner"), str(REPO / "tools" / "pyguest")]

from wat_components import Spec, component_wat  # noqa: E402

_SPIN = """
    (func $spin (param $args i32) (param $n i32) (result i32)
      (local $i i32)
      (block $done (loop $again
        (br_if $done (i32.ge_u (local.get $i) (i32.const {iterations})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
      (call $echo (local.get $args) (local.get $n)))
"""


def spin_wat(iterations: int) -> str:
    """A component whose call counts to `iterations` (pure wasm, CPU-bound), then echoes."""
    wat = component_wat(Spec(name="Spin", behaviour="spin"))
    first_func = "    (func $alloc (param $n i32)"
    return wat.replace(first_func, _SPIN.format(iterations=iterations) + first_func, 1)


def median_ms(call: Callable[[], object], calls: int) -> float:
    """The median of `calls` timed calls, in ms (after a tenth as many warm-up calls)."""
    for _ in range(max(10, calls // 10)):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def throughput(call: Callable[[], object], threads: int, calls: int) -> float:
    """Calls per second with `threads` threads making `calls` calls in all."""
    call()
    per_thread = max(1, calls // threads)
    workers = [
        threading.Thread(target=lambda: [call() for _ in range(per_thread)]) for _ in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - started)


def _count(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def machine_speedup(n: int = 10_000_000) -> float:
    """How much faster two processes finish two CPU-bound jobs than one process finishes one
    each, after the other (2.0 on two idle cores)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_count, [1000, 1000])  # the processes are up
        started = time.perf_counter()
        pool.map(_count, [n])
        one = time.perf_counter() - started
        started = time.perf_counter()
        pool.map(_count, [n, n])
        two = time.perf_counter() - started
    return 2 * one / two


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def nats_service(component: Path) -> Iterator[str]:
    """A nats-server on loopback with one `tool-runner worker` (one pool worker) serving
    `component`; yields the server's URL."""
    port = _free_port()
    url = f"nats://127.0.0.1:{port}"
    server = subprocess.Popen(
        [BIN / "nats-server", "-a", "127.0.0.1", "-p", str(port)], stderr=subprocess.DEVNULL
    )
    worker = None
    try:
        time.sleep(0.5)
        worker = subprocess.Popen(
            [BIN / "tool-runner", "worker", "--nats", url, "--workers", "1", "-c", component],
            stderr=subprocess.PIPE,
        )
        assert worker.stderr is not None
        worker.stderr.readline()  # "serving ...": the service is up
        yield url
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                process.wait(10)


def measure(calls: int, cpu_calls: int, spin: int) -> dict[str, float]:
    """Every figure the module docstring lists."""
    echo = REPO / "components" / "echo-tool-component.wasm"
    if not echo.is_file():
        raise SystemExit(f"{echo} is missing: run `make components` first")
    figures: dict[str, float] = {}
    args = {"value": "Hello"}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        with ToolRunner(Policy(), cache_dir=cache) as runner:
            tool = runner.load(echo)
            figures["in_process_ms"] = median_ms(lambda: tool.call(args), calls)
        with WorkerPool([echo], cache_dir=cache, settings=PoolSettings(workers=1)) as pool:
            figures["pool_ms"] = median_ms(lambda: pool.call("Echo", args), calls)
        with nats_service(echo) as url, NatsHost(url) as host:
            figures["nats_ms"] = median_ms(lambda: host.call("Echo", args), calls)
        spin_path = Path(tmp) / "spin.wat"
        spin_path.write_text(spin_wat(spin))
        with ToolRunner(Policy(), cache_dir=cache) as runner:
            spinner = runner.load(spin_path)
            figures["cpu_in_process_per_s"] = throughput(lambda: spinner.call(args), 1, cpu_calls)
        for workers in (1, 2, 4):
            settings = PoolSettings(workers=workers)
            with WorkerPool([spin_path], cache_dir=cache, settings=settings) as pool:
                rate = throughput(lambda: pool.call("Spin", args), workers, cpu_calls)  # noqa: B023
                figures[f"cpu_{workers}_workers_per_s"] = rate
    figures["machine_2_process_speedup"] = machine_speedup()
    return figures


def report(f: dict[str, float]) -> str:
    """The figures as the lines the benchmark prints."""
    one = f["cpu_1_workers_per_s"]
    return "\n".join(
        [
            "C echo, median per call (fresh sandbox):",
            f"  in-process          {f['in_process_ms']:.3f} ms",
            f"  worker pool         {f['pool_ms']:.3f} ms  "
            f"(+{f['pool_ms'] - f['in_process_ms']:.3f} ms; target <= +0.3 ms)",
            f"  NATS on loopback    {f['nats_ms']:.3f} ms  "
            f"(+{f['nats_ms'] - f['in_process_ms']:.3f} ms; target < 1.5 ms)",
            "CPU-bound tool, calls/s:",
            f"  in-process          {f['cpu_in_process_per_s']:.1f}",
            *(
                f"  {n} worker{'s' if n > 1 else ' '}           "
                f"{f[f'cpu_{n}_workers_per_s']:.1f}  ({f[f'cpu_{n}_workers_per_s'] / one:.2f}x one"
                f" worker)"
                for n in (1, 2, 4)
            ),
            "  target: 2 workers >= 1.6x one worker; this machine's own ceiling (2 plain "
            f"processes vs 1): {f['machine_2_process_speedup']:.2f}x",
        ]
    )


def main() -> None:
    """Parse the flags, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="latency samples per path")
    parser.add_argument("--cpu-calls", type=int, default=40, help="calls per throughput run")
    parser.add_argument("--spin", type=int, default=30_000_000, help="loop iterations per call")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    figures = measure(options.calls, options.cpu_calls, options.spin)
    print(json.dumps(figures, indent=2) if options.json else report(figures))


if __name__ == "__main__":
    main()
