"""Setting up a run: its settings checked against the corpus, its precision chosen by a trial
step, with a time budget its model sized for the time (`chartui.planner`); and its optimiser."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from chartui.config import TrainConfig
from chartui.errors import ChartuiError
from chartui.model import CharRNN
from chartui.planner import check_fits, plan_for_budget, trial_shape
from chartui.precision import Precision, ShapeTrials
from chartui.vocab import Vocabulary

if TYPE_CHECKING:
    from chartui.corpus import Corpus


@dataclass(frozen=True)
class RunSetup:
    """What a run trains with: its settings (the empty fields filled in), its precision, and
    what the planner chose and why (None: nothing was planned)."""

    config: TrainConfig
    precision: Precision
    plan_note: str | None

    @classmethod
    def choose(cls, config: TrainConfig, corpus: Corpus, train_chars: int,
               device: torch.device, started_at: float) -> RunSetup:
        """Set up a run of `config` on `corpus` (`train_chars` of it for training) on `device`;
        its time budget began at `started_at` (a `time.perf_counter()` reading). Raises
        ChartuiError for settings the corpus or chartui cannot hold."""
        if config.vocabulary == "printable" and corpus.vocab != Vocabulary.printable():
            raise ChartuiError("these settings use the printable vocabulary but the corpus was "
                               "loaded with its own characters; load it again with "
                               "--vocabulary printable")
        vocab_size = len(corpus.vocab)
        check_fits(config, corpus.name, train_chars, vocab_size)  # before a trial builds a model
        trials = ShapeTrials(vocab_size, config.embedding_dim, config.num_layers, config.seq_len,
                             config.engine, device, config.cell)
        precision = trials.choose_precision(config.precision, *trial_shape(config, train_chars))
        seconds_left = (math.inf if config.max_time is None  # a new run's: planned only then
                        else config.max_time - (time.perf_counter() - started_at))
        plan = plan_for_budget(config, train_chars, vocab_size, seconds_left,
                               trials.speed(precision))
        check_fits(plan.config, corpus.name, train_chars, vocab_size)
        return cls(plan.config, precision, plan.summary)


def make_optimizer(model: CharRNN, lr: float, device: torch.device,
                   saved_state: dict | None = None) -> torch.optim.Adam:
    """Adam over `model`'s weights, going on from a checkpoint's `saved_state` if given.

    PyTorch's default Adam on a CPU updates one tensor at a time in a Python loop (7 ms a step
    here, as long as a sixth of a training step); its fused kernel takes 0.5 ms.
    """
    fused = True if device.type == "cpu" else None
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused)
    if saved_state:
        optimizer.load_state_dict(saved_state)
        for group in optimizer.param_groups:
            group["fused"] = fused  # this device's choice, whatever the checkpoint's was
    return optimizer
