"""Shared pieces for the tests: where the repository and its corpus are, a tiny model, a trained
checkpoint, a malicious pickle, and whether this CPU runs bf16.

Fixtures live in conftest.py; everything a test imports lives here (`from helpers import ...`),
so no test imports conftest.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

if TYPE_CHECKING:
    from chartui.config import TrainConfig
    from chartui.corpus import Corpus
    from chartui.model import CharRNN
    from chartui.vocab import Vocabulary

REPO = Path(__file__).resolve().parent.parent
FAQ = REPO / "corpora" / "chartui-faq.txt"

TRAINED_STEPS = 20
"""How many steps the session's trained model (the `trained_run` fixture) was trained."""


def tiny_config(**changes) -> TrainConfig:
    """A small, quick model for tests."""
    from chartui.config import preset
    values = dict(embedding_dim=16, hidden_size=48, batch_size=16, seq_len=32, iterations=60,
                  eval_every=30, sample_every=0, warmup_steps=5, eval_max_chars=4096, seed=7,
                  precision="fp32")
    values.update(changes)
    return preset("default").override(**values)


class TrainedCheckpoint(NamedTuple):
    """A checkpoint written by a finished training run, and the model and vocabulary in it."""

    path: str  # as the trainer reports it
    model: CharRNN
    vocab: Vocabulary


def train_checkpoint(folder: Path, config: TrainConfig | None = None,
                     corpus: Corpus | None = None) -> TrainedCheckpoint:
    """Train `config` (the tiny model for TRAINED_STEPS steps, evaluated once at the end) on
    `corpus` (the FAQ) to the end, with its checkpoint and run log in `folder`."""
    from chartui.checkpoint import load_model
    from chartui.corpus import load_corpus
    from chartui.trainer import Trainer
    config = config or tiny_config(iterations=TRAINED_STEPS, eval_every=TRAINED_STEPS)
    corpus = corpus or load_corpus(str(FAQ))
    done = Trainer(corpus, config, device="cpu", checkpoint_dir=folder).run()
    assert done.state == "finished", done.message
    model, vocab, _ = load_model(done.checkpoint)
    return TrainedCheckpoint(done.checkpoint, model, vocab)


def copy_run(trained: TrainedCheckpoint, folder: Path) -> TrainedCheckpoint:
    """The files of `trained`'s run (its checkpoints and run log) copied into `folder`, for a
    test that changes them or needs them in a folder of its own."""
    from chartui.checkpoint import load_model
    source = Path(trained.path)
    shutil.copytree(source.parent, folder, dirs_exist_ok=True)
    path = folder / source.name
    model, vocab, _ = load_model(path)
    return TrainedCheckpoint(str(path), model, vocab)


class MaliciousPickle:
    """Unpickling this opens (creates) the marker file: harmless, but it is running code."""

    def __init__(self, marker: Path | str):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_malicious_checkpoint(path: Path, marker: Path, payload: dict | None = None,
                               legacy: bool = False) -> Path:
    """A file shaped like a chartui checkpoint (`payload`'s fields, or just its format tag)
    whose history is a MaliciousPickle: loading it the ordinary way creates `marker`.
    `legacy`: in torch's old (non-zip) format."""
    import torch
    content = {**(payload or {"format": "chartui-checkpoint"}), "history": MaliciousPickle(marker)}
    torch.save(content, path, _use_new_zipfile_serialization=not legacy)
    return path


def bf16_runs_here() -> bool:
    """Whether this CPU trains a small LSTM step under bf16 autocast (oneDNN refuses one
    where the processor has no bf16 support, or when limited with ONEDNN_MAX_CPU_ISA)."""
    import torch

    from chartui.model import CharRNN, ModelConfig
    from chartui.precision import Precision, trial_step
    step = trial_step(CharRNN(ModelConfig(20, 8, 16)), 2, 4, "fast", torch.device("cpu"))
    try:
        with Precision("bf16", "").autocast(torch.device("cpu")):
            step()
    except RuntimeError:
        return False
    return True


needs_bf16 = pytest.mark.skipif(not bf16_runs_here(), reason="this CPU cannot run bf16 LSTMs")


def run_record(run_id: str = "20261201-120000-faq-0001", **changes):
    """A run log (`chartui.runs.RunRecord`) as written by a run on the FAQ training in this
    very process (so it is judged alive), with a heartbeat now: for tests that write logs by
    hand."""
    import os
    import socket
    import time

    from chartui.runs import RunRecord
    values = dict(id=run_id, started_at="2026-12-01T12:00:00.000+00:00",
                  corpus={"name": "chartui-faq", "source": str(FAQ), "fingerprint": "x"},
                  config={"batch_size": 8, "seq_len": 32, "max_time": 300.0,
                          "iterations": None, "num_layers": 1, "hidden_size": 48},
                  parameters=1234, device="cpu", precision="fp32", pid=os.getpid(),
                  host=socket.gethostname(), heartbeat=time.time())
    values.update(changes)
    return RunRecord(**values)
