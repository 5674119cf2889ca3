"""Shared pieces for the app tests: a small model, waiting for conditions, fixed data."""

import asyncio
import time

from chartui.config import preset
from chartui.tui.app import make_app

from helpers import FAQ

SMALL = dict(embedding_dim=16, hidden_size=48, batch_size=8, seq_len=32, iterations=100_000,
             eval_every=20, sample_every=20, sample_length=40, warmup_steps=5,
             eval_max_chars=2048, seed=11, precision="fp32")


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
    """Press keys as a user would (`pilot.press`), then give the app a moment to act on them."""
    await pilot.press(*keys)
    await pilot.pause(0.05)


def app_for(tmp_path, **options):
    """The real app on our FAQ with a small model, checkpoints in `tmp_path`, no pacing."""
    options.setdefault("corpus", str(FAQ))
    options.setdefault("config", small_config())
    options.setdefault("generation_pace", 0)
    options.setdefault("checkpoint_dir", tmp_path)
    return make_app(device="cpu", load_user_keymap=False, **options)


async def start_training(pilot, app):
    await settle(pilot, app)
    await press(pilot, "t")
    main = app.main
    await wait_for(pilot, lambda: main.train_state == "training" and main.status.info.step > 0,
                   what="training to start")


def record_notifications(app) -> list[tuple[str, str]]:
    """(severity, message) of every notification the app raises from now on."""
    seen = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        seen.append((kwargs.get("severity", "information"), str(message)))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return seen


def run_step(main) -> int:
    """The step of the main screen's run, as its latest event says (0 before any)."""
    progress = main.training.run.progress if main.training.run else None
    return progress.step if progress is not None else 0


def run_state(main) -> str | None:
    """The trainer's state, as the run's latest event says (None before any)."""
    progress = main.training.run.progress if main.training.run else None
    return progress.state if progress is not None else None
