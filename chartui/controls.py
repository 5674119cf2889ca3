"""What other threads may do to a run while it trains (handed to a UI as a
`chartui.progress.RunControl`).

A UI, a signal handler or a hang-up calls these from its own thread; the training thread acts
on them between steps: it waits while paused, ends the run when asked to stop (saying why),
saves when asked, and publishes copies of the weights for generation while it trains. The
losses so far and a copy of the model may be read at any time.

With several processes under torchrun (`world`), a request reaches each process at its own
moment: before every step they agree (`agree`) on whether any of them was asked to stop or to
save, and on rank 0's clock, so that all of them act at the same step.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable

from chartui.distributed import World
from chartui.model import CharRNN
from chartui.progress import LossHistory, RunControl, RunState

PUBLISH_SECONDS = 0.25  # how stale a snapshot taken while a step runs may be
STOP_CODES = (RunState.STOPPED, RunState.HANGUP, RunState.INTERRUPTED)  # agreed on as 1, 2, 3


class ControlledRun:
    """The controls of a run, for a trainer to build on: the state, the requests from other
    threads, and the lock the training thread holds while a step changes the weights."""

    model: CharRNN  # the model in training and its losses, set by the trainer
    history: LossHistory

    def __init__(self) -> None:
        self.world = World()  # a single process, unless the trainer joins it to others
        self.state = RunState.IDLE
        self.stop_reason = RunState.STOPPED  # how the run ends when asked to stop
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._save_requested = threading.Event()
        self._lock = threading.Lock()  # held by a training step, and while a checkpoint is built
        self._published: CharRNN | None = None  # never changed once made; see snapshot_model
        self.publish_snapshots = False  # set by whoever will call snapshot_model while it runs
        self._published_at = 0.0  # when (a `time.perf_counter()` reading)
        self._agreed_stop: RunState | None = None  # how the processes agreed to end
        self._agreed_save = False

    def control(self) -> RunControl:
        """The calls a UI may make, without the run itself."""
        return RunControl(pause=self.pause, resume=self.resume, stop=self.stop,
                          request_save=self.request_save, snapshot_model=self.snapshot_model,
                          loss_history=self.loss_history)

    def pause(self) -> None:
        self._running.clear()
        if self.state is RunState.TRAINING:
            self.state = RunState.PAUSED

    def resume(self) -> None:
        if self.state is RunState.PAUSED:
            self.state = RunState.TRAINING
        self._running.set()

    def stop(self, reason: str = RunState.STOPPED) -> None:
        """Finish the current step, save a checkpoint and return from `run`.

        `reason` is how the run ends, in its last event and its run log: `stopped` (asked for
        by the user), `hangup` (the terminal or the browser tab went away) or `interrupted`
        (a signal such as SIGTERM). The first reason given stands.
        """
        if not self._stop.is_set():
            try:
                self.stop_reason = RunState(reason)
            except ValueError:  # never let a wrong word keep a run from stopping
                self.stop_reason = RunState.INTERRUPTED
        self._stop.set()
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_save(self) -> None:
        """Save a checkpoint after the current step."""
        self._save_requested.set()

    def loss_history(self) -> LossHistory:
        """A copy of every step's training loss and every evaluation so far."""
        return self.history.copy()

    def snapshot_model(self) -> CharRNN:
        """A copy of the model's weights taken between steps, in eval mode.

        With `publish_snapshots` set, it never waits for a running step: then it copies the
        weights published after a recent step (at most `PUBLISH_SECONDS` old), so a generation
        starts at once while training.
        """
        if self._lock.acquire(blocking=self._published is None):
            try:
                model = copy.deepcopy(self.model)
            finally:
                self._lock.release()
        else:
            model = copy.deepcopy(self._published)
        return model.eval()

    def _publish_snapshot(self) -> None:
        """After a step, with the lock held: publish a copy of the weights for `snapshot_model`,
        if asked to and the last copy is `PUBLISH_SECONDS` old."""
        if self.publish_snapshots and time.perf_counter() - self._published_at >= PUBLISH_SECONDS:
            self._published, self._published_at = copy.deepcopy(self.model), time.perf_counter()

    # --- between steps: what was asked for (and, with several processes, agreed on) ----------

    def agree(self, elapsed: float, reserve: float,
              should_stop: Callable[[], bool] | None) -> tuple[float, float]:
        """With several processes, before every step: agree on rank 0's clock (its elapsed time
        and the time it keeps for the end), and on whether any process was asked to stop (a
        signal reaches each at its own moment) or to save. Returns rank 0's time."""
        code = 0
        if self._stop.is_set() or (should_stop is not None and should_stop()):
            code = STOP_CODES.index(self.stop_reason) + 1 if self.stop_reason in STOP_CODES else 3
        rows = self.world.gather_floats([code, float(self._save_requested.is_set()),
                                         elapsed, reserve])
        asked = [int(c) for c in rows[:, 0] if c > 0]
        if asked and self._agreed_stop is None:
            mine = self.stop_reason if code else None
            self._agreed_stop = mine or STOP_CODES[asked[0] - 1]  # the first rank's that asked
        if rows[:, 1].max() > 0:
            self._save_requested.clear()
            self._agreed_save = True
        return float(rows[0, 2]), float(rows[0, 3])

    def _asked_to_stop(self, should_stop: Callable[[], bool] | None) -> RunState | None:
        """How the run ends because it was asked to (by `stop` or `should_stop`), or None.
        With several processes, asked means any of them was, as agreed."""
        if self.world.active:
            return self._agreed_stop
        if self._stop.is_set() or (should_stop is not None and should_stop()):
            return self.stop_reason
        return None

    def _save_asked(self) -> bool:
        """Whether a save was asked for (by any process, as agreed before this step)."""
        return self._agreed_save if self.world.active else self._save_requested.is_set()

    def _save_taken(self) -> None:
        """The save that was asked for is being made."""
        self._save_requested.clear()
        self._agreed_save = False
