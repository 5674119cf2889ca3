"""Numbers for people: durations and counts, shared by the CLI and the app."""

from __future__ import annotations


def format_duration(seconds: float | None) -> str:
    """12:05 or 1:02:03; --:-- when unknown."""
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_count(n: float) -> str:
    """1.2M, 31.5k, 950."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k".replace(".0k", "k")
    return f"{n:.0f}"


def format_bytes(n: int) -> str:
    """1.0 GB, 56 KB, 300 bytes (powers of 1000, as file managers show them)."""
    for unit, size, digits in (("GB", 1e9, 1), ("MB", 1e6, 1), ("KB", 1e3, 0)):
        if n >= size:
            return f"{n / size:.{digits}f} {unit}"
    return f"{n} bytes"
