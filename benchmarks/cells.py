"""LSTM, GRU and plain RNN side by side: `chartui train --cell ...` for the same time budget.

Runs the real command once per cell, one after another in one run (so a machine whose speed
drifts slows them alike), with the same time budget and the same other settings: the default
ones unless `--options` adds some. With the default settings each cell's model is sized for
the budget from its own measured speed, as `chartui train CORPUS --cell gru` does for a
learner; `--options "--hidden 256 --batch-size 32"` fixes the shape instead. Reports, per
cell: steps, training characters per second, the best validation loss (nats and bits per
character) and the final one (the whole held-out text), parameters, and what was planned.

The corpus is named by its path (tiny Shakespeare beside the repository by default; it is
never copied into it):

    python benchmarks/cells.py [--corpus PATH_OR_NAME] [--budget 65] [--cells lstm gru rnn]
                               [--options "--precision fp32"]
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_CORPUS, report

from chartui.config import CELLS


def rounded(nats: float | None) -> float | None:
    return None if nats is None else round(nats, 4)


def bits(nats: float | None) -> float | None:
    return None if nats is None else round(nats / math.log(2), 4)


def train(corpus: str, budget: float, cell: str, options: list[str]) -> dict:
    """One `chartui train` run of `cell`; its figures from the JSON log and the run log."""
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "chartui", "train", corpus, "--cell", cell, "--max-time",
             f"{budget:g}", "--checkpoint-dir", folder, "--json", *options],
            capture_output=True, text=True)
        wall = time.perf_counter() - began
        if result.returncode != 0:
            return {"error": result.stderr.strip()}
        (log_file,) = (Path(folder) / "runs").glob("*.json")
        log = json.loads(log_file.read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    start, done = lines[0], lines[-1]
    config = log["config"]
    return {"steps": done["step"], "chars_per_s": round(done["chars_per_s"]),
            "best_val_loss": rounded(log["best_val_loss"]),
            "best_val_bpc": bits(log["best_val_loss"]),
            "final_val_loss": rounded(done["val_loss"]), "final_val_bpc": bits(done["val_loss"]),
            "parameters": log["parameters"], "precision": done["precision"],
            "model": {k: config[k] for k in ("num_layers", "hidden_size", "embedding_dim",
                                             "batch_size", "dropout")},
            "setup": start["message"], "wall_s": round(wall, 1), "state": done["state"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(SHARED_CORPUS),
                        help="a corpus name or a text file (default: tiny Shakespeare)")
    parser.add_argument("--budget", type=float, default=65.0, help="seconds per cell")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--options", default="",
                        help="more `chartui train` options, the same for every cell")
    args = parser.parse_args()
    options = shlex.split(args.options)
    results = {}
    for cell in args.cells:
        results[cell] = train(args.corpus, args.budget, cell, options)
        print(json.dumps({cell: results[cell]}), file=sys.stderr, flush=True)
    report(f"cells side by side ({Path(args.corpus).stem}, {args.budget:g} s each)",
           {"corpus": args.corpus, "budget_s": args.budget, "options": options,
            "cells": results})


if __name__ == "__main__":
    main()
