#!/usr/bin/env python3
"""The agent's cost over plain llama-cpp-python, and what prefix reuse buys, in one run.

    .venv/bin/python bench/bench_agent.py [--shape qwen2.5-0.5b] [--tokens 96] [--repeat 3]
        [--call-tokens 64] [--llama-bench PATH] [--json]

It builds (once, into `.make/bench/`) a random-weights GGUF with the dimensions of a real small
model, quantised to Q4_K_M by llama.cpp's own quantizer, and measures:

1. generation tokens/s through the agent loop (`run_agent` with the real backend, no grammar)
   versus plain `Llama.create_completion` streaming on the same prompt, greedy, same tokens;
   the same through the loop with the directive grammar, for information;
2. time to first token of step 2 of a tool-using run (step 1 calls the real echo component)
   versus evaluating that same step-2 prompt cold (fresh KV cache);
3. optionally `llama-bench` (`--llama-bench PATH`, built from the sdist's vendored llama.cpp).

Targets: the loop keeps >= 95% of plain generation speed; step 2's TTFT < 20% of cold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import llama_cpp  # noqa: E402 - the baseline is plain llama-cpp-python

from agent.backend import LlamaBackend, load_backend  # noqa: E402
from agent.config import LoopSettings, ModelSettings, SamplingSettings  # noqa: E402
from agent.events import Answer, RunStopped, StepFinished, StepStarted  # noqa: E402
from agent.executor import open_executor  # noqa: E402
from agent.loop import run_agent  # noqa: E402
from scripts.make_test_model import write_model  # noqa: E402
from tool_runner import Policy  # noqa: E402

PROMPT = "Please echo back 'Something to echo'"


def build_model(shape: str, quantize: str) -> Path:
    """The benchmark model, generated once and cached under `.make/bench/`."""
    path = REPO / ".make" / "bench" / f"random-{shape}-{quantize.lower()}.gguf"
    if not path.exists():
        print(f"generating {path.name} (random weights, {shape} shape, {quantize}) ...", flush=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".building.gguf")
        write_model(tmp, shape=shape, quantize=quantize, name=f"random-{shape}")
        tmp.replace(path)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def plain_generation(llm: llama_cpp.Llama, prompt: str, tokens: int) -> tuple[float, int]:
    """tokens/s after the first token, and the token count, of plain streaming completion."""
    first = last = 0.0
    count = 0
    for chunk in llm.create_completion(
        prompt, max_tokens=tokens, temperature=0.0, top_k=1, stream=True
    ):
        now = time.perf_counter()
        if chunk["choices"][0]["text"]:
            count += 1
            first = first or now
            last = now
    return ((count - 1) / (last - first) if count > 1 and last > first else 0.0), count


def agent_generation(
    backend: LlamaBackend, executor: object, grammar: bool
) -> tuple[float, int, str]:
    """tokens/s of step 1 through the agent loop; also returns the rendered prompt."""
    settings = LoopSettings(syntax="directive", grammar=grammar, max_steps=1)
    prompt, rate, count = "", 0.0, 0
    pieces = 0
    first = last = 0.0
    for event in run_agent(PROMPT, backend, executor, settings):  # type: ignore[arg-type]
        now = time.perf_counter()
        if isinstance(event, StepStarted):
            prompt = event.prompt
        elif event.kind == "token":
            pieces += 1
            first = first or now
            last = now
        elif isinstance(event, StepFinished):
            count = event.completion.completion_tokens
            rate = (pieces - 1) / (last - first) if pieces > 1 and last > first else 0.0
            break
    return rate, count, prompt


def step2_ttft(
    backend: LlamaBackend, executor: object, call_tokens: int
) -> tuple[float, str, int, int, int]:
    """Step 2's time to first token in a run whose step 1 must call a tool.

    Step 1 may generate at most `call_tokens` (a random model fills the echo value to the cap,
    and the tool result repeats it, so this sets how much new text step 2 has to evaluate).
    Also returns how many tokens step 1 left in the KV cache (its prompt and its reply).
    """
    backend.reset()
    sampling = backend.sampling
    backend.sampling = sampling.model_copy(update={"max_tokens": call_tokens})
    settings = LoopSettings(syntax="directive", grammar=True, tool_choice="required", max_steps=2)
    step1 = 0
    try:
        for event in run_agent(PROMPT, backend, executor, settings):  # type: ignore[arg-type]
            if isinstance(event, StepFinished) and event.step == 1:
                step1 = event.completion.prompt_tokens + event.completion.completion_tokens
            if isinstance(event, StepFinished) and event.step == 2:
                c = event.completion
                return c.ttft_s, c.prompt, c.prompt_tokens, c.cached_tokens, step1
            if isinstance(event, (Answer, RunStopped)):
                break
    finally:
        backend.sampling = sampling
    raise SystemExit("the run ended before step 2 (step 1 made no tool call)")


def cold_ttft(llm: llama_cpp.Llama, prompt: str) -> float:
    """Time to the first token of `prompt` evaluated from an empty KV cache."""
    llm.reset()
    started = time.perf_counter()
    for chunk in llm.create_completion(prompt, max_tokens=1, temperature=0.0, stream=True):
        del chunk
        break
    return time.perf_counter() - started


def llama_bench(binary: Path, model: Path, tokens: int, threads: int) -> float | None:
    """llama.cpp's own tg tokens/s for this model, or None if it cannot run."""
    command = [str(binary), "-m", str(model), "-p", "0", "-n", str(tokens), "-t", str(threads),
               "-r", "3", "-o", "json"]  # fmt: skip
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
        return float(json.loads(out.stdout)[0]["avg_ts"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError) as exc:
        print(f"llama-bench failed: {exc}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="qwen2.5-0.5b")
    parser.add_argument("--quantize", default="Q4_K_M")
    parser.add_argument("--tokens", type=int, default=96, help="tokens generated per run")
    parser.add_argument(
        "--call-tokens", type=int, default=64, help="token cap of step 1 in the step-2 TTFT run"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--llama-bench", type=Path, help="a llama-bench binary to compare with")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    model = build_model(args.shape, args.quantize)
    echo = REPO / "components" / "echo-tool-component.wasm"
    if not echo.is_file():
        raise SystemExit(f"{echo} is missing: run `make components` first")
    n_ctx = 2048
    sampling = SamplingSettings(temperature=0.0, top_k=1, max_tokens=args.tokens)
    settings = ModelSettings(path=model, ctx=n_ctx, threads=args.threads, seed=1)
    plain = llama_cpp.Llama(
        str(model), n_ctx=n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
        n_gpu_layers=-1, seed=1, verbose=False,
    )  # fmt: skip
    figures: dict[str, float] = {}
    with (
        load_backend(settings, sampling) as backend,
        open_executor([echo], REPO / "components", Policy()) as executor,
    ):
        agent_rates, plain_rates, grammar_rates = [], [], []
        counts = set()
        # warm up both: weights paged in from the mmap, prompt evaluated once (then cached)
        prompt = agent_generation(backend, executor, grammar=False)[2]
        plain_generation(plain, prompt, 4)
        for _ in range(args.repeat):
            rate, count, prompt = agent_generation(backend, executor, grammar=False)
            agent_rates.append(rate)
            counts.add(count)
            rate, count = plain_generation(plain, prompt, args.tokens)
            plain_rates.append(rate)
            grammar_rates.append(agent_generation(backend, executor, grammar=True)[0])
        ttft2, prompt2, prompt2_tokens, cached2, step1_tokens = step2_ttft(
            backend, executor, args.call_tokens
        )
        cold = statistics.median(cold_ttft(plain, prompt2) for _ in range(args.repeat))

    figures["agent_tokens_per_s"] = statistics.median(agent_rates)
    figures["plain_tokens_per_s"] = statistics.median(plain_rates)
    figures["agent_grammar_tokens_per_s"] = statistics.median(grammar_rates)
    figures["speed_ratio"] = figures["agent_tokens_per_s"] / figures["plain_tokens_per_s"]
    figures["step2_ttft_s"] = ttft2
    figures["cold_ttft_s"] = cold
    figures["ttft_ratio"] = ttft2 / cold
    figures["step2_prompt_tokens"] = prompt2_tokens
    figures["step2_cached_tokens"] = cached2
    figures["step1_tokens"] = step1_tokens
    if args.llama_bench:
        rate_or_none = llama_bench(args.llama_bench, model, args.tokens, args.threads)
        if rate_or_none is not None:
            figures["llama_bench_tokens_per_s"] = rate_or_none
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    size_mib = model.stat().st_size / 2**20
    print(
        f"\nmodel: {model.name} ({size_mib:.0f} MiB), {args.threads} threads, greedy, "
        f"{args.tokens} tokens, median of {args.repeat}"
    )
    rows = [
        ("plain create_completion", f"{figures['plain_tokens_per_s']:.1f} tokens/s"),
        (
            "agent loop, no grammar",
            f"{figures['agent_tokens_per_s']:.1f} tokens/s "
            f"({figures['speed_ratio']:.1%} of plain; target >= 95%)",
        ),
        ("agent loop, directive grammar", f"{figures['agent_grammar_tokens_per_s']:.1f} tokens/s"),
    ]
    if "llama_bench_tokens_per_s" in figures:
        rows.append(
            (f"llama-bench tg{args.tokens}", f"{figures['llama_bench_tokens_per_s']:.1f} tokens/s")
        )
    rows.append(
        (
            f"step-2 TTFT (step 1 capped at {args.call_tokens} tokens; prefix reused: "
            f"{cached2}/{prompt2_tokens} tokens, step 1 left {step1_tokens} in the cache)",
            f"{ttft2 * 1000:.0f} ms",
        )
    )
    rows.append(
        (
            "same prompt, cold",
            f"{cold * 1000:.0f} ms (step 2 is {figures['ttft_ratio']:.1%}; target < 20%)",
        )
    )
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if len(counts) > 1:
        print(f"note: token counts differed between runs: {sorted(counts)}")


if __name__ == "__main__":
    main()
