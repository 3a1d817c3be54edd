"""`eventually(check)`: poll a condition that another process or thread makes true."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], within_s: float = 10.0) -> bool:
    """Whether `check()` becomes true within `within_s` (polled every 50 ms)."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
