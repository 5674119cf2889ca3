"""Generation speed: chartui's sample_stream against the lesson's loop, and at larger sizes.

At the lesson's size (embedding 100, hidden 128, printable vocabulary) against the lesson's own
sampling loop, interleaved over several rounds in one run; medians reported. Then
`sample_stream` alone at each hidden size the planner can choose for the default run
(embedding 64, a 65-character vocabulary as in tiny Shakespeare), where the target is at
least 5,000 characters per second.

    python benchmarks/generation.py [--length 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import report
from lesson import sampling_chars_per_second

from chartui.config import SamplingSettings
from chartui.model import CharRNN, ModelConfig
from chartui.planner import CANDIDATES
from chartui.sampling import sample_stream
from chartui.vocab import Vocabulary


def chartui_chars_per_second(length: int, embedding: int = 100, hidden: int = 128,
                             vocab: Vocabulary | None = None) -> float:
    torch.manual_seed(123)
    vocab = vocab or Vocabulary.printable()
    model = CharRNN(ModelConfig(len(vocab), embedding, hidden, 1)).eval()
    began = time.perf_counter()
    count = sum(1 for _ in sample_stream(model, vocab, "Th", length, SamplingSettings(0.8),
                                         seed=1))
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs = {"lesson": [], "chartui": []}
    for _ in range(args.rounds):
        runs["lesson"].append(sampling_chars_per_second(args.length))
        runs["chartui"].append(chartui_chars_per_second(args.length))
    median = {k: statistics.median(v) for k, v in runs.items()}
    shakespeare_like = Vocabulary.from_text("\n !$&',-.3:;?" + "".join(
        chr(c) for c in range(ord("A"), ord("Z") + 1)) + "".join(
        chr(c) for c in range(ord("a"), ord("z") + 1)))
    larger = {}
    for hidden in sorted({h for h, _ in CANDIDATES}):
        rounds = [chartui_chars_per_second(args.length, 64, hidden, shakespeare_like)
                  for _ in range(3)]
        larger[f"hidden {hidden}"] = round(statistics.median(rounds))
    report("generation speed", {
        "lesson_size": {
            "chars_per_s": {k: round(v) for k, v in median.items()},
            "all_rounds": {k: [round(x) for x in v] for k, v in runs.items()},
            "chartui_vs_lesson": round(median["chartui"] / median["lesson"], 2),
            "target": ">= 1.5"},
        "default_sizes_chars_per_s": larger,
        "default_sizes_target": ">= 5000",
    })


if __name__ == "__main__":
    main()
