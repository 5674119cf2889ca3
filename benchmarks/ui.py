"""UI responsiveness while training at full speed, measured on the real app (Textual pilot).

  - key latency: time from a key event until the first frame showing its effect has been
    turned into the bytes a terminal would be sent (`]` / `[` temperature, a character typed
    into the prime box, opening help), p50 and p95;
  - first generated character on screen after Enter in the prime box;
  - training throughput inside the app against the same trainer headless (steps per second of
    wall time, evaluations off), in one run;
  - chart redraw time with 100,000 steps of history: all of it, and the UI thread's part.

The model is the app's default run as the planner sizes it here at the start (its shape and
precision are then fixed, so the app and the headless runs train the same model).

    python benchmarks/ui.py [--seconds 20] [--presses 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import benchmark_text, report
from textual import events
from textual._compositor import CompositorUpdate

from chartui.config import TrainConfig, preset
from chartui.corpus import corpus_from_text
from chartui.trainer import Trainer
from chartui.tui import training as training_module
from chartui.tui.app import make_app


def default_run_config(corpus, folder: str) -> TrainConfig:
    """The app's default run as planned on this machine, with periodic evaluations off."""
    planned = Trainer(corpus, preset("default"), device="cpu", checkpoint_dir=folder)
    return planned.config.override(iterations=10**9, eval_every=10**9, sample_every=0,
                                   precision=planned.precision.name)


def headless_steps_per_second(corpus, config: TrainConfig, seconds: float, folder: str
                              ) -> float:
    trainer = Trainer(corpus, config, device="cpu", checkpoint_dir=folder)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    time.sleep(2)  # past start-up
    first, began = trainer.step, time.perf_counter()
    time.sleep(seconds)
    rate = (trainer.step - first) / (time.perf_counter() - began)
    trainer.stop()
    thread.join()
    return rate


