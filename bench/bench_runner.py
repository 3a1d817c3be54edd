"""Per-call cost of the tool sandbox, against two baselines measured in the same run.

Prints, for a small component (the C echo, or a WAT echo when components/ is not built) and a
componentize-py component (the calculator): cold load (no cache), cached load, fresh sandbox +
call, and warm call (one reused instance); and the baselines: a direct in-process Python call
(the floor) and the same echo as a fresh Python subprocess (what process isolation costs).

The call path is measured three ways in the same run, side by side: wasmtime-py's own
`Func.__call__` (the function type read and every value type walked on each call: how calls
went before `tool_runner.calls`), the signatures read once per export (the default), and with
`ToolRunner(prestart=True)`, the fresh sandbox made ahead of need between calls (each call still
gets an instance no call has used). The issue's targets are checked at the end.

    .venv/bin/python bench/bench_runner.py [--calls N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tool_runner import Policy, ToolRunner
from tool_runner.engine import SandboxEngine

REPO = Path(__file__).resolve().parent.parent
COMPONENTS = REPO / "components"
# issue 14's targets, in ms: (figure, component kind) -> at most
TARGETS = {
    ("fresh_call", "small"): 0.12,
    ("warm_call", "small"): 0.030,
    ("fresh_call", "python"): 1.0,
}


def median_ms(run: Callable[[], object], repeat: int, inner: int = 1, gap_s: float = 0.0) -> float:
    """Median over `repeat` samples of the mean time of `inner` back-to-back runs, in ms; with
    `gap_s`, an untimed pause before each sample (time a tool host has between calls)."""
    samples = []
    for _ in range(repeat):
        if gap_s:
            time.sleep(gap_s)
            awake = time.perf_counter() + 0.0005  # back on a CPU before the clock starts
            while time.perf_counter() < awake:
                pass
        start = time.perf_counter()
        for _ in range(inner):
            run()
        samples.append((time.perf_counter() - start) * 1000 / inner)
    return statistics.median(samples)


def small_component(workdir: Path) -> tuple[Path, dict[str, str]]:
    """The C echo component, or a generated WAT echo when it is not built."""
    built = COMPONENTS / "echo-tool-component.wasm"
    if built.is_file():
        return built, {"value": "Hello"}
    sys.path.insert(0, str(REPO / "tests" / "tool_runner"))
    from wat_components import Spec, component_wat

    path = workdir / "echo.wat"
    path.write_text(component_wat(Spec()))
    return path, {"value": "Hello"}


def measure_component(
    path: Path, args: dict[str, str], calls: int, cold_repeat: int, workdir: Path
) -> dict[str, float]:
    """Cold load, cached load, fresh call and warm call for one component, in ms."""
    cold = median_ms(lambda: ToolRunner(cache=False).load(path), cold_repeat)
    cache = workdir / f"cache-{path.stem}"
    ToolRunner(cache_dir=cache).load(path)
    cached = median_ms(lambda: ToolRunner(cache_dir=cache).load(path), max(5, calls // 100))
    tool = ToolRunner(cache_dir=cache).load(path)
    first = tool.call(args)
    if not first.ok:
        raise SystemExit(f"{path.name}: {first.kind.value}: {first.error}")
    warm_tool = ToolRunner(policy=Policy(reuse_instance=True), cache_dir=cache).load(path)
    warm_tool.call(args)
    with wasmtime_py_calls():
        old_tool = ToolRunner(cache_dir=cache).load(path)
        old_warm = ToolRunner(policy=Policy(reuse_instance=True), cache_dir=cache).load(path)
        old_warm.call(args)
        old_fresh = median_ms(lambda: old_tool.call(args), calls)
        old_warm_ms = median_ms(lambda: old_warm.call(args), calls)
    fresh = median_ms(lambda: tool.call(args), calls)
    warm = median_ms(lambda: warm_tool.call(args), calls)
    with ToolRunner(cache_dir=cache, prestart=True) as runner:
        ahead = runner.load(path)
        ahead.call(args)  # the second call of a tool starts making sandboxes ahead
        ahead.call(args)
        # room to make the next one between calls (eager memory: a Python tool's takes longer
        # than its fresh call)
        gap_s = min(max(0.005, 10 * fresh / 1000), 0.25)
        prestarted = median_ms(lambda: ahead.call(args), max(calls // 4, 10), gap_s=gap_s)
        back_to_back = median_ms(lambda: ahead.call(args), calls)
    return {
        "cold_load": cold,
        "cached_load": cached,
        "fresh_call_wasmtime_py": old_fresh,
        "fresh_call": fresh,
        "fresh_call_prestarted": prestarted,
        "fresh_call_prestart_back_to_back": back_to_back,
        "warm_call_wasmtime_py": old_warm_ms,
        "warm_call": warm,
    }


@contextmanager
def wasmtime_py_calls() -> Iterator[None]:
    """Tools loaded inside call through wasmtime-py's `Func.__call__`, as before signatures."""
    original = SandboxEngine.signature
    SandboxEngine.signature = lambda *_args: None  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SandboxEngine.signature = original  # type: ignore[method-assign]


