"""Soak: train in the real app (Textual pilot, headless) for a long time, generating every
minute, and watch memory, the chart and the keys.

Every `--every` seconds it records resident memory (VmRSS, and RssAnon: the heap), the step,
how long a `]` press takes to show, and starts a 2000-character generation. Memory growth is
the median of the last sixth of the records against the median of the first sixth (after the
warm-up minute), so one noisy reading does not decide it.

    python benchmarks/soak.py [--minutes 30] [--every 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import benchmark_text, report
from big_corpus import memory_mb
from textual import events

from chartui.config import preset
from chartui.corpus import corpus_from_text
from chartui.tui.app import make_app


async def soak(minutes: float, every: float, folder: str) -> dict:
    text, source = benchmark_text()
    config = preset("default").override(iterations=10**9)
    app = make_app(corpus=corpus_from_text(text, "soak"), config=config, checkpoint_dir=folder,
                   device="cpu", load_user_keymap=False)
    records = []
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        await app._press_keys(["t"])
        while app.main.status.info.step < 1:
            await asyncio.sleep(0.1)
        began = time.perf_counter()
        knobs = app.query_one("#gen-knobs")
        prime = app.query_one("#prime")
        generations = 0
        while time.perf_counter() - began < minutes * 60:
            await asyncio.sleep(every)
            key = "right_square_bracket" if len(records) % 2 == 0 else "left_square_bracket"
            wanted = "0.9" if key == "right_square_bracket" else "0.8"
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, "]" if wanted == "0.9" else "["))
            while wanted not in str(knobs.render()) and time.perf_counter() - sent < 5:
                await asyncio.sleep(0.001)
            key_ms = (time.perf_counter() - sent) * 1000
            redraw_began = time.perf_counter()
            app.main.chart.replot()  # the whole drawing, on this thread
            records.append({"minute": round((time.perf_counter() - began) / 60, 1),
                            "step": app.main.status.info.step, "key_ms": round(key_ms, 1),
                            "chart_redraw_ms": round((time.perf_counter() - redraw_began)
                                                     * 1000, 1),
                            "train_state": app.main.train_state, **memory_mb()})
            print(json.dumps(records[-1]), file=sys.stderr, flush=True)  # kept if a run dies
            if not app.main.generation_session.streaming:  # the last one has finished
                prime.value = "Th"
                app.main.generate("Th")
                generations += 1
        crashed = app.main.train_state not in ("training", "paused")
        await app._press_keys(["x"])
        while app.main.train_state not in ("stopped", "failed", "diverged"):
            await asyncio.sleep(0.1)
    steady = records[1:] or records  # after the warm-up minute
    window = max(1, len(steady) // 6)
    early = statistics.median(r["VmRSS"] for r in steady[:window])
    late = statistics.median(r["VmRSS"] for r in steady[-window:])
    early_anon = statistics.median(r["RssAnon"] for r in steady[:window])
    late_anon = statistics.median(r["RssAnon"] for r in steady[-window:])
    return {
        "corpus": source,
        "minutes": minutes,
        "steps": steady[-1]["step"],
        "generations": generations,
        "training_ended_by_itself": crashed,
        "rss_mb": {"early_median": early, "late_median": late,
                   "max": max(r["VmRSS"] for r in steady)},
        "rss_growth_percent": round(100 * (late - early) / early, 2),
        "anon_growth_percent": round(100 * (late_anon - early_anon) / early_anon, 2),
        "key_ms_max": max(r["key_ms"] for r in records),
        "chart_redraw_ms_last": steady[-1]["chart_redraw_ms"],
        "records": records,
        "target": "rss_growth_percent < 5",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(soak(args.minutes, args.every, folder))
    report("soak: long training in the app with generation every minute", results)


if __name__ == "__main__":
    main()
