"""Shaping loss curves for display: bounded point counts and a smoothed line (no Textual here)."""

from __future__ import annotations

import numpy as np


def downsample(points: list[tuple[int, float]], max_points: int) -> list[tuple[float, float]]:
    """At most `max_points` points: consecutive points averaged in equal buckets."""
    if len(points) <= max_points or max_points < 1:
        return [(float(s), float(v)) for s, v in points]
    array = np.asarray(points, dtype=np.float64)
    buckets = np.array_split(array, max_points)
    return [(float(b[-1, 0]), float(b[:, 1].mean())) for b in buckets]


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (TensorBoard's smoothing)."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return out
