"""Where a run starts: at step 0 with a new model, or where a checkpoint's run had got to.

A checkpoint of a run (`chartui.trainer.Trainer.checkpoint_payload`) keeps its model, optimiser,
settings, step, time, loss history, best figure and random state. `resume_config` gives the
settings to go on with; `StartPoint.of` reads the rest back and checks it fits the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chartui.checkpoint import model_from_checkpoint
from chartui.config import TrainConfig
from chartui.errors import ChartuiError
from chartui.model import CharRNN
from chartui.progress import LossHistory

if TYPE_CHECKING:
    from chartui.corpus import Corpus

def corpus_of_checkpoint(payload: dict, loaded: Corpus | None,
                         corpora_dirs: list[str] | None = None) -> Corpus:
    """The corpus a checkpoint's run trained on: `loaded`, if it is that one (same text), else
    the checkpoint's own, read again from its file (or by its name, among the corpora), with
    the vocabulary its settings name."""
    from chartui.corpus import load_corpus
    saved = payload.get("corpus") or {}
    if loaded is not None and loaded.fingerprint == saved.get("fingerprint"):
        return loaded
    source = saved.get("source", "")
    vocabulary = resume_config(payload, {}).vocabulary
    return load_corpus(source if Path(source).is_file() else saved.get("name", ""),
                       vocabulary=vocabulary, extra_dirs=corpora_dirs)


MODEL_FIELDS = ("embedding_dim", "hidden_size", "num_layers", "cell", "vocabulary")


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
class StartPoint:
    """Where a trainer starts: its model (on the CPU) and how far its run had got."""

    model: CharRNN
    step: int = 0
    elapsed_s: float = 0.0  # training time so far, of every leg
    budget_spent: bool = False  # the last leg ended at its time limit
    history: LossHistory = field(default_factory=LossHistory)
    best_val_loss: float | None = None
    rng: dict = field(default_factory=dict)  # generators' states: "torch" (global), "batches"
    stream: dict = field(default_factory=dict)  # the streams' (`Batches.stream_payload`)
    note: str | None = None  # set when the corpus has changed since the checkpoint

    @classmethod
    def of(cls, payload: dict, path: str | Path | None, corpus: Corpus) -> StartPoint:
        """Where the run saved in `payload` (loaded from `path`) had got to; refused when it
        was trained on other characters than `corpus` has."""
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
