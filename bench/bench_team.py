"""Agents sharing one model: what saving and restoring each agent's context saves.

Runs the team example (examples/team/app.toml: a manager that delegates to two clerks, all
three on one loaded model) on the real SmolLM2-135M-Instruct, the same requests twice in one
process: once with each agent's KV state saved and restored when another agent has used the
model (`Team(keep_contexts=True)`, the default), once without. Greedy decoding, the on-disk
prompt cache off, so only this mechanism differs. Prints the prompt tokens evaluated (not taken
from the KV cache) and the wall time of each request, and the ratios.

    .venv/bin/python bench/bench_team.py [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.app import Team, TeamEvent, load_app  # noqa: E402
from agent.events import StepFinished  # noqa: E402
from agent.session import LlamaLoader  # noqa: E402
from scripts.fetch_test_assets import default_dir  # noqa: E402

REQUESTS = ("What is 17 * 23?", "And what is 391 / 17?", "What does notes.txt say?")


class FileLoader(LlamaLoader):
    """The model file given on the command line, whatever the app names."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def resolve(self, settings):  # type: ignore[no-untyped-def]
        return self.path


def run(app_file: Path, model: Path, keep: bool) -> list[tuple[int, int, float, int]]:
    """Per request: prompt tokens evaluated, prompt tokens in all, seconds, steps."""
    rows = []
    with Team.open(load_app(app_file), loader=FileLoader(model), keep_contexts=keep) as team:
        for text in REQUESTS:
            events: list[TeamEvent] = []
            started = time.perf_counter()
            team.ask(text, observe=events.append)
            elapsed = time.perf_counter() - started
            steps = [e.event for e in events if isinstance(e.event, StepFinished)]
            evaluated = sum(s.completion.prompt_tokens - s.completion.cached_tokens for s in steps)
            total = sum(s.completion.prompt_tokens for s in steps)
            rows.append((evaluated, total, elapsed, len(steps)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, default=default_dir(os.environ) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "team"
        shutil.copytree(REPO / "examples" / "team", folder)
        app_file = folder / "app.toml"
        text = app_file.read_text().replace("../../components", str(REPO / "components"))
        app_file.write_text(
            text.replace("max_tokens = 192", "max_tokens = 96\nprompt_cache = false")
        )
        results = {keep: run(app_file, args.model, keep) for keep in (False, True)}
    print(f"load average {os.getloadavg()[0]:.1f}; model {args.model.name}")
    print("request: steps; prompt tokens evaluated / in all, and seconds, without -> with restore")
    for index, text in enumerate(REQUESTS):
        off, on = results[False][index], results[True][index]
        print(
            f"{text:28} {on[3]} steps; {off[0]:>5} / {off[1]:<5} -> {on[0]:>5} / {on[1]:<5}; "
            f"{off[2]:6.2f} s -> {on[2]:6.2f} s"
        )
    off_tokens, on_tokens = (sum(r[0] for r in results[keep]) for keep in (False, True))
    off_s, on_s = (sum(r[2] for r in results[keep]) for keep in (False, True))
    ratio = on_tokens / max(off_tokens, 1)
    print(
        f"prompt tokens evaluated, with / without restore: {on_tokens}/{off_tokens} = {ratio:.2f}"
    )
    print(f"wall time, with / without restore: {on_s:.2f}/{off_s:.2f} s = {on_s / off_s:.2f}")


if __name__ == "__main__":
    main()