class FrameWatch:
    """Watches the frames the app displays for the effect of a key press.

    The headless driver writes nothing, so each frame is rendered here to terminal output as
    the real driver would before writing it. A frame shows the effect when the effect's
    condition already holds as it is displayed (everything that changes the widgets runs on
    the UI thread, so it holds for what the frame was drawn from): `shown_at` is when that
    frame's output was ready.
    """

    def __init__(self, app) -> None:
        self.condition = None
        self.shown_at: float | None = None
        display = app._display

        def rendering_display(screen, renderable) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
                if self.condition is not None and self.shown_at is None and self.condition():
                    self.shown_at = time.perf_counter()
        app._display = rendering_display

    def expect(self, condition) -> None:
        self.condition, self.shown_at = condition, None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def in_app(corpus, config: TrainConfig, seconds: float, presses: int, folder: str
                 ) -> dict:
    app = make_app(corpus=corpus, config=config,
                   checkpoint_dir=folder, device="cpu", load_user_keymap=False)
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        await app._press_keys(["t"])
        while app.main.status.info.step < 5:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)

        first, began = app.main.status.info.step, time.perf_counter()
        await asyncio.sleep(seconds)
        app_rate = (app.main.status.info.step - first) / (time.perf_counter() - began)

        knobs = app.query_one("#gen-knobs")
        prime = app.query_one("#prime")
        frames = FrameWatch(app)
        in_widgets: list[float] = []  # the same presses, until the effect is in the widgets

        async def latency(keys: list[str], shown) -> float:
            """Seconds from the key event until a frame showing its effect has been rendered
            to terminal output."""
            frames.expect(shown)
            sent = time.perf_counter()
            for key in keys:  # as the terminal driver delivers a key, without waiting on it
                char = {"right_square_bracket": "]", "left_square_bracket": "[",
                        "question_mark": "?", "enter": "\r"}.get(key, key)
                app._driver.send_message(events.Key(key, char))
            while not shown():
                if time.perf_counter() - sent > 5:
                    return float("inf")
                await asyncio.sleep(0.0005)
            in_widgets.append(time.perf_counter() - sent)
            while frames.shown_at is None:
                if time.perf_counter() - sent > 5:
                    return float("inf")
                await asyncio.sleep(0.0005)
            return frames.shown_at - sent

        latencies = {"temperature": [], "typing": [], "help": []}
        for i in range(presses):
            key = "right_square_bracket" if i % 2 == 0 else "left_square_bracket"
            value = f"{0.9 if i % 2 == 0 else 0.8:.1f}"
            latencies["temperature"].append(
                await latency([key], lambda v=value: v in str(knobs.render())))
            await asyncio.sleep(0.05)
        prime.focus()
        await asyncio.sleep(0.1)
        for _ in range(presses):
            before = len(prime.value)
            latencies["typing"].append(
                await latency(["q"], lambda b=before: len(prime.value) == b + 1))
            await asyncio.sleep(0.05)
        first_char = []
        console = app.main.generation_panel.console
        for _ in range(max(3, presses // 6)):
            prime.value = "Th"
            console.generated = []  # the last stream's text would count as already shown
            prime.focus()
            await asyncio.sleep(0.1)
            first_char.append(await latency(["enter"], lambda: bool(console.generated)))
            await asyncio.sleep(0.5)
            await app._press_keys(["escape"])
            await asyncio.sleep(0.2)
        latencies["first_character"] = first_char
        app.set_focus(None)
        for _ in range(max(3, presses // 6)):
            latencies["help"].append(
                await latency(["question_mark"], lambda: type(app.screen).__name__ ==
                              "HelpScreen"))
            await app._press_keys(["escape"])
            await asyncio.sleep(0.2)
        chart = app.main.chart

        def redraw_ms() -> dict:
            """Median times to redraw the chart with 100,000 steps of history: the whole
            drawing (in a background thread while training), and the part left to the UI
            thread (copying the downsampled points, then putting the drawn lines on screen)."""
            chart.set_history([(s, 2 + 1 / s) for s in range(1, 100_001)],
                              [(s, 2 + 1 / s) for s in range(200, 100_001, 200)])
            whole, ui_thread = [], []
            for _ in range(10):
                began = time.perf_counter()
                figure = chart.figure()  # downsampled to the widget's width
                copied = time.perf_counter()
                lines = chart.draw(figure)  # plotext, then its output turned into lines
                drawn = time.perf_counter()
                chart._show(figure, lines)
                chart.render_lines(chart.region.reset_offset)  # as the compositor asks
                shown = time.perf_counter()
                whole.append((shown - began) * 1000)
                ui_thread.append((copied - began + shown - drawn) * 1000)
            return {"whole": round(statistics.median(whole), 2),
                    "ui_thread": round(statistics.median(ui_thread), 2)}
        redraw_training = redraw_ms()  # while the worker still trains on both cores
        await app._press_keys(["x"])
        while app.main.train_state not in ("stopped", "failed"):
            await asyncio.sleep(0.05)
        redraw_idle = redraw_ms()
    every = [x for name, values in latencies.items() if name != "first_character"
             for x in values]
    return {
        "app_steps_per_s": app_rate,
        "latency_ms": {name: {"p50": round(statistics.median(v) * 1000, 1),
                              "p95": round(percentile(v, 0.95) * 1000, 1)}
                       for name, v in latencies.items()},
        "latency_all_p95_ms": round(percentile(every, 0.95) * 1000, 1),
        "in_widgets_only_ms": {"p50": round(statistics.median(in_widgets) * 1000, 1),
                               "p95": round(percentile(in_widgets, 0.95) * 1000, 1)},
        "chart_redraw_ms_100k_steps": {"while_training": redraw_training,
                                       "idle": redraw_idle},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--niceness", type=int, default=training_module.TRAINING_NICENESS,
                        help="how far the app lowers its training thread's priority "
                        f"(the app uses {training_module.TRAINING_NICENESS}; 0 = not at all)")
    args = parser.parse_args()
    training_module.TRAINING_NICENESS = args.niceness
    text, source = benchmark_text()
    corpus = corpus_from_text(text, "bench")
    with tempfile.TemporaryDirectory() as folder:
        config = default_run_config(corpus, folder)
        # headless before and after the app, so a machine that speeds up or slows down during
        # the run does not favour either side
        before = headless_steps_per_second(corpus, config, args.seconds / 2, folder)
        ui = asyncio.run(in_app(corpus, config, args.seconds, args.presses, folder))
        after = headless_steps_per_second(corpus, config, args.seconds / 2, folder)
    headless = (before + after) / 2
    app_rate = ui.pop("app_steps_per_s")
    report("UI responsiveness while training", {
        "corpus": source,
        "training_niceness": args.niceness,
        "model": {"hidden_size": config.hidden_size, "batch_size": config.batch_size,
                  "precision": config.precision},
        "headless_steps_per_s": round(headless, 2),
        "headless_before_after": [round(before, 2), round(after, 2)],
        "app_steps_per_s": round(app_rate, 2),
        "app_vs_headless": round(app_rate / headless, 3),
        **ui,
        "targets": {"latency_all_p95_ms": "< 50", "first_character p95": "< 100 ms",
                    "app_vs_headless": ">= 0.8", "chart_redraw_ms_100k_steps": "< 20"},
    })


if __name__ == "__main__":
    main()
