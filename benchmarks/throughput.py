"""Training throughput at the lesson's model size (embedding 100, hidden 128, 1 layer, 100 chars).

Compares, in one run and interleaved over several rounds (medians reported):
  lesson   - the lesson's own loop (batch 1, 200-char portion, per-step LSTMCell loop);
  chartui  - chartui's default training path (Trainer.train_step: default batch, window and
             batching, the fused kernel over the LSTMCell's weights, Adam, clipping);
  nn_lstm  - PyTorch's fused nn.LSTM model of the same size and batch, trained the same way.

    python benchmarks/throughput.py [--seconds 4] [--rounds 3]
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

from _common import benchmark_text, report  # noqa: E402
from lesson import training_chars_per_second  # noqa: E402

from chartui.config import preset  # noqa: E402
from chartui.corpus import corpus_from_text  # noqa: E402
from chartui.trainer import Trainer  # noqa: E402


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
    args = parser.parse_args()
    text, source = benchmark_text()
    corpus = corpus_from_text(text, "bench", vocabulary="printable")
    printable_text = corpus.text()
    config = preset("default").override(embedding_dim=100, hidden_size=128, num_layers=1,
                                        vocabulary="printable", iterations=10**9)
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
    })


if __name__ == "__main__":
    main()
