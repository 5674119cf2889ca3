"""How a run judges its model by its losses: gone bad (diverged), or the best so far.

A run that diverged stops without saving the bad weights, so its last good checkpoint stays the
last (char-rnn's rule: a loss over 3x the run's first). The best checkpoint is the one whose
periodic evaluation scored lowest.
"""

from __future__ import annotations

import math

import torch

from chartui.model import CharRNN

DIVERGENCE_FACTOR = 3.0  # char-rnn's rule: stop when the loss exceeds 3x the first loss


def diverged(loss: float, first_loss: float | None) -> bool:
    """Whether a loss shows the run diverged: not a finite number, or over 3x the loss of the
    run's first step (once there was one)."""
    return not math.isfinite(loss) or (first_loss is not None
                                       and loss > DIVERGENCE_FACTOR * first_loss)


def model_problem(model: CharRNN, val_loss: float | None, first_loss: float | None) -> str | None:
    """What is wrong with the model now, in words (checked before saving it), or None."""
    if val_loss is not None and diverged(val_loss, first_loss):
        return f"the validation loss became {val_loss:.4g}"
    if not weights_finite(model):
        return "the weights are no longer finite numbers"
    return None


def weights_finite(model: CharRNN) -> bool:
    with torch.no_grad():
        return all(bool(torch.isfinite(p).all()) for p in model.parameters())


class BestScore:
    """The run's best evaluation so far, which decides the checkpoint kept as its best."""

    def __init__(self, val_loss: float | None = None):
        self.val_loss = val_loss  # the figure reported as the run's best (see `improves`)
        self.score = val_loss  # what later evaluations are compared with

    def improves(self, score: float | None, shown: float | None = None) -> bool:
        """Whether `score` (a periodic evaluation's, on the subset) is the run's best so far;
        if so it becomes the best, shown as `shown` (default: the score itself)."""
        if score is None or not math.isfinite(score):
            return False
        if self.score is not None and score > self.score:
            return False
        self.score = score
        self.val_loss = score if shown is None else shown
        return True
