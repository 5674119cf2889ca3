"""Learning per minute: `chartui train` with its default settings and a time budget.

Runs the real command (the budget includes start-up and evaluation) and reports the final
validation loss. By default on tiny Shakespeare (beside the repo, never copied into it) for
65 s and 170 s, and on a second English text (the standard library's docstrings) to show the
defaults are not tuned to one corpus.

    python benchmarks/learning.py [--budgets 65 170] [--corpus PATH ...]
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

from _common import SHARED_CORPUS, report  # noqa: E402

TARGETS = {65: 1.55, 170: 1.45}


def train(corpus: str, budget: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "chartui", "train", corpus, "--max-time", str(budget),
             "--checkpoint-dir", folder, "--json"], capture_output=True, text=True)
        wall = time.perf_counter() - began
    if result.returncode != 0:
        return {"error": result.stderr.strip()}
    done = json.loads(result.stdout.splitlines()[-1])
    return {"val_loss": round(done["val_loss"], 4), "steps": done["step"],
            "wall_s": round(wall, 1), "chars_per_s": round(done["chars_per_s"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[65, 170])
    parser.add_argument("--corpus", nargs="+", default=None)
    args = parser.parse_args()
    corpora = args.corpus or [str(SHARED_CORPUS), "docstrings"]
    results = {}
    for corpus in corpora:
        for budget in args.budgets:
            outcome = train(corpus, budget)
            target = TARGETS.get(int(budget))
            if target is not None and corpus == str(SHARED_CORPUS) and "val_loss" in outcome:
                outcome["target"] = f"<= {target}"
                outcome["met"] = outcome["val_loss"] <= target
            results[f"{Path(corpus).stem} {budget:g}s"] = outcome
    report("learning per minute (chartui train, default settings)", {"runs": results})


if __name__ == "__main__":
    main()
