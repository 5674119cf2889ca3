"""Training runs in the app: the keys that start, pause, stop and save them, and the worker
thread that trains them.

The worker builds the core `Trainer` (resuming a checkpoint, and loading the corpus that
checkpoint was trained on, when asked), tells the UI what the run is (`TrainerReady`: a
`RunSummary` and the run's controls), then trains, posting every `Progress` event; `Training`
shows them on the main screen. Torch is imported in the thread, so the first screen never
waits for it.
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
from textual.screen import Screen
from textual.worker import get_current_worker

from chartui.latest import Latest
from chartui.progress import Progress, RunState
from chartui.tui.messages import CorpusLoaded, TrainerReady, TrainingFailed, TrainingProgress
from chartui.tui.widgets.loss_chart import SampleView
from chartui.tui.workers import failure_posted

if TYPE_CHECKING:
    from chartui.config import TrainConfig
    from chartui.corpus import Corpus
    from chartui.progress import RunControl, RunSummary

TRAINING_NICENESS = 10  # how far the training thread steps back for the UI (0 = not at all)


@dataclass
class RunHandle:
    """One training run as the UI knows it: the ticket its worker's messages carry; what it is
    and its controls once set up; its latest event and checkpoint; and, for the way out after
    a signal (on another thread), an event its worker sets as it returns, with the error of a
    final checkpoint that could not be written."""

    ticket: int
    summary: RunSummary | None = None
    control: RunControl | None = None
    progress: Progress | None = None  # the latest event: step, state, losses
    latest_checkpoint: str | None = None  # the last one its events said was written
    ended: threading.Event = field(default_factory=threading.Event)
    final_save_error: str | None = None


class Training:
    """The main screen's training runs: t starts, pauses and resumes one, x stops it, w saves
    it, and what its worker reports is shown (the screen hands its messages on).

    `screen` is the main screen: a run trains on its `config` and `corpus`, its status bar,
    chart and sample view show the run, and its `train_state` says where the run is.
    """

    def __init__(self, screen: Screen, resume: str | None = None) -> None:
        self.screen = screen
        self.runs = Latest()
        self.run: RunHandle | None = None  # the latest run, until a checkpoint is opened
        self.resume_path = resume  # the next run resumes this checkpoint
        self.save_asked = False  # w was pressed: say when the checkpoint is written

    @property
    def control(self) -> RunControl | None:
        """The latest run's controls, once it is set up."""
        return self.run.control if self.run is not None else None

    def active_run(self) -> RunHandle | None:
        """The run in progress (training, paused or stopping), once it is set up."""
        return self.run if self.control is not None and self.screen.training_active() else None

    def stop(self, reason: str = "stopped") -> bool:
        """Stop the run in progress, which saves a checkpoint; False when there is none."""
        run = self.active_run()
        if run is None:
            return False
        run.control.stop(reason)
        self.screen.train_state = RunState.STOPPING
        return True

    def forget(self) -> None:
        """A checkpoint was opened: from now on its model is the one on show, not the run's."""
        self.run = None
        self.runs.expire()

    def toggle(self, replacing: bool = False) -> None:
        """t: pause or resume the run, or start one; `replacing`: a model is on show (an opened
        checkpoint's) that a new run replaces."""
        screen, control = self.screen, self.control
        state = screen.train_state
        if state is RunState.TRAINING and control is not None:
            control.pause()
            screen.train_state = RunState.PAUSED
        elif state is RunState.PAUSED and control is not None:
            control.resume()
            screen.train_state = RunState.TRAINING
        elif state in (RunState.STARTING, RunState.STOPPING):
            screen.notify(f"a moment: training is {state.label}")
        elif screen.corpus is None and self.resume_path is None:
            screen.notify("no corpus is loaded yet: choose one with c", severity="warning")
        else:
            if self.resume_path is None and (control is not None or replacing):
                screen.notify("starting a new run with the current settings (to continue an "
                              "earlier one, open its checkpoint with o and choose Resume)",
                              title="Training")
            self.start()

    def start(self, resume: str | None = None) -> None:
        """A new run on the screen's corpus and settings, or resuming the checkpoint `resume`
        (or the one the app was started to resume)."""
        resume, self.resume_path = resume or self.resume_path, None
        screen = self.screen
        self.run = run = RunHandle(self.runs.new())
        screen.chart.set_history([], [])
        screen.train_state = RunState.STARTING
        screen.run_worker(functools.partial(self._train, run, screen.corpus, screen.config,
                                            resume),
                          thread=True, exclusive=True, group="training")

    def _train(self, run: RunHandle, corpus: Corpus | None, config: TrainConfig,
               resume: str | None) -> None:
        worker = get_current_worker()
        startup = self.screen.startup
        train(self.screen, run, corpus, config, resume, startup.device, startup.checkpoint_dir,
              startup.corpora_dirs, cancelled=lambda: worker.is_cancelled)

    def ready(self, message: TrainerReady) -> bool:
        """The run is set up: show what it is; False (and the run stopped) when it is stale."""
        screen = self.screen
        if not self.runs.is_current(message.ticket) or not screen.app.is_running:
            message.run_control.stop()
            return False
        summary = message.summary
        self.run.summary, self.run.control = summary, message.run_control
        screen.chart.set_history(summary.history.train_points(), summary.history.val)
        screen.status.show(parameters=summary.parameters, cell=summary.cell,
                           device=summary.device,
                           precision=summary.precision, step=summary.step,
                           total_steps=summary.total_steps,
                           best_val_loss=summary.best_val_loss, model_source="")
        if screen.train_state is RunState.STARTING:
            screen.train_state = RunState.TRAINING
        return True

    def progress(self, message: TrainingProgress) -> None:
        if not self.runs.is_current(message.ticket):
            return
        screen, p = self.screen, message.progress
        self.run.progress = p
        if p.event == "step":
            screen.chart.add_point(p.step, p.train_loss, p.val_loss)
        if p.sample:
            screen.query_one(SampleView).show_sample(p.step, p.sample)
        screen.status.show(step=p.step, total_steps=p.total_steps, chars_per_s=p.chars_per_s,
                           elapsed_s=p.elapsed_s, eta_s=p.eta_s, best_val_loss=p.best_val_loss)
        if p.checkpoint:
            self.run.latest_checkpoint = p.checkpoint
            if self.save_asked:
                self.save_asked = False
                screen.notify(f"saved {p.checkpoint}", title="Checkpoint")
        if p.message and p.event == "start":  # the precision, the planned model, a resume
            screen.notify(p.message, title="Training", timeout=8)
        elif p.message and p.event != "done":
            screen.notify(p.message, severity="warning", timeout=8)
        if p.event == "done":
            self._ended(RunState(p.state), p)

    def _ended(self, state: RunState, p: Progress) -> None:
        """The run's last event: how it ended, said once."""
        screen = self.screen
        screen.train_state = state
        screen.status.show(eta_s=None)
        if state is RunState.DIVERGED:
            screen.notify(p.message or "training diverged", title="Training stopped",
                          severity="error", timeout=15)
        elif p.message:
            screen.notify(p.message, severity="warning", timeout=10)
        elif p.checkpoint:
            screen.notify(f"{state.label} at step {p.step:,}; saved {p.checkpoint}",
                          title="Training")
        screen.post_message(screen.RunEnded())

    def failed(self, message: TrainingFailed) -> None:
        if not self.runs.is_current(message.ticket):
            return
        screen = self.screen
        screen.train_state = RunState.FAILED
        screen.notify(message.error, title="Training", severity="error", timeout=15)
        screen.post_message(screen.RunEnded())

    def stop_key(self) -> None:
        """x: stop the run, which saves a checkpoint."""
        state = self.screen.train_state
        if state in (RunState.TRAINING, RunState.PAUSED) and self.stop():
            return
        if state is RunState.STARTING:
            self.screen.notify("a moment: training is starting")
        else:
            self.screen.notify("nothing is training", severity="information")

    def save(self) -> None:
        """w: save a checkpoint of the run now."""
        screen, control = self.screen, self.control
        if screen.train_state is RunState.STARTING:
            screen.notify("a moment: training is starting")
        elif control is not None and screen.train_state in (RunState.TRAINING, RunState.PAUSED):
            self.save_asked = True
            control.request_save()
        elif control is not None and self.run.latest_checkpoint is not None:
            screen.notify(f"already saved: {self.run.latest_checkpoint}")
        else:
            screen.notify("nothing to save yet: train with t first", severity="warning")


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
            from chartui.resume import corpus_of_checkpoint, resume_config
            from chartui.trainer import Trainer
            payload = None
            if resume:
                payload = load_checkpoint(resume)
                config = resume_config(payload, {})
                run_corpus = corpus_of_checkpoint(payload, corpus, corpora_dirs)
                if run_corpus is not corpus:  # the checkpoint's own, read again: show it
                    receiver.post_message(CorpusLoaded(run_corpus))
                corpus = run_corpus
            trainer = Trainer(corpus, config, device=device, checkpoint_dir=checkpoint_dir,
                              resume=resume, resume_payload=payload)
            trainer.publish_snapshots = True  # generation may start while a step runs
            if cancelled():  # the app closed while the trainer was set up: no run
                return
            receiver.post_message(TrainerReady(trainer.summary(), trainer.control(), run.ticket))
            trainer.run(lambda p: receiver.post_message(TrainingProgress(p, run.ticket)),
                        should_stop=cancelled)
            run.final_save_error = trainer.final_save_error
    finally:
        run.ended.set()
