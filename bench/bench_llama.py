#!/usr/bin/env python3
"""Issue 14's ratios in one table: the agent's generation against llama.cpp's own llama-bench.

    .venv/bin/python bench/bench_llama.py [--threads N] [--tokens 128] [--prompt 512]
        [--repeat 3] [--rounds 5] [--models smollm2,qwen0.5b] [--no-contention] [--no-warm]
        [--no-sandbox] [--llama-bench PATH] [--json]

For each model (the real SmolLM2-135M-Instruct from `make test-assets`, and a random-weights
GGUF with Qwen2.5-0.5B's shape built once by bench_agent.py), on the same GGUF and threads:
`llama-bench` (built by scripts/build-llama-tools.sh from the llama.cpp our wheel is built from,
same flags) for pp, then the agent's backend in a fresh process: generation tokens/s greedy
without and with a grammar the model complies with (the directive syntax's "auto" grammar: an
answer or a call), and prompt tokens/s reading a cold prompt. Generation against llama-bench tg
is measured in `--rounds` pairs, each a `llama-bench -n tokens` run and then one generation of
the agent's, seconds apart; the ratio is the median of the pairs' ratios (the machine drifts by
several percent over minutes, which back-to-back runs minutes apart read as a ratio).

Then, on SmolLM2: generation alone and beside a competing CPU-bound process (a second llama.cpp
generation on 2 threads; a component compile), with the agent's thread settings and with
llama.cpp's defaults (libgomp's long spin, fixed threads) for comparison; the warm start (two
runs of the agent's first step in two processes sharing a fresh prompt cache, with the real
tools); and bench_runner.py's sandbox-call targets. Every figure in a row is from this run.
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCRIPT = Path(__file__).resolve()
COUNT_PROMPT = "Count from 1 to 500, separated by commas, and nothing else."
DEFAULT_SPIN = "300000"  # libgomp's own spin count when nothing is set


def llama_bench_path(given: Path | None) -> Path:
    """The llama-bench binary: `given`, else the one scripts/build-llama-tools.sh builds."""
    if given is not None:
        return given
    out = subprocess.run(
        [str(REPO / "scripts" / "build-llama-tools.sh"), sys.executable],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for line in out.splitlines():
        name, _, path = line.partition(" ")
        if name == "llama-bench":
            return Path(path)
    raise SystemExit("build-llama-tools.sh printed no llama-bench path")


def model_paths(names: Sequence[str]) -> dict[str, Path]:
    """The benchmark models by name."""
    from scripts.fetch_test_assets import SMOLLM2, default_dir

    paths: dict[str, Path] = {}
    for name in names:
        if name == "smollm2":
            path = default_dir(os.environ) / SMOLLM2.name
            if not path.is_file():
                raise SystemExit(f"{path} is missing: run `make test-assets` first")
            paths[name] = path
        elif name == "qwen0.5b":
            from bench.bench_agent import build_model

            paths[name] = build_model("qwen2.5-0.5b", "Q4_K_M")
        else:
            raise SystemExit(f"unknown model {name!r} (smollm2, qwen0.5b)")
    return paths


def native(
    binary: Path, model: Path, threads: int, prompt: int, tokens: int, repeat: int
) -> dict[str, float]:
    """llama-bench's pp and tg tokens/s (its defaults otherwise: batch 2048, ubatch 512)."""
    command = [
        str(binary),
        "-m",
        str(model),
        "-t",
        str(threads),
        "-p",
        str(prompt),
        "-n",
        str(tokens),
        "-r",
        str(repeat),
        "-o",
        "json",
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800)
    rows = json.loads(out.stdout)
    figures: dict[str, float] = {}
    for row in rows:
        figures["pp" if row["n_prompt"] else "tg"] = float(row["avg_ts"])
    return figures


