"""Going on from a checkpoint: the settings a resumed run takes, and where its run had got to.

A checkpoint of a run (`chartui.trainer.Trainer.checkpoint_payload`) keeps its model, optimiser,
settings, step, time, loss history, best figure and random state. `resume_config` gives the
settings to go on with; `ResumePoint.of` reads the rest back and checks it fits the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chartui.checkpoint import model_from_checkpoint
from chartui.config import TrainConfig
from chartui.errors import ChartuiError
from chartui.model import CharLSTM
from chartui.progress import LossHistory

if TYPE_CHECKING:
    from chartui.corpus import Corpus

MODEL_FIELDS = ("embedding_dim", "hidden_size", "num_layers", "vocabulary")


def resume_config(payload: dict, overrides: dict) -> TrainConfig:
    """The checkpoint's own settings with `overrides` applied; the model's shape cannot change."""
    saved = TrainConfig.from_dict(payload.get("train_config") or {})
    changed = [k for k in MODEL_FIELDS
               if overrides.get(k) is not None and overrides[k] != getattr(saved, k)]
    if changed:
        raise ChartuiError(f"a resumed run keeps its model's shape, so {', '.join(changed)} cannot "
                           "change; leave those options out, or start a new run")
    return saved.override(**overrides)


@dataclass(frozen=True)
class ResumePoint:
    """Where a checkpoint's run had got to, for a trainer to go on from."""

    model: CharLSTM  # on the CPU
    step: int
    elapsed_s: float  # training time so far, of every leg
    budget_spent: bool  # the run ended at its time limit
    history: LossHistory
    best_val_loss: float | None
    rng: dict  # "torch": the global generator's state, "batches": the batches' (either may lack)
    stream: dict  # the streams' position and state (`chartui.batches.Batches.stream_payload`)
    note: str | None  # set when the corpus has changed since the checkpoint

    @classmethod
    def of(cls, payload: dict, path: str | Path | None, corpus: Corpus) -> ResumePoint:
        """Read from a checkpoint's `payload` (loaded from `path`); refused when it was trained
        on other characters than `corpus` has."""
        model, vocab = model_from_checkpoint(payload, path)
        if vocab != corpus.vocab:
            raise ChartuiError(
                f"'{path}' was trained on a different vocabulary ({len(vocab)} characters, from "
                f"corpus '{payload.get('corpus', {}).get('name', '?')}') than corpus "
                f"'{corpus.name}' ({len(corpus.vocab)} characters); resume on the same "
                "corpus, or start a new run")
        saved = payload.get("corpus") or {}
        note = None
        if saved.get("fingerprint") not in (None, corpus.fingerprint):
            note = (f"corpus '{corpus.name}' has changed since that checkpoint (same characters, "
                    "different text), so training goes on with its text as it is now")
        return cls(model=model, step=int(payload["step"]),
                   elapsed_s=float(payload.get("elapsed_s", 0.0)),
                   budget_spent=bool(payload.get("time_budget_spent", False)),
                   history=LossHistory.from_payload(payload.get("history")),
                   best_val_loss=payload.get("best_val_loss"), rng=payload.get("rng") or {},
                   stream=payload.get("stream") or {}, note=note)
