"""Start-up: time from launching `chartui` in a real terminal (tmux) to its first screen.

The first screen counts as shown when the pane shows the status line and the loss chart's
frame. Repeated; median and worst reported.

    python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report


def first_screen_seconds() -> float:
    session = f"startup-{uuid.uuid4().hex[:8]}"
    began = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                    f"{sys.executable} -m chartui; sleep 5"], check=True)
    try:
        while time.perf_counter() - began < 30:
            pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout
            if "chartui" in pane and "Loss (nats/char)" in pane:
                return time.perf_counter() - began
            time.sleep(0.01)
        return float("inf")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("this benchmark needs tmux")
    times = [first_screen_seconds() for _ in range(args.runs)]
    report("start-up to first screen (tmux)", {
        "seconds": {"median": round(statistics.median(times), 3), "max": round(max(times), 3)},
        "all_runs": [round(t, 3) for t in times],
        "target": "< 1.5",
    })


if __name__ == "__main__":
    main()
