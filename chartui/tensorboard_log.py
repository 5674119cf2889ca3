"""A listener that writes a run's progress for TensorBoard (`chartui train --tensorboard DIR`).

Scalars: `loss/train` (the mean training loss since the last event), `loss/val` (when the
model was just evaluated, the final evaluation included), `learning_rate` and `chars_per_s`;
text: `sample` (each periodic sample) and `run` (the start message: precision, planned model).
Everything is in nats per character, against the step.

TensorBoard is an optional extra (`pip install 'chartui[tensorboard]'`): it is imported only
when a log is opened, and `missing_extra()` says, without importing torch or tensorboard,
whether it can be.
"""

from __future__ import annotations

import importlib.util
import os

from chartui.errors import ChartuiError
from chartui.files import not_a_folder, user_path
from chartui.progress import Progress

INSTALL_HINT = "install it with pip install 'chartui[tensorboard]'"


def missing_extra() -> str | None:
    """One sentence when the `tensorboard` package is not installed, else None."""
    try:
        found = importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):
        found = False
    return None if found else f"--tensorboard needs the tensorboard package; {INSTALL_HINT}"


def folder_problem(folder: str | os.PathLike) -> str | None:
    """One sentence when `folder` cannot hold TensorBoard's event files (it, or a folder it
    would be made in, is a file), else None."""
    blocked = not_a_folder(user_path(folder))
    if blocked:
        return (f"--tensorboard {os.fspath(folder)}: {blocked}; give a folder for the event "
                "files (it is made if missing)")
    return None


def _as_preformatted(text: str) -> str:
    """TensorBoard renders text as Markdown: indented four spaces, a sample is shown as it is."""
    return "\n".join("    " + line for line in text.split("\n"))


class TensorBoardLog:
    """A `Listener` that writes every `Progress` event to a `SummaryWriter` in `folder`.

    Call `close()` (or use it as a context manager) when the run ends: it flushes the event
    file and closes it.
    """

    def __init__(self, folder: str | os.PathLike):
        problem = missing_extra() or folder_problem(folder)
        if problem:
            raise ChartuiError(problem)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # torch could not load tensorboard (a broken or too old install)
            raise ChartuiError(f"--tensorboard could not load tensorboard; {INSTALL_HINT}"
                               ) from None
        self.folder = os.fspath(user_path(folder))
        self._val_step: int | None = None  # the step of the last validation loss written
        try:
            self.writer = SummaryWriter(self.folder)
        except OSError as exc:
            raise ChartuiError(f"cannot write TensorBoard event files to {self.folder} "
                               f"({exc.strerror or exc}); give another --tensorboard folder"
                               ) from None

    def __call__(self, p: Progress) -> None:
        w = self.writer
        if p.event == "start":
            if p.message:
                w.add_text("run", _as_preformatted(p.message), p.step)
            return
        if p.val_loss is not None and p.step != self._val_step:  # the final one too
            w.add_scalar("loss/val", p.val_loss, p.step)
            self._val_step = p.step
        if p.event == "done":  # its training loss is a mean over the last steps: not a point
            return
        if p.train_loss is not None:
            w.add_scalar("loss/train", p.train_loss, p.step)
        w.add_scalar("learning_rate", p.lr, p.step)
        w.add_scalar("chars_per_s", p.chars_per_s, p.step)
        if p.sample:
            w.add_text("sample", _as_preformatted(p.sample), p.step)

    def close(self) -> None:
        """Flush the event file and close it (again: nothing)."""
        self.writer.flush()
        self.writer.close()

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
