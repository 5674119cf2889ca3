"""Checkpoints in the app: o opens one to generate from, or to resume its training.

A worker reads the file (`chartui.checkpoint`) and posts what it says about itself (a
`CheckpointSummary`) with its model; `Checkpoints` shows it on the main screen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.screen import Screen

from chartui.latest import Latest
from chartui.tui.messages import CheckpointFailed, CheckpointOpened
from chartui.tui.screens.pickers import CheckpointPicker
from chartui.tui.workers import failure_posted

if TYPE_CHECKING:
    from chartui.model import CharRNN
    from chartui.vocab import Vocabulary


@dataclass(frozen=True)
class OpenedModel:
    """A checkpoint opened to generate from: its model and vocabulary, its file, and the name
    of the corpus it was trained on."""

    model: CharRNN
    vocab: Vocabulary
    path: str
    corpus_name: str | None = None


class Checkpoints:
    """The main screen's opened checkpoint: o picks one, a worker reads it, and its model,
    loss history and figures are shown (the screen hands the worker's messages on).

    `screen` is the main screen: its chart and status bar show the checkpoint, and its
    `training` resumes one.
    """

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.opens = Latest()
        self.opened: OpenedModel | None = None  # until a training run starts

    def pick(self) -> None:
        """o: choose a checkpoint in the checkpoint folder (or type a path), to open or
        resume."""
        from chartui.checkpoint import list_checkpoints
        screen = self.screen
        folder = screen.startup.checkpoint_dir
        rows = [(str(path), label) for path, label in list_checkpoints(folder)]

        def chosen(result: tuple[str, bool] | None) -> None:
            if result is None:
                return
            if screen.training_active():
                screen.notify("stop training (x) before opening or resuming a checkpoint",
                              severity="warning")
                return
            self.open(*result)

        screen.app.push_screen(CheckpointPicker(rows, str(folder)), chosen)

    def open(self, path: str, resume: bool) -> None:
        self.screen.run_worker(functools.partial(self._read, path, resume, self.opens.new()),
                               thread=True, exclusive=True, group="checkpoint")

    def _read(self, path: str, resume: bool, ticket: int) -> None:
        with failure_posted(self.screen, functools.partial(CheckpointFailed, ticket=ticket)):
            from chartui.checkpoint import CheckpointSummary, load_model, resolve_checkpoint_path
            resolved = resolve_checkpoint_path(path)
            model, vocab, payload = load_model(resolved, "cpu")
            self.screen.post_message(CheckpointOpened(
                CheckpointSummary.of(payload, resolved, model), model, vocab, resume, ticket))

    def failed(self, message: CheckpointFailed) -> None:
        if self.opens.is_current(message.ticket):
            self.screen.notify(message.error, title="Checkpoint", severity="error", timeout=12)

    def show(self, message: CheckpointOpened) -> bool:
        """The checkpoint is read: its model is the one on show from now on (the screen then
        forgets the last run, or resumes this checkpoint); False when it is not shown."""
        screen = self.screen
        if not self.opens.is_current(message.ticket):
            return False  # another checkpoint was asked for since
        if screen.training_active():
            screen.notify("stop training (x) before opening a checkpoint", severity="warning")
            return False
        summary = message.summary
        screen.chart.set_history(summary.history.train_points(), summary.history.val)
        self.opened = OpenedModel(message.model, message.vocab, summary.path,
                                  summary.corpus_name)
        name = Path(summary.path).name
        screen.status.show(parameters=summary.parameters, cell=summary.cell, step=summary.step,
                           total_steps=summary.total_steps, best_val_loss=summary.best_val_loss,
                           chars_per_s=None, elapsed_s=summary.elapsed_s, eta_s=None,
                           precision="", model_source=f"from {name}")
        if not message.resume:
            screen.notify(f"opened {name}: type a prime and press enter to generate",
                          title="Checkpoint")
        return True
