"""Training throughput: chartui against the lesson and nn.LSTM, and float32 against bf16.

At the lesson's model size (embedding 100, hidden 128, 1 layer, 100 chars), compares, in one
run and interleaved over several rounds (medians reported):
  lesson   - the lesson's own loop (batch 1, 200-char portion, per-step LSTMCell loop);
  chartui  - chartui's training path in float32 (Trainer.train_step: batch 32, windows of 50,
             stream batching, the fused kernel over the LSTMCell's weights, Adam, clipping);
  nn_lstm  - PyTorch's fused nn.LSTM model of the same size and batch, trained the same way.

Then chartui's own step in fp32 and in bf16 (autocast) at the shapes the planner chooses from,
interleaved, with the ratio per shape; the CPU's capability and bf16 flags are printed with
the results.

    python benchmarks/throughput.py [--seconds 4] [--rounds 3] [--precision-seconds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import benchmark_text, report
from lesson import training_chars_per_second

from chartui.config import preset
from chartui.corpus import corpus_from_text
from chartui.planner import CANDIDATES
from chartui.precision import cpu_bf16_flags
from chartui.trainer import Trainer


def chartui_chars_per_second(trainer: Trainer, seconds: float) -> float:
    for _ in range(3):
        trainer.train_step(trainer.config.lr)
    steps, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        trainer.train_step(trainer.config.lr)
        steps += 1
    return steps * trainer.config.batch_size * trainer.config.seq_len / (
        time.perf_counter() - began)


class FusedLSTM(nn.Module):
    def __init__(self, vocab=100, embedding=100, hidden=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.fc(out)


def nn_lstm_chars_per_second(data: np.ndarray, batch: int, window: int, seconds: float) -> float:
    torch.manual_seed(0)
    model = FusedLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)

    def step():
        starts = rng.integers(0, len(data) - window - 1, batch)
        chunk = torch.from_numpy(data[starts[:, None] + np.arange(window + 1)].astype(np.int64))
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 100), chunk[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    for _ in range(3):
        step()
    steps, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        step()
        steps += 1
    return steps * batch * window / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision-seconds", type=float, default=2.0,
                        help="per measurement in the fp32/bf16 comparison")
    args = parser.parse_args()
    text, source = benchmark_text()
    corpus = corpus_from_text(text, "bench", vocabulary="printable")
    printable_text = corpus.text()
    config = preset("default").override(embedding_dim=100, hidden_size=128, num_layers=1,
                                        batch_size=32, dropout=0.0, vocabulary="printable",
                                        iterations=10**9, precision="fp32")
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(corpus, config, device="cpu", checkpoint_dir=folder)
        runs = {"lesson": [], "chartui": [], "nn_lstm": []}
        for _ in range(args.rounds):
            runs["lesson"].append(training_chars_per_second(printable_text, args.seconds))
            runs["chartui"].append(chartui_chars_per_second(trainer, args.seconds))
            runs["nn_lstm"].append(nn_lstm_chars_per_second(
                corpus.data, config.batch_size, config.seq_len, args.seconds))
    median = {k: statistics.median(v) for k, v in runs.items()}
    report("training throughput at the lesson's size", {
        "corpus": source,
        "chartui_settings": {"batch_size": config.batch_size, "seq_len": config.seq_len,
                             "batching": config.batching, "engine": config.engine},
        "chars_per_s": {k: round(v) for k, v in median.items()},
        "all_rounds": {k: [round(x) for x in v] for k, v in runs.items()},
        "chartui_vs_lesson": round(median["chartui"] / median["lesson"], 2),
        "chartui_vs_nn_lstm": round(median["chartui"] / median["nn_lstm"], 3),
        "targets": {"chartui_vs_lesson": ">= 40", "chartui_vs_nn_lstm": ">= 0.8"},
        "precision": precision_comparison(text, args.precision_seconds, args.rounds),
    })


def precision_comparison(text: str, seconds: float, rounds: int) -> dict:
    """chartui's training step in fp32 and bf16 at each planner shape, interleaved."""
    corpus = corpus_from_text(text, "bench")
    if not cpu_bf16_flags():
        return {"skipped": "this CPU reports no bf16 instructions (AVX512_BF16 or AMX)"}
    shapes = {}
    with tempfile.TemporaryDirectory() as folder:
        for hidden, batch in CANDIDATES[:3]:
            trainers = {
                name: Trainer(corpus, preset("default").override(
                    hidden_size=hidden, batch_size=batch, dropout=0.0, iterations=10**9,
                    precision=name), device="cpu", checkpoint_dir=folder)
                for name in ("fp32", "bf16")}
            runs = {name: [] for name in trainers}
            for _ in range(rounds):
                for name, trainer in trainers.items():
                    runs[name].append(chartui_chars_per_second(trainer, seconds))
            median = {k: statistics.median(v) for k, v in runs.items()}
            shapes[f"hidden {hidden} x batch {batch}"] = {
                "chars_per_s": {k: round(v) for k, v in median.items()},
                "bf16_vs_fp32": round(median["bf16"] / median["fp32"], 2)}
    return shapes


if __name__ == "__main__":
    main()
