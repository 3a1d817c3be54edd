"""How llama.cpp's CPU threads wait for each other, so that generation survives shared cores.

Our llama.cpp is built with OpenMP (as llama-cpp-python builds it by default): every step of a
token's graph ends at an OpenMP barrier, where GNU libgomp spins for `GOMP_SPINCOUNT` iterations
before it sleeps (300,000 by default). Alone, a barrier is crossed within a few thousand spins.
Beside another CPU-bound process, the thread being waited for is often descheduled, and a waiter
spinning its whole count burns the time slice its partner needs: generation collapsed from 75.7
to 0.34 tokens/s beside a second llama.cpp. A short spin, then sleep, keeps the barriers fast
alone and lets the threads yield under contention (bench/bench_llama.py measures both).

libgomp reads its variables once, when it is loaded (when `llama_cpp` is first imported), so
`configure_openmp` runs before that import; a value the user set is left alone.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path

SPIN_COUNT = "10000"
"""libgomp's spins at a barrier before sleeping (chosen by measurement: bench/README.md)."""
SPIN_ENV = "GOMP_SPINCOUNT"


def configure_openmp(environ: MutableMapping[str, str]) -> None:
    """Set libgomp's spin count in `environ` (the process environment) unless the user set
    it or a wait policy; takes effect only before libgomp loads."""
    if SPIN_ENV not in environ and "OMP_WAIT_POLICY" not in environ:
        environ[SPIN_ENV] = SPIN_COUNT


class ThreadGovernor:
    """Chooses, token by token, how many threads generate: all of them while they run near their
    best time per token, one when sharing the cores has slowed them past that.

    Threads of one graph meet at a barrier after every operation, so a generation whose threads
    are not all running waits at each one: beside other CPU-bound processes, two threads can be
    many times slower than one, which never waits (SmolLM2 beside a spinning 2-thread llama.cpp:
    about 20 tokens/s on two threads, 95-120 on one; 178 and 157 alone).

    A generation starts on one thread when `busy()` says other processes already keep the cores
    busy (default: the kernel's count of runnable threads, `cores_busy`). `observe` gets each
    token's time; when the median of the last `window` tokens at full width exceeds `slack`
    times the best seen (and is not clearly faster than one thread was when last measured), the
    governor drops to one thread; every `probe_every` tokens, unless `busy()` still says the
    cores are taken, it tries full width for `probe_tokens` tokens and keeps it when the faster
    of them beat one thread's median (each failed probe doubles the wait, up to
    `max_probe_every`). Alone, full width stays near its best and the governor never switches
    (no cost).
    """

    def __init__(
        self,
        threads: int,
        *,
        window: int = 3,
        slack: float = 1.5,
        probe_every: int = 16,
        probe_tokens: int = 2,
        max_probe_every: int = 256,
        busy: Callable[[int], bool] | None = None,
    ) -> None:
        self.full = max(threads, 1)
        self.current = self.full
        self._window = window
        self._slack = slack
        self._probe_every = probe_every
        self._probe_tokens = probe_tokens
        self._max_probe_every = max_probe_every
        self._interval = probe_every
        self._busy = busy if busy is not None else cores_busy
        self._best: float | None = None
        self._recent: deque[float] = deque(maxlen=max(window, probe_tokens))
        self._single: deque[float] = deque(maxlen=window * 2)
        self._since_probe = 0
        self._probing = 0

    def start(self) -> int:
        """At the start of a generation: one thread when other processes keep the cores busy
        (a probe later finds out when they stop); returns the thread count to start with."""
        idle = self.full == 1 or self.current != self.full or self._probing
        if not idle and self._busy(self.full):
            self._go_single()
        return self.current

    def observe(self, seconds: float) -> int:
        """Record the time of one token generated with `current` threads; returns the thread
        count for the next token."""
        if self.full == 1:
            return 1
        if self.current == self.full:
            self._best = seconds if self._best is None else min(self._best, seconds)
            self._recent.append(seconds)
            if self._probing:
                self._probing -= 1
                if not self._probing:
                    # the faster of the probe's tokens: the first also wakes the thread pool
                    if min(self._recent) >= _median(self._single):
                        # still slower: probe less often (a probe at full width costs most
                        # when the cores are most contended)
                        self._interval = min(self._interval * 2, self._max_probe_every)
                        self._go_single()
                    else:
                        self._interval = self._probe_every
            else:
                window = list(self._recent)[-self._window :]
                if (
                    len(window) == self._window
                    and _median(window) > self._slack * self._best
                    and (not self._single or _median(window) > _median(self._single) / self._slack)
                ):
                    self._go_single()
        else:
            self._single.append(seconds)
            self._since_probe += 1
            if self._since_probe >= self._interval:
                self._since_probe = 0
                if not self._busy(self.full):  # a probe at full width only when it may win
                    self.current = self.full
                    self._probing = self._probe_tokens
                    self._recent.clear()
        return self.current

    def _go_single(self) -> None:
        self.current = 1
        self._since_probe = 0
        self._recent.clear()


def cores_busy(threads: int, proc: Path = Path("/proc")) -> bool:
    """Whether other processes' threads are running now on the cores `threads` of ours would
    need: the kernel's count of runnable threads (`loadavg`) less those of this process (its
    tasks in state R: the caller, spinning OpenMP workers), against the cores. False where
    `/proc` cannot be read."""
    try:
        running = int((proc / "loadavg").read_text().split()[3].split("/")[0])
        ours = 0
        for task in (proc / "self" / "task").iterdir():
            stat = (task / "stat").read_text()
            ours += stat[stat.rindex(")") + 2] == "R"
    except (OSError, ValueError, IndexError):
        return False
    return running - ours > max((os.cpu_count() or 1) - threads, 0)


def _median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("inf")