def worker(
    mode: str,
    model: Path,
    options: argparse.Namespace,
    env: dict[str, str] | None = None,
    *,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run this script's `--worker mode` in a fresh process (its own libgomp settings); None
    figures when it ran past `timeout` seconds."""
    command = [
        sys.executable,
        str(SCRIPT),
        "--worker",
        mode,
        "--model",
        str(model),
        "--threads",
        str(options.threads),
        "--tokens",
        str(options.tokens),
        "--prompt",
        str(options.prompt),
        "--repeat",
        str(options.repeat),
    ]
    if options.cache_dir:
        command += ["--cache-dir", options.cache_dir]
    if options.llama_bench:
        command += ["--llama-bench", str(options.llama_bench)]
    if options.fixed_threads:
        command.append("--fixed-threads")
    full_env = {**os.environ, **(env or {})}
    print(
        f"  {mode} {model.name} {' '.join(f'{k}={v}' for k, v in (env or {}).items())}",
        file=sys.stderr,
        flush=True,
    )
    try:
        out = subprocess.run(
            command, check=True, capture_output=True, text=True, env=full_env, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- workers (a fresh process each)


def _complete(backend: Any, prompt: Any, **options: Any) -> Any:
    stream = backend.stream_prompt(prompt, **options)
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value


def work_generation(options: argparse.Namespace) -> dict[str, Any]:
    """Generation and prompt speed of the agent's backend."""
    from agent.backend import load_backend
    from agent.config import ModelSettings, SamplingSettings
    from agent.messages import ChatMessage
    from agent.syntax import get_syntax
    from tool_runner import ToolMetadata, ToolParam

    settings = ModelSettings(
        path=Path(options.model), ctx=4096, threads=options.threads, prompt_cache=False
    )
    sampling = SamplingSettings(temperature=0, max_tokens=options.tokens)
    echo = ToolMetadata(
        name="Echo",
        description="Repeats the value it is given.",
        version="1",
        params=(ToolParam(name="value", description="text", type="string", required=True),),
    )
    grammar = get_syntax("directive").grammar([echo], tool_choice="auto")
    with load_backend(settings, sampling) as backend:
        if options.fixed_threads:
            backend._decoder.governor = None  # llama.cpp's way: the threads it was given
        prompt = backend.render([ChatMessage(role="user", content=COUNT_PROMPT)])
        # about --prompt tokens in this model's vocabulary (attention grows with the length)
        sentence = "The quick brown fox jumps over the lazy dog. "
        per = len(
            backend.tokenize(backend.render([ChatMessage(role="user", content=sentence)]).parts)
        )
        filler = sentence * max(options.prompt // max(per - 8, 1), 1)
        long_prompt = backend.render([ChatMessage(role="user", content=filler)])
        _complete(backend, prompt, max_tokens=8)  # warm-up: weights paged in
        free, constrained, reading, counts = [], [], [], []
        rejections = 0
        for _ in range(options.repeat):
            backend.reset()
            done = _complete(backend, prompt)
            free.append(done.tokens_per_s)
            counts.append(done.completion_tokens)
            backend.reset()
            before = backend._decoder.rejections
            done = _complete(backend, prompt, grammar=grammar)
            rejections += backend._decoder.rejections - before
            constrained.append(done.tokens_per_s)
            backend.reset()
            done = _complete(backend, long_prompt, max_tokens=1)
            reading.append(done.prompt_tokens / done.ttft_s)
        return {
            "tg": statistics.median(free),
            "tg_grammar": statistics.median(constrained),
            "pp": statistics.median(reading),
            "pp_tokens": done.prompt_tokens,
            "tokens": min(counts),
            "grammar_rejections": rejections / options.repeat,
        }


@contextmanager
def _generation_backend(options: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """The agent's backend on `options.model` for greedy generation of `options.tokens` tokens
    (fixed threads with `--fixed-threads`), warmed up, with the counting prompt."""
    from agent.backend import load_backend
    from agent.config import ModelSettings, SamplingSettings
    from agent.messages import ChatMessage

    settings = ModelSettings(
        path=Path(options.model), ctx=4096, threads=options.threads, prompt_cache=False
    )
    sampling = SamplingSettings(temperature=0, max_tokens=options.tokens)
    with load_backend(settings, sampling) as backend:
        if options.fixed_threads:
            backend._decoder.governor = None
        prompt = backend.render([ChatMessage(role="user", content=COUNT_PROMPT)])
        _complete(backend, prompt, max_tokens=8)  # warm-up: weights paged in
        yield backend, prompt


def work_tg(options: argparse.Namespace) -> dict[str, Any]:
    """Generation speed only (greedy, no grammar), for the contention runs."""
    with _generation_backend(options) as (backend, prompt):
        rates = []
        for _ in range(options.repeat):
            backend.reset()
            rates.append(_complete(backend, prompt).tokens_per_s)
        return {"tg": statistics.median(rates)}


def work_paired(options: argparse.Namespace) -> dict[str, Any]:
    """Generation of the agent's backend and of llama-bench, round after round: each round runs
    `llama-bench -n tokens` (a child process, while this one waits) and then one generation of
    as many tokens here, so that both sides of a ratio are measured within seconds of each
    other; the machine drifts by several percent over minutes."""
    binary = Path(options.llama_bench)
    with _generation_backend(options) as (backend, prompt):
        native_tg, agent_tg = [], []
        for _ in range(options.rounds):
            base = native(binary, Path(options.model), options.threads, 0, options.tokens, 1)
            native_tg.append(base["tg"])
            backend.reset()
            agent_tg.append(_complete(backend, prompt).tokens_per_s)
        ratios = [ours / theirs for ours, theirs in zip(agent_tg, native_tg, strict=True)]
        return {
            "native_tg": native_tg,
            "agent_tg": agent_tg,
            "tg": statistics.median(agent_tg),
            "native": statistics.median(native_tg),
            "ratio": statistics.median(ratios),
        }


def work_warm(options: argparse.Namespace) -> dict[str, Any]:
    """One agent run's first step with the real tools: load time and time to first token."""
    from agent.backend import load_backend
    from agent.config import LoopSettings, ModelSettings, SamplingSettings
    from agent.events import StepFinished
    from agent.executor import open_executor
    from agent.kvcache import PromptCache
    from agent.loop import run_agent
    from tool_runner import Policy

    started = time.perf_counter()
    settings = ModelSettings(path=Path(options.model), ctx=4096, threads=options.threads)
    sampling = SamplingSettings(temperature=0, max_tokens=8)
    components = REPO / "components"
    with (
        open_executor([], components, Policy(), in_process=True) as executor,
        load_backend(settings, sampling, prompt_cache=PromptCache(Path(options.cache_dir))) as b,
    ):
        loaded = time.perf_counter() - started
        for event in run_agent(COUNT_PROMPT, b, executor, LoopSettings(max_steps=1)):
            if isinstance(event, StepFinished):
                c = event.completion
                return {
                    "load_s": loaded,
                    "ttft_s": c.ttft_s,
                    "prompt_tokens": c.prompt_tokens,
                    "cached_tokens": c.cached_tokens,
                    "source": b.last_prompt_source,
                    "tools": len(executor.specs()),
                }
    raise SystemExit("the run ended before its first step")


# ---------------------------------------------------------------- competitors


@contextmanager
def competitor(kind: str, llama_bench: Path, model: Path) -> Iterator[None]:
    """A CPU-bound 2-thread process running beside the measurement."""
    if kind == "llama.cpp":
        # another generation, as llama.cpp runs by default (libgomp's long spin)
        command = [
            str(llama_bench),
            "-m",
            str(model),
            "-p",
            "0",
            "-n",
            "100000",
            "-t",
            "2",
            "-r",
            "1000",
        ]
    else:
        # compiling a component, as a tool build or a cold cache does (cranelift, all cores)
        command = [sys.executable, "-c", _COMPILE_LOOP, str(_compile_target())]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        yield
    finally:
        process.kill()
        process.wait()


_COMPILE_LOOP = """
import sys, wasmtime
from wasmtime import component
engine = wasmtime.Engine()  # no compile cache unless asked for: each round compiles again
data = open(sys.argv[1], "rb").read()
while True:
    component.Component(engine, data)
"""


def _compile_target() -> Path:
    for name in ("calculator-tool-component.wasm", "echo-tool-component.wasm"):
        path = REPO / "components" / name
        if path.is_file():
            return path
    raise SystemExit("components/ is not built: run `make components` first")


# ---------------------------------------------------------------- the table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=128, help="tokens generated per run")
    parser.add_argument("--prompt", type=int, default=512, help="prompt tokens for pp")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rounds", type=int, default=5, help="paired llama-bench/agent generation rounds"
    )
    parser.add_argument("--models", default="smollm2,qwen0.5b")
    parser.add_argument("--llama-bench", type=Path)
    parser.add_argument("--no-contention", action="store_true")
    parser.add_argument("--contention-tokens", type=int, default=48)
    parser.add_argument(
        "--contention-timeout", type=float, default=120, help="seconds per contended run"
    )
    parser.add_argument("--no-warm", action="store_true")
    parser.add_argument("--no-sandbox", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("--fixed-threads", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        work = {
            "generation": work_generation,
            "tg": work_tg,
            "warm": work_warm,
            "paired": work_paired,
        }
        print(json.dumps(work[options.worker](options)))
        return

    binary = llama_bench_path(options.llama_bench)
    models = model_paths(options.models.split(","))
    rows: list[tuple[str, str, str, str]] = []
    figures: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    t = options.threads
    for name, model in models.items():
        print(f"{name}: llama-bench and the agent's backend", file=sys.stderr, flush=True)
        base = native(binary, model, t, options.prompt, 0, options.repeat)  # pp (tg: paired)
        ours = worker("generation", model, options)
        paired_options = argparse.Namespace(**{**vars(options), "llama_bench": binary})
        paired = worker("paired", model, paired_options)
        # the same decode loop with llama.cpp's own thread settings (libgomp's default spin,
        # fixed threads), as llama-bench runs: the Python loop's cost alone
        fixed = argparse.Namespace(**{**vars(paired_options), "fixed_threads": True})
        same = worker("paired", model, fixed, {"GOMP_SPINCOUNT": DEFAULT_SPIN})
        figures[name] = {
            "llama_bench": base,
            "agent": ours,
            "paired": paired,
            "paired_llama_settings": same,
        }
        rows += [
            (
                f"{name}: generation (tg{options.tokens}, {t} threads, "
                "llama.cpp's thread settings)",
                f"{same['tg']:.1f}",
                f"{same['native']:.1f} llama-bench",
                _ratio(same["ratio"], 1.0, 0.97),
            ),
            (
                f"{name}: generation, the agent's thread settings",
                f"{paired['tg']:.1f}",
                f"{paired['native']:.1f} llama-bench",
                _ratio(paired["ratio"], 1.0, 0.97),
            ),
            (
                f"{name}: generation with a grammar (directive, auto; "
                f"{ours['grammar_rejections']:.0f} tokens rejected)",
                f"{ours['tg_grammar']:.1f}",
                f"{ours['tg']:.1f} no grammar",
                _ratio(ours["tg_grammar"], ours["tg"], 0.95),
            ),
            (
                f"{name}: prompt (pp, {ours['pp_tokens']} tokens vs pp{options.prompt})",
                f"{ours['pp']:.1f}",
                f"{base['pp']:.1f} llama-bench",
                _ratio(ours["pp"], base["pp"], 0.97),
            ),
        ]
    first = next(iter(models.values()))
    if not options.no_contention:
        rows += contention(options, binary, first, figures)
    if not options.no_warm:
        rows += warm_start(options, first, figures)
    if not options.no_sandbox:
        rows += sandbox(figures)
    figures["load_average_after"] = os.getloadavg()[0]
    if options.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"\n{t} threads, greedy, median of {options.repeat}; load average "
        f"{figures['load_average']:.1f} before, {figures['load_average_after']:.1f} after "
        f"on {os.cpu_count()} CPUs\n"
    )
    print("| measure | agent | baseline | ratio (target) |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def contention(
    options: argparse.Namespace, binary: Path, model: Path, figures: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """Generation alone and beside each competitor, with the agent's settings and with
    llama.cpp's defaults; a run past `--contention-timeout` counts as under tokens/timeout."""
    quick = argparse.Namespace(**{**vars(options), "tokens": options.contention_tokens})
    fixed = argparse.Namespace(**{**vars(quick), "fixed_threads": True})
    default_env = {"GOMP_SPINCOUNT": DEFAULT_SPIN}
    limit = options.contention_timeout

    def tg(namespace: argparse.Namespace, env: dict[str, str] | None = None) -> float | None:
        return worker("tg", model, namespace, env, timeout=limit).get("tg")

    ours_alone = tg(quick) or 0.0
    default_alone = tg(fixed, default_env) or 0.0
    rows = [
        (
            "generation alone: agent settings vs llama.cpp's (spin 300000, fixed threads)",
            f"{ours_alone:.1f}",
            f"{default_alone:.1f}",
            _ratio(ours_alone, default_alone, 0.97),
        )
    ]
    found: dict[str, float | None] = {"alone": ours_alone, "default_alone": default_alone}
    floor = f"< {options.contention_tokens / limit:.2f} (timed out)"
    for kind in ("llama.cpp", "compile"):
        with competitor(kind, binary, model):
            ours = tg(quick)
            default = tg(fixed, default_env)
        found[kind] = ours
        found[f"default_{kind}"] = default
        rows.append(
            (
                f"generation beside a {kind} process (2 threads): agent settings",
                floor if ours is None else f"{ours:.1f}",
                f"{ours_alone:.1f} alone",
                _ratio(ours or 0.0, ours_alone, 0.4),
            )
        )
        rows.append(
            (
                f"generation beside a {kind} process: llama.cpp's settings",
                floor if default is None else f"{default:.1f}",
                f"{default_alone:.1f} alone",
                _ratio(default or 0.0, default_alone, None),
            )
        )
    figures["contention"] = found
    return rows


def warm_start(
    options: argparse.Namespace, model: Path, figures: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """Two agent runs in two processes sharing a fresh prompt cache."""
    with tempfile.TemporaryDirectory() as cache:
        warm_options = argparse.Namespace(**{**vars(options), "cache_dir": cache})
        cold = worker("warm", model, warm_options)
        warm = worker("warm", model, warm_options)
    figures["warm_start"] = {"cold": cold, "warm": warm}
    return [
        (
            f"time to first token, 2nd run ({warm['tools']} tools, {warm['cached_tokens']} of "
            f"{warm['prompt_tokens']} prompt tokens from disk)",
            f"{warm['ttft_s'] * 1000:.0f} ms",
            f"{cold['ttft_s'] * 1000:.0f} ms 1st run",
            _ratio(warm["ttft_s"], cold["ttft_s"], 0.15, at_most=True),
        ),
        (
            "model load (both runs)",
            f"{warm['load_s'] * 1000:.0f} ms",
            f"{cold['load_s'] * 1000:.0f} ms",
            "",
        ),
    ]


def sandbox(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """bench_runner.py's sandbox-call figures and targets."""
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_runner.py"), "--json", "--calls", "1000"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = json.loads(out)
    figures["sandbox"] = found
    return [(f"sandbox: {line.removeprefix('target ')}", "", "", "") for line in found["targets"]]


def _ratio(ours: float, base: float, target: float | None, *, at_most: bool = False) -> str:
    if base <= 0:
        return "n/a"
    ratio = ours / base
    if target is None:
        return f"{ratio:.2f}x"
    met = ratio <= target if at_most else ratio >= target
    sign = "<=" if at_most else ">="
    return f"{ratio:.2f}x ({sign} {target:g}: {'met' if met else 'MISSED'})"


if __name__ == "__main__":
    main()
