"""Sizes for people, written as the Hugging Face Hub writes them (a leaf module: errors and the
CLI both use it)."""

from __future__ import annotations


def format_size(n: int) -> str:
    """Bytes in powers of 1000, as the hub shows them: 512 B, 491.4 MB, 2.4 GB."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
