"""A 1 GB text file in the app: how soon the corpus pane shows it, how long the whole read takes,
how much anonymous memory it costs (the ids live in a mapped scratch file, not in RAM), and
whether it trains.

The file is made by repeating the benchmark text (tiny Shakespeare here, else our FAQ) in a
temporary folder, and removed afterwards.

    python benchmarks/big_corpus.py [--gigabytes 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import benchmark_text, report

from chartui.config import preset
from chartui.tui.app import make_app


def memory_mb() -> dict:
    """This process's resident memory, split into anonymous (heap) and file-backed pages."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024)
    return fields


def write_big_file(folder: str, size: int) -> Path:
    text, _ = benchmark_text()
    block = (text * max(1, (8 << 20) // len(text))).encode("utf-8")
    path = Path(folder) / "big.txt"
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(block)
            written += len(block)
    return path


async def in_app(path: Path, folder: str) -> dict:
    config = preset("default").override(iterations=10**9, eval_every=10**9, sample_every=0)
    began = time.perf_counter()
    app = make_app(corpus=str(path), config=config, checkpoint_dir=folder, device="cpu",
                   load_user_keymap=False)
    result = {}
    async with app.run_test(size=(120, 40)):
        preview = app.query_one("#corpus-preview")
        while not preview.text:
            await asyncio.sleep(0.01)
        result["preview_shown_s"] = round(time.perf_counter() - began, 2)
        while app.main.corpus is None:
            await asyncio.sleep(0.05)
        result["fully_read_s"] = round(time.perf_counter() - began, 2)
        result["characters"] = len(app.main.corpus)
        result["ids_storage"] = type(app.main.corpus.data).__name__
        result["memory_after_read_mb"] = memory_mb()
        await app._press_keys(["t"])
        while app.main.status.info.step < 3:
            await asyncio.sleep(0.05)
        first, start = app.main.status.info.step, time.perf_counter()
        await asyncio.sleep(10)
        result["training_steps_per_s"] = round((app.main.status.info.step - first)
                                               / (time.perf_counter() - start), 1)
        result["memory_while_training_mb"] = memory_mb()
        await app._press_keys(["x"])
        while app.main.train_state not in ("stopped", "failed"):
            await asyncio.sleep(0.05)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_big_file(folder, int(args.gigabytes * 1e9))
        size = path.stat().st_size
        results = asyncio.run(in_app(path, folder))
    report("a big text file in the app", {
        "file_bytes": size, **results,
        "targets": {"preview_shown_s": "< 3", "memory": "no copy of the file in RAM (RssAnon)"},
    })


if __name__ == "__main__":
    main()
