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

from collections.abc import MutableMapping

SPIN_COUNT = "10000"
"""libgomp's spins at a barrier before sleeping (chosen by measurement: bench/README.md)."""
SPIN_ENV = "GOMP_SPINCOUNT"


def configure_openmp(environ: MutableMapping[str, str]) -> None:
    """Set libgomp's spin count in `environ` (the process environment) unless the user set
    it or a wait policy; takes effect only before libgomp loads."""
    if SPIN_ENV not in environ and "OMP_WAIT_POLICY" not in environ:
        environ[SPIN_ENV] = SPIN_COUNT
