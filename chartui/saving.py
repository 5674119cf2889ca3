"""Saving while a run trains, and the words for when it goes wrong.

A checkpoint that cannot be written during training is reported once, in the next event, and
training goes on (it tries again at the next save); weights that are no longer finite numbers
are never written. When the final checkpoint cannot be written, or the run diverged, the words
name the last good file, which is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chartui.checkpoint import CheckpointFiles, CheckpointWriteError
from chartui.distributed import World

Save = Callable[[float | None, bool], Path]  # (val_loss, best) -> the file written


class QuietSaves:
    """The checkpoints of one run written while it trains, without raising: `save` writes one,
    `weights_finite` says whether the weights are worth writing."""

    def __init__(self, files: CheckpointFiles, resumed_from: str | None, save: Save,
                 weights_finite: Callable[[], bool]) -> None:
        self.files = files
        self.resumed_from = resumed_from
        self._save, self._weights_finite = save, weights_finite
        self._error: str | None = None  # a failed save, for the next event (then cleared)
        self._failing = False  # a failed save was reported; quiet until one succeeds

    def save(self, val_loss: float | None, best: bool = False) -> str | None:
        """The file written, or None when the weights are not finite numbers or the write
        failed: then `take_error` says why. A failure is reported once, not at every save, until
        a save succeeds again; the files already written stay as they are."""
        if not self._weights_finite():
            self._error = ("not saved: the weights are no longer finite numbers "
                           "(training diverged); the last good checkpoint is kept")
            return None
        try:
            path = str(self._save(val_loss, best))
        except CheckpointWriteError as exc:
            if not self._failing:
                self._error = (f"could not save a checkpoint in '{exc.path.parent}' "
                               f"({exc.reason}); training goes on and tries again at the "
                               f"next save ({exc.hint})")
            self._failing = True
            return None
        self._failing = False
        return path

    def take_error(self) -> str | None:
        """The failed save to report in the next event, once."""
        error, self._error = self._error, None
        return error

    def kept(self, otherwise: str) -> str:
        """Names the newest good file of this run (or the one it resumed from)."""
        last = self.files.latest or self.resumed_from
        return f"the last good checkpoint is {last}" if last else otherwise

    def final_failure(self, exc: CheckpointWriteError) -> str:
        """Why the run's last checkpoint could not be written, and what is kept instead."""
        kept = self.kept("nothing was saved")
        return (f"could not save the final checkpoint in '{exc.path.parent}' ({exc.reason}); "
                f"{kept}; {exc.hint}")

    def divergence(self, step: int, what: str, lr: float) -> str:
        """Why a run stopped at `step` (`what` went bad), what is kept, and what to try."""
        kept = self.kept("no checkpoint had been saved yet")
        return (f"training stopped at step {step}: {what} (diverged); {kept}; try a lower "
                f"learning rate (now --lr {lr:g})")


def save_on_main(world: World, files: CheckpointFiles, payload: dict, step: int,
                 val_loss: float | None, best: bool) -> Path:
    """With several processes: rank 0 writes `payload`, and every rank's `files` then names
    what it wrote (or every rank raises the CheckpointWriteError rank 0 met), so that all of
    them go on alike."""
    outcome = None
    if world.main:
        try:
            files.save(payload, step, val_loss, best)
        except CheckpointWriteError as exc:
            outcome = (str(exc.path), exc.reason, exc.hint)
    latest, files.latest_step, files.best, outcome = world.share(
        (files.latest, files.latest_step, files.best, outcome))
    if outcome is not None:
        raise CheckpointWriteError(Path(outcome[0]), outcome[1], outcome[2])
    files.latest = latest
    return latest
