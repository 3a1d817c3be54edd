"""Self-built tools: time from the model's finished source to the first successful call, and a
later run's load of the stored tool.

Prints, in one run:
- design (b), shipped: the prebuilt Python runner (built once, compiled once through the cache):
  check the draft + store it + load the runner in a new `ToolRunner` (a compile-cache hit) +
  call: the median of `--runs`;
- design (a), once (`--skip-componentize` leaves it out): componentize-py builds a component for
  the tool (its source embedded), wasmtime compiles it (a new component: a cache miss), call;
- a later run: `Library.load` of the stored tool (source read and checked against its sha256),
  median of 200; and a `Toolsmith` opening the library (every tool plus one sha256 of the
  runner component), median of 20.

    .venv/bin/python bench/bench_toolsmith.py [--runs 7] [--skip-componentize] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.approval import Refuse  # noqa: E402
from agent.toolsmith import Library, ToolDraft, Toolsmith, build, check_draft  # noqa: E402
from tool_runner import Policy, ToolRunner, default_cache_dir  # noqa: E402

SOURCE = "def word_count(text):\n    return {'words': len(text.split())}\n"
SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
# design (a)'s app: the runner's own code, with the tool's metadata and source built in
APP_A = """
import json
from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.function import ExecutionError, Metadata
import app as runner

class Function(exports.Function):
    def meta(self):
        return Metadata(NAME, DESCRIPTION, ARGUMENTS)

    def invoke(self, input):
        try:
            return runner._run({"source": SOURCE, "function": NAME,
                                "arguments": input})
        except runner._Failure as exc:
            raise Err(ExecutionError(str(exc)))
"""


def draft(index: int) -> ToolDraft:
    return ToolDraft(
        name=f"word_count_{index}",
        description="Counts words",
        parameters=SCHEMA,
        source=SOURCE.replace("word_count", f"word_count_{index}"),
    )


def design_b(library: Library, runs: int) -> list[float]:
    times = []
    for index in range(runs):
        started = time.perf_counter()
        made = draft(index)
        check_draft(made, taken=set())
        with Toolsmith(library, Refuse(), stored=[]) as smith:
            smith.save(made, approved_by="bench")
            result = smith.call(made.name, {"text": "one two three"})
        times.append(time.perf_counter() - started)
        assert result.ok and json.loads(result.text) == {"words": 3}, result.error
    return times


def design_a(work: Path) -> float:
    made = draft(999)
    started = time.perf_counter()
    check_draft(made, taken=set())
    app = work / "app_a"
    app.mkdir()
    text = APP_A.replace("NAME", repr(made.name)).replace("DESCRIPTION", repr(made.description))
    text = text.replace("ARGUMENTS", repr(json.dumps(SCHEMA))).replace("SOURCE", repr(made.source))
    (app / "tool_app.py").write_text(text)
    out = work / "tool.wasm"
    build.componentize([app, build.RUNNER_APP], "tool_app", out)
    with ToolRunner(policy=Policy(), cache_dir=default_cache_dir(os.environ)) as runner:
        result = runner.load(out).call({"text": "one two three"})
    elapsed = time.perf_counter() - started
    assert result.ok and json.loads(result.text) == {"words": 3}, result.error
    return elapsed


def stored_loads(library: Library) -> tuple[list[float], list[float]]:
    name = library.names()[0]
    one = []
    for _ in range(200):
        started = time.perf_counter()
        library.load(name, check_runner=False)
        one.append(time.perf_counter() - started)
    opened = []
    for _ in range(20):
        started = time.perf_counter()
        Toolsmith(library, Refuse()).close()
        opened.append(time.perf_counter() - started)
    return one, opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-componentize", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        library = Library(work / "library")
        started = time.perf_counter()
        build.ensure_runner(library.runner_dir)
        runner_build_s = time.perf_counter() - started
        design_b(library, 1)  # compiles the runner once (or hits the cache)
        b_times = design_b(library, args.runs)
        one, opened = stored_loads(library)
        a_time = None if args.skip_componentize else design_a(work)
    report = {
        "runner_build_once_s": round(runner_build_s, 2),
        "b_first_call_median_s": round(statistics.median(b_times), 4),
        "b_first_call_all_s": [round(t, 4) for t in b_times],
        "a_first_call_once_s": None if a_time is None else round(a_time, 2),
        "stored_tool_load_median_ms": round(statistics.median(one) * 1000, 3),
        "library_open_median_ms": round(statistics.median(opened) * 1000, 2),
        "library_tools": args.runs + 1,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"runner build (once per version, kept): {report['runner_build_once_s']} s")
    print(
        f"(b) prebuilt runner: source -> first successful call, median of {args.runs}: "
        f"{report['b_first_call_median_s'] * 1000:.1f} ms  (target < 1 s)"
    )
    if a_time is not None:
        print(f"(a) componentize-py per tool: source -> first call, once: {a_time:.2f} s (< 15 s)")
    print(
        f"later run: a stored tool loads in {report['stored_tool_load_median_ms']} ms "
        f"(median of 200; target < 20 ms); opening the library of {report['library_tools']} "
        f"tools with the runner's sha256: {report['library_open_median_ms']} ms"
    )


if __name__ == "__main__":
    main()
