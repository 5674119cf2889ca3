"""Learning per minute: `chartui train` with a time budget, today's default against before.

Runs the real command (the budget includes start-up, the precision trial, the model planning
and every evaluation) and reports the final validation loss, measured on the whole held-out
text. Each corpus and budget runs these settings one after another, so they are compared
side by side on a machine whose speed drifts:

  default       - the default settings (precision auto, the model sized for the budget);
  default-fp32  - the same with --precision fp32 (what a CPU without bf16 gets);
  before        - the default before precisions and planning: float32, hidden 256,
                  batch 32, no dropout, every evaluation on the whole text, the schedule
                  decaying to 0.1 of the peak.

By default on tiny Shakespeare (beside the repo, never copied into it), the standard
library's docstrings and pydocs, for 65 s and 170 s.

    python benchmarks/learning.py [--budgets 65 170] [--corpus PATH_OR_NAME ...]
                                  [--settings default default-fp32 before]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_CORPUS, report

TARGETS = {65: 1.47, 170: 1.42}  # tiny Shakespeare, the default settings
SETTINGS = {
    "default": [],
    "default-fp32": ["--precision", "fp32"],
    "before": ["--precision", "fp32", "--hidden", "256", "--batch-size", "32", "--dropout", "0",
               "--eval-sample-chars", "131072", "--min-lr-ratio", "0.1", "--lr", "0.01",
               "--warmup", "50", "--seq-len", "50", "--embedding", "64"],
}


def train(corpus: str, budget: float, options: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "chartui", "train", corpus, "--max-time", str(budget),
             "--checkpoint-dir", folder, "--json", *options], capture_output=True, text=True)
        wall = time.perf_counter() - began
    if result.returncode != 0:
        return {"error": result.stderr.strip()}
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    start, done = lines[0], lines[-1]
    return {"val_loss": round(done["val_loss"], 4), "precision": done["precision"],
            "setup": start["message"], "steps": done["step"], "wall_s": round(wall, 1),
            "chars_per_s": round(done["chars_per_s"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[65, 170])
    parser.add_argument("--corpus", nargs="+", default=None)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    args = parser.parse_args()
    corpora = args.corpus or [str(SHARED_CORPUS), "docstrings", "pydocs"]
    results = {}
    for corpus in corpora:
        for budget in args.budgets:
            for name in args.settings:
                outcome = train(corpus, budget, SETTINGS[name])
                target = TARGETS.get(int(budget))
                if (name == "default" and target is not None and corpus == str(SHARED_CORPUS)
                        and "val_loss" in outcome):
                    outcome["target"] = f"<= {target}"
                    outcome["met"] = outcome["val_loss"] <= target
                results[f"{Path(corpus).stem} {budget:g}s {name}"] = outcome
                print(json.dumps({f"{Path(corpus).stem} {budget:g}s {name}": outcome}),
                      file=sys.stderr, flush=True)
    report("learning per minute (chartui train --max-time)",
           {"settings": SETTINGS, "runs": results})


if __name__ == "__main__":
    main()
