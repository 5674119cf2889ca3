"""Reliability in the app: faults and odd terminals never crash it or lose work.

The real app under Textual's pilot. Each bad thing ends in a notification (not a crash), the app
keeps running, and a training run's work is saved. The command-line cases are in
test_reliability.py; the basic quit, too-small and bad-corpus-at-start cases are in test_tui.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import Input

from chartui.checkpoint import load_checkpoint
from chartui.tui.widgets.generation import GenerationConsole

from helpers import write_malicious_checkpoint
from tui_helpers import (
    app_for,
    press,
    record_notifications,
    run_state,
    run_step,
    settle,
    small_config,
    start_training,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


async def resize(pilot, width: int, height: int) -> None:
    """The terminal resized, as `pilot.resize_terminal` does it (the same Resize event), but
    without its wait for an idle CPU: that never comes while a worker trains, so each resize
    would wait its full second. Returns once the app has taken the new size in."""
    size = Size(width, height)
    pilot.app.post_message(Resize(size, size))
    await wait_for(pilot, lambda: pilot.app.size == size, timeout=10, what=f"the size {size}")


async def start_generation(pilot, app, length=100_000):
    app.query_one("#length", Input).value = str(length)
    app.query_one("#prime", Input).value = "The "
    app.main.generate("The ")
    console = app.query_one(GenerationConsole)
    await wait_for(pilot, lambda: len(console.output_text()) > 10, what="generated text")


async def test_quit_while_training_and_generating_saves_and_exits(tmp_path):
    app = app_for(tmp_path, generation_pace=200, config=small_config(eval_every=100_000))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        await start_generation(pilot, app)
        worker = main.generation_panel.worker
        await press(pilot, "q")
        await wait_for(pilot, lambda: not app.is_running, timeout=30, what="the app to exit")
    assert worker.is_cancelled
    assert run_state(main) == "stopped"
    (saved,) = tmp_path.glob("*.pt")
    assert load_checkpoint(saved)["step"] == run_step(main) > 0


async def test_quit_mid_generation_from_an_opened_checkpoint(tmp_path, trained_checkpoint):
    checkpoint = Path(trained_checkpoint.path)
    before = checkpoint.read_bytes()
    app = app_for(tmp_path, checkpoint=str(checkpoint), generation_pace=100)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None,
                       what="the checkpoint to open")
        await start_generation(pilot, app)
        worker = main.generation_panel.worker
        await press(pilot, "q")
        await wait_for(pilot, lambda: not app.is_running, timeout=30, what="the app to exit")
    assert worker.is_cancelled
    assert [p.name for p in tmp_path.glob("*.pt")] == [checkpoint.name]
    assert checkpoint.read_bytes() == before


async def test_resizing_again_and_again_while_training(tmp_path):
    """Down to 40x12 and back, many times: no crash, training goes on, the layout recovers."""
    app = app_for(tmp_path, config=small_config(eval_every=10))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        sizes = [(40, 12), (200, 60), (60, 18), (59, 17), (80, 24), (41, 13), (120, 40),
                 (100, 32)]
        for size in sizes * 3:
            await resize(pilot, *size)
            small = size[0] < 60 or size[1] < 18
            assert app.screen.has_class("too-small") == small, size
        await resize(pilot, 40, 12)
        message = str(app.query_one("#too-small").render())
        assert "at least 60×18" in message and "40×12" in message
        step = run_step(main)  # still training while the terminal is too small
        await wait_for(pilot, lambda: run_step(main) > step + 3, what="training to go on")
        assert main.train_state == "training"
        await resize(pilot, 100, 32)
        assert not app.screen.has_class("too-small")
        await wait_for(pilot, lambda: main.status.info.step > step + 3, what="the status line")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
    assert load_checkpoint(main.training.run.latest_checkpoint)["step"] == run_step(main)


async def test_bad_corpus_and_bad_checkpoints_opened_from_the_app_are_notifications(tmp_path):
    folder = tmp_path / "ck"
    folder.mkdir()
    marker = tmp_path / "code-ran"
    (folder / "truncated.pt").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    torch.save({"weight": torch.zeros(2)}, folder / "foreign.pt")
    write_malicious_checkpoint(folder / "evil.pt", marker)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    app = app_for(tmp_path, checkpoint_dir=folder)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        seen = record_notifications(app)
        for name, words in [("truncated.pt", "not a readable checkpoint"),
                            ("foreign.pt", "not a chartui checkpoint"),
                            ("evil.pt", "cannot be loaded safely")]:
            await press(pilot, "o")
            await wait_for(pilot, lambda: app.screen.query("#checkpoint-path"), what="picker")
            box = app.screen.query_one("#checkpoint-path", Input)
            box.value = str(folder / name)
            box.focus()
            await press(pilot, "enter")
            await wait_for(pilot, lambda: seen, what=f"a notification for {name}")
            severity, message = seen.pop()
            assert severity == "error" and words in message and "\n" not in message, message
            assert app.is_running and main.checkpoints.opened is None
        assert not marker.exists()

        for path, words in [(tmp_path / "image.png", "binary"),
                            (tmp_path / "nope.txt", "does not exist")]:
            await press(pilot, "c")
            await wait_for(pilot, lambda: app.screen.query("#corpus-path"), what="picker")
            box = app.screen.query_one("#corpus-path", Input)
            box.value = str(path)
            box.focus()
            await press(pilot, "enter")
            await wait_for(pilot, lambda: seen, what=f"a notification for {path.name}")
            severity, message = seen.pop()
            assert severity == "error" and words in message, message
            assert app.is_running and main.corpus is None
        await press(pilot, "t")  # nothing to train on: a hint, not a crash
        await pilot.pause(0.1)
        assert app.is_running and main.run_control is None


async def test_an_unwritable_checkpoint_folder_is_one_notification_and_training_goes_on(
        tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    app = app_for(tmp_path, checkpoint_dir=blocker / "ck", config=small_config(eval_every=3))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        seen = record_notifications(app)
        await start_training(pilot, app)
        await wait_for(pilot, lambda: run_step(main) >= 15, what="several failed saves")
        assert main.train_state == "training"
        warnings = [m for s, m in seen if "could not save a checkpoint" in m]
        assert len(warnings) == 1 and "training goes on" in warnings[0]
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        await wait_for(pilot, lambda: any("final checkpoint" in m for _, m in seen),
                       what="the final notification")
        assert app.is_running
    assert blocker.read_text() == "a file, not a folder"


@pytest.mark.parametrize("attempt", range(3))
async def test_closing_the_app_mid_generation_without_q(tmp_path, attempt):
    """As when a browser tab closes or the terminal hangs up: the app exits while a stream
    and a training run are still posting messages; none of them may raise."""
    app = app_for(tmp_path, config=small_config(eval_every=100_000))
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        await start_generation(pilot, app)
        await pilot.pause(0.05 * attempt)
    assert app.return_code in (None, 0)
