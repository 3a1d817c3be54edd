"""Small, fast limits for the sandbox tests (a module of its own: `conftest` is not importable
by name when pytest loads several test directories' conftests in one run)."""

from __future__ import annotations

from tool_runner import Limits

FAST_LIMITS = Limits(timeout_s=0.3, memory_mib=16, max_output_bytes=64 * 1024)
