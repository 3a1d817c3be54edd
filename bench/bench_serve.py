#!/usr/bin/env python3
"""`agent serve`: what a warm server and the KV cache save a second request, in one run.

    .venv/bin/python bench/bench_serve.py [--model PATH] [--max-tokens 24] [--threads 2] [--json]

It serves the real SmolLM2-135M-Instruct (`make test-assets` fetches it into
~/.cache/llm-agent/test-assets) with every tool in `components/` on 127.0.0.1 (an ephemeral
port), and sends with the official `openai` client, greedy, one model turn per request:

1. a first request (the system prompt with the tool list, and a question): all of it evaluated;
2. a second request continuing that conversation (the first answer, a follow-up): it shares the
   first one's prefix, which the KV cache holds;
3. a request with another system prompt, which pushes that prefix out of the KV cache;
4. the second request again, now evaluated from scratch: the baseline for (2).

It prints each request's prompt tokens, the tokens taken from the KV cache, the time to first
token (the model's, from the `llm_agent` report) and the whole request's time seen by the
client, then (2) against (4).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from openai import OpenAI  # noqa: E402

from agent import AgentSettings, Session, resolve_settings  # noqa: E402
from agent.serve import ChatService, Server, create_app  # noqa: E402
from scripts import fetch_test_assets  # noqa: E402

QUESTION = "What is the capital of France? Answer in one sentence."
FOLLOW_UP = "And what is the capital of Italy?"


def _default_model() -> Path:
    import os

    return fetch_test_assets.default_dir(os.environ) / fetch_test_assets.SMOLLM2.name


def _request(client: OpenAI, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    reply = client.chat.completions.create(
        model="served",
        messages=messages,  # type: ignore[arg-type]
        max_tokens=max_tokens,
        temperature=0,
    )
    elapsed = time.perf_counter() - started
    assert reply.usage is not None and reply.model_extra is not None
    step = reply.model_extra["llm_agent"]["steps"][0]
    details = reply.usage.prompt_tokens_details
    return {
        "answer": reply.choices[0].message.content or "",
        "prompt_tokens": reply.usage.prompt_tokens,
        "cached_tokens": (details.cached_tokens or 0) if details is not None else 0,
        "ttft_s": step["ttft_s"],
        "request_s": elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF (default: SmolLM2-135M)")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    model = args.model or _default_model()
    if not model.is_file():
        print(f"{model} is missing: run `make test-assets` (or pass --model)", file=sys.stderr)
        return 2
    flags: dict[str, Any] = {
        "model": str(model),
        "tools_dir": REPO / "components",
        "ctx": 4096,
        "threads": args.threads,
        "seed": 1,
        "max_steps": 1,  # one model turn per request: the comparison is about the prompt
        "in_process": True,
    }
    if "prompt_cache" in AgentSettings.model_fields:
        # the KV states saved on disk would serve the "cold" request too: measure memory alone
        flags["prompt_cache"] = False
    settings = resolve_settings(flags)
    with Session.open(settings) as session:
        service = ChatService.for_session(session, aliases=("served",))
        with Server.start(create_app(service)) as server:
            client = OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)
            first_messages = [{"role": "user", "content": QUESTION}]
            first = _request(client, first_messages, args.max_tokens)
            second_messages = [
                *first_messages,
                {"role": "assistant", "content": first["answer"]},
                {"role": "user", "content": FOLLOW_UP},
            ]
            second = _request(client, second_messages, args.max_tokens)
            evict = [{"role": "system", "content": "You are terse."}, *first_messages]
            _request(client, evict, args.max_tokens)
            cold = _request(client, second_messages, args.max_tokens)
    tools = ", ".join(tool.name for tool in session.tools)
    figures = {"model": model.name, "tools": tools, "first": first, "second": second, "cold": cold}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"model {model.name}, tools: {tools}; greedy, at most {args.max_tokens} tokens a reply")
    rows = [
        ("1. first request", first),
        ("2. second, sharing its prefix", second),
        ("4. second again, cache evicted", cold),
    ]
    for label, row in rows:
        print(
            f"{label:32} prompt {row['prompt_tokens']:5} tokens, {row['cached_tokens']:5} cached; "
            f"TTFT {row['ttft_s']:6.3f} s; request {row['request_s']:6.3f} s"
        )
    print(
        f"second request with the shared prefix cached: TTFT "
        f"{second['ttft_s'] / cold['ttft_s']:.1%} of cold, request time "
        f"{second['request_s'] / cold['request_s']:.1%} of cold "
        f"(first request: {first['request_s']:.3f} s, second: {second['request_s']:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