def baselines(calls: int) -> dict[str, float]:
    """The direct Python call and the fresh-subprocess echo, in ms."""

    def echo(value: str) -> str:
        return value

    direct = median_ms(lambda: echo("Hello"), max(calls // 10, 20), inner=1000)
    command = [sys.executable, "-c", "import sys; print(sys.argv[1])", "Hello"]
    subprocess.run(command, check=True, capture_output=True)
    spawn = median_ms(
        lambda: subprocess.run(command, check=True, capture_output=True), max(calls // 100, 10)
    )
    return {"python_call": direct, "python_subprocess": spawn}


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per median (small tool)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        small, small_args = small_component(workdir)
        results[f"small: {small.name}"] = measure_component(
            small, small_args, options.calls, 5, workdir
        )
        calculator = COMPONENTS / "calculator-tool-component.wasm"
        if calculator.is_file():
            results[f"python: {calculator.name} ({calculator.stat().st_size / 1e6:.1f} MB)"] = (
                measure_component(
                    calculator, {"expression": "2**100"}, max(options.calls // 20, 20), 1, workdir
                )
            )
    base = baselines(options.calls)
    verdicts = targets(results)
    if options.json:
        print(json.dumps({"components": results, "baselines": base, "targets": verdicts}, indent=2))
        return
    _print(results, base)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for line in verdicts:
        print(line)


def targets(results: dict[str, dict[str, float]]) -> list[str]:
    """One line per target of issue 14: the best of the default and the prestarted call path."""
    lines = []
    for name, row in results.items():
        kind = name.split(":", 1)[0]
        for (figure, target_kind), limit in TARGETS.items():
            if kind != target_kind:
                continue
            keys = [
                key
                for key in (figure, f"{figure}_prestarted", f"{figure}_prestart_back_to_back")
                if key in row
            ]
            best = min(keys, key=lambda key: row[key])
            verdict = "meets" if row[best] <= limit else "misses"
            lines.append(
                f"target {kind} {figure.replace('_', ' ')} <= {limit:g} ms: {row[best]:.3f} ms "
                f"({best.replace('_', ' ')}) {verdict} it"
            )
    return lines


def _print(results: dict[str, dict[str, float]], base: dict[str, float]) -> None:
    print(f"baseline  direct Python call       {base['python_call'] * 1000:10.3f} us")
    print(f"baseline  fresh Python subprocess  {base['python_subprocess']:10.3f} ms")
    for name, row in results.items():
        print(f"\n{name}")
        for key, label in (
            ("cold_load", "cold load (no cache)"),
            ("cached_load", "cached load"),
            ("fresh_call_wasmtime_py", "fresh sandbox + call, wasmtime-py call"),
            ("fresh_call", "fresh sandbox + call"),
            ("fresh_call_prestarted", "fresh, made ahead (spaced calls)"),
            ("fresh_call_prestart_back_to_back", "fresh, made ahead (back to back)"),
            ("warm_call_wasmtime_py", "warm call, wasmtime-py call"),
            ("warm_call", "warm call (reused instance)"),
        ):
            print(f"  {label:38} {row[key]:10.3f} ms")
        ratio = base["python_subprocess"] / row["fresh_call"]
        print(f"  fresh call vs subprocess: {ratio:.0f}x faster")
        print(f"  fresh call vs direct call: {row['fresh_call'] / base['python_call']:.0f}x slower")


if __name__ == "__main__":
    main()
