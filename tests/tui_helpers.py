"""Shared pieces for the app tests: a small model, waiting for conditions, fixed data."""

import asyncio
import time

from chartui.config import preset

SMALL = dict(embedding_dim=16, hidden_size=48, batch_size=8, seq_len=32, iterations=100_000,
             eval_every=20, sample_every=20, sample_length=40, warmup_steps=5,
             eval_max_chars=2048, seed=11)


def small_config(**changes):
    return preset("default").override(**{**SMALL, **changes})


async def wait_for(pilot, condition, timeout=60.0, what="condition"):
    """Let the app run until `condition()` holds (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot, app):
    """Wait until background loading (corpus, warm-up) is done and the screen has updated."""
    await app.workers.wait_for_complete()
    await pilot.pause(0.1)
    await asyncio.sleep(0)


async def press(pilot, *keys):
    """Press keys like `pilot.press`, without waiting for every widget to go idle first.

    While a worker trains, progress messages keep arriving, so the pilot's "screen idle" wait
    would stall each key for many seconds; the key events themselves are the same.
    """
    await pilot.app._press_keys(keys)
    await pilot.pause(0.05)
