"""Helpers shared by the benchmark scripts: a corpus to measure on, and printing results."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from pathlib import Path

import torch

import chartui  # noqa: F401 - first, as the `chartui` command does: it sets NumPy's threads
from chartui.precision import capability_summary

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpora" / "tinyshakespeare.txt"


def benchmark_text() -> tuple[str, str]:
    """English text to measure on: tiny Shakespeare when it is beside the repo, else our FAQ."""
    path = Path(os.environ.get("CHARTUI_BENCH_CORPUS", SHARED_CORPUS))
    if not path.is_file():
        path = REPO / "corpora" / "chartui-faq.txt"
    return path.read_text(encoding="utf-8"), str(path)


def report(name: str, results: dict) -> None:
    """Print the results as one JSON object, with the command that reproduces them."""
    print(json.dumps({
        "benchmark": name,
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), **capability_summary(),
                    "torch_threads": torch.get_num_threads(), "python": platform.python_version()},
        **results,
    }, indent=2))


def cpu_model() -> str:
    """The processor's name as the system reports it (Linux), else the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
