"""Shaping loss curves for display: bounded point counts and a smoothed line (no Textual here)."""

from __future__ import annotations

import numpy as np


def downsample(steps, values, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points: consecutive points averaged in equal buckets
    (each bucket is placed at its last step)."""
    steps = np.asarray(steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(steps) <= max_points or max_points < 1:
        return steps, values
    edges = np.linspace(0, len(steps), max_points + 1).astype(np.int64)
    means = np.add.reduceat(values, edges[:-1]) / np.diff(edges)
    return steps[edges[1:] - 1], means


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (TensorBoard's smoothing)."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return out


def since(steps, values, first_step: float) -> tuple[np.ndarray, np.ndarray]:
    """The points at or after `first_step` (steps ascending), as views: no copies, so it stays
    cheap at any length."""
    steps = np.asarray(steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    start = int(np.searchsorted(steps, first_step, side="left"))
    return steps[start:], values[start:]
