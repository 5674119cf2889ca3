"""A training run as the app holds it, and the body of the worker thread that trains it.

The worker builds the core `Trainer` (resuming a checkpoint, and loading the corpus that
checkpoint was trained on, when asked), tells the UI what the run is (`TrainerReady`: a
`RunSummary` and the run's controls), then trains, posting every `Progress` event. Torch is
imported there, in the thread, so the first screen never waits for it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message_pump import MessagePump

from chartui.tui.messages import CorpusLoaded, TrainerReady, TrainingFailed, TrainingProgress
from chartui.tui.workers import failure_posted

if TYPE_CHECKING:
    from chartui.config import TrainConfig
    from chartui.corpus import Corpus
    from chartui.progress import RunControl, RunSummary

TRAINING_NICENESS = 10  # how far the training thread steps back for the UI (0 = not at all)


@dataclass
class RunHandle:
    """One training run: the ticket its worker's messages carry; what it is and its controls
    once set up; its latest checkpoint; and, for the way out after a signal (on another
    thread), an event its worker sets as it returns, with the error of a final checkpoint that
    could not be written."""

    ticket: int
    summary: RunSummary | None = None
    control: RunControl | None = None
    latest_checkpoint: str | None = None  # the last one its events said was written
    ended: threading.Event = field(default_factory=threading.Event)
    final_save_error: str | None = None


def yield_cpu_to_ui(niceness: int | None = None) -> None:
    """Lower the calling thread's scheduling priority, on systems that have per-thread nice
    values (Linux). The torch threads it starts later inherit it, so a key press wins a core
    at once while training still gets every cycle the UI leaves; nothing changes when idle."""
    niceness = TRAINING_NICENESS if niceness is None else niceness
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return  # elsewhere a thread id given to setpriority would name a process
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread)
                       + niceness)
    except OSError:
        pass  # not allowed here: training simply keeps the same priority as the UI


def train(receiver: MessagePump, run: RunHandle, corpus: Corpus | None, config: TrainConfig,
          resume: str | None, device: str, checkpoint_dir: str | Path,
          corpora_dirs: list[str] | None, cancelled: Callable[[], bool]) -> None:
    """The run's worker thread: set up a Trainer (from the checkpoint `resume`, if given) and
    train until it ends or `cancelled()`, posting to `receiver` what happens."""
    yield_cpu_to_ui()  # before torch starts this thread's pool of compute threads
    try:
        with failure_posted(receiver, functools.partial(TrainingFailed, ticket=run.ticket)):
            from chartui.checkpoint import load_checkpoint
            from chartui.trainer import Trainer, resume_config
            payload = None
            if resume:
                payload = load_checkpoint(resume)
                config = resume_config(payload, {})
                corpus = _corpus_to_resume_on(payload, corpus, config, corpora_dirs, receiver)
            trainer = Trainer(corpus, config, device=device, checkpoint_dir=checkpoint_dir,
                              resume=resume, resume_payload=payload)
            trainer.publish_snapshots = True  # generation may start while a step runs
            if cancelled():  # the app closed while the trainer was set up: no run
                return
            receiver.post_message(TrainerReady(trainer.summary(), trainer, run.ticket))
            trainer.run(lambda p: receiver.post_message(TrainingProgress(p, run.ticket)),
                        should_stop=cancelled)
            run.final_save_error = trainer.final_save_error
    finally:
        run.ended.set()


def _corpus_to_resume_on(payload: dict, corpus: Corpus | None, config: TrainConfig,
                         corpora_dirs: list[str] | None, receiver: MessagePump) -> Corpus:
    """The corpus a checkpoint was trained on: the one loaded, if it is that one, else the
    checkpoint's own, loaded again (and shown: `CorpusLoaded`)."""
    from chartui.corpus import load_corpus
    saved = payload.get("corpus") or {}
    if corpus is not None and corpus.fingerprint == saved.get("fingerprint"):
        return corpus
    source = saved.get("source", "")
    corpus = load_corpus(source if Path(source).is_file() else saved.get("name", ""),
                         vocabulary=config.vocabulary, extra_dirs=corpora_dirs)
    receiver.post_message(CorpusLoaded(corpus))
    return corpus
