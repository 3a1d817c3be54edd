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

from collections import deque
from collections.abc import MutableMapping

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
    many times slower than one, which never waits. `observe` gets each token's time; when the
    median of the last `window` tokens at full width exceeds `slack` times the best seen (and
    is not clearly faster than one thread was when last measured), the governor drops to one
    thread; after `probe_every` tokens it tries full width again for `window` tokens, keeping
    whichever was faster (each failed probe doubles the wait, up to `max_probe_every`). Alone,
    full width stays near its best and the governor never switches (no cost).
    """

    def __init__(
        self,
        threads: int,
        *,
        window: int = 4,
        slack: float = 1.5,
        probe_every: int = 16,
        max_probe_every: int = 256,
    ) -> None:
        self.full = max(threads, 1)
        self.current = self.full
        self._window = window
        self._slack = slack
        self._probe_every = probe_every
        self._max_probe_every = max_probe_every
        self._interval = probe_every
        self._best: float | None = None
        self._recent: deque[float] = deque(maxlen=window)
        self._single: deque[float] = deque(maxlen=window)
        self._since_probe = 0
        self._probing = 0

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
                    if _median(self._recent) >= _median(self._single):
                        # still slower: probe less often (a probe at full width costs most
                        # when the cores are most contended)
                        self._interval = min(self._interval * 2, self._max_probe_every)
                        self._go_single()
                    else:
                        self._interval = self._probe_every
            elif (
                len(self._recent) == self._window
                and _median(self._recent) > self._slack * self._best
                and (
                    not self._single or _median(self._recent) > _median(self._single) / self._slack
                )
            ):
                self._go_single()
        else:
            self._single.append(seconds)
            self._since_probe += 1
            if self._since_probe >= self._interval:
                self.current = self.full
                self._probing = self._window
                self._recent.clear()
        return self.current

    def _go_single(self) -> None:
        self.current = 1
        self._since_probe = 0
        self._recent.clear()


def _median(values: deque[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("inf")
