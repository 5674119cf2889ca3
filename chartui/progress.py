"""What a training run tells whoever listens: its state, its `Progress` events, its history.

The training loop (`chartui.trainer`) sends one `Progress` event a few times a second to a
`Listener`; the TUI, the CLI's progress lines, its JSON log and the run log (`chartui.runs`) are
all listeners. This module imports nothing heavy, so any of them may import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import Enum

LN2 = math.log(2)


class RunState(str, Enum):
    """Where a training run is. The same values appear in events, run logs and the status bar.

    A str subclass, so a state compares equal to its value and is written as it in JSON.
    """

    IDLE = "idle"
    STARTING = "starting"
    TRAINING = "training"
    PAUSED = "paused"
    STOPPING = "stopping"
    # how a run ended
    FINISHED = "finished"        # its iterations are done
    TIME_LIMIT = "time_limit"    # its time budget is spent
    STOPPED = "stopped"          # the user stopped it
    HANGUP = "hangup"            # the terminal or the browser tab went away
    INTERRUPTED = "interrupted"  # a signal (SIGTERM, Ctrl+C), or a process that died unheard
    DIVERGED = "diverged"        # the loss or the weights went bad
    FAILED = "failed"            # an error ended it, or it could not start

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The word shown to users: `time limit`, `error` for a failed run."""
        return "error" if self is RunState.FAILED else self.value.replace("_", " ")

    @property
    def active(self) -> bool:
        """A run is under way (starting, training, paused or stopping)."""
        return self in ACTIVE_STATES

    @property
    def live(self) -> bool:
        """A run log in this state belongs to a process that should still be writing it."""
        return self in (RunState.TRAINING, RunState.PAUSED)


ACTIVE_STATES = frozenset({RunState.STARTING, RunState.TRAINING, RunState.PAUSED,
                           RunState.STOPPING})


@dataclass(frozen=True)
class Progress:
    """What the training loop reports.

    event: "start", "step" or "done". `val_loss` is set when the model was just evaluated,
    `sample` when a sample was just drawn, `checkpoint` when a file was just written.
    On "done", `state` says how it ended: finished, time_limit, stopped, hangup, interrupted
    or diverged.
    """

    event: str
    step: int
    total_steps: int | None
    train_loss: float | None
    val_loss: float | None
    lr: float
    chars_per_s: float
    elapsed_s: float
    eta_s: float | None
    state: RunState
    sample: str | None = None
    checkpoint: str | None = None
    best_val_loss: float | None = None
    message: str | None = None
    precision: str | None = None  # the precision the steps run in: fp32 or bf16

    @property
    def val_bpc(self) -> float | None:
        """Validation loss in bits per character."""
        return None if self.val_loss is None else self.val_loss / LN2

    def to_json(self) -> dict:
        values = asdict(self)
        values["state"] = RunState(self.state).value
        values["val_bpc"] = self.val_bpc
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()}


Listener = Callable[[Progress], None]


@dataclass
class LossHistory:
    """Every step's training loss and every evaluation's validation loss, in nats/char."""

    train: list[float] = field(default_factory=list)
    val: list[tuple[int, float]] = field(default_factory=list)

    def train_points(self) -> list[tuple[int, float]]:
        """(step, loss) for every training step, counting from 1."""
        return [(step, loss) for step, loss in enumerate(list(self.train), start=1)]

    def copy(self) -> LossHistory:
        return LossHistory(list(self.train), list(self.val))

    def to_payload(self) -> dict:
        """As a checkpoint stores it: two tensors."""
        import torch
        return {"train": torch.tensor(self.train, dtype=torch.float32),
                "val": torch.tensor(self.val, dtype=torch.float64).reshape(-1, 2)}

    @classmethod
    def from_payload(cls, payload: dict | None) -> LossHistory:
        """From a checkpoint's `history` (missing or partial: empty)."""
        payload = payload or {}
        train = payload["train"].tolist() if "train" in payload else []
        val = payload["val"].tolist() if "val" in payload else []
        return cls([float(v) for v in train], [(int(s), float(v)) for s, v in val])


@dataclass(frozen=True)
class RunSummary:
    """What a training run is, once set up: all the UI needs to show it (no live objects but
    the vocabulary, which is immutable)."""

    corpus_name: str
    vocab: object  # chartui.vocab.Vocabulary
    parameters: int
    device: str
    precision: str
    step: int
    total_steps: int | None
    best_val_loss: float | None
    history: LossHistory  # a copy, as it was when the run was set up (a resumed run's past)
    cell: str = "lstm"  # the model's recurrent cell: lstm, gru or rnn


@dataclass(frozen=True)
class RunControl:
    """What a UI may do to a run in progress, and nothing more: the run's own calls, which hand
    the request to the training thread (it acts on them between steps). The UI holds this,
    never the trainer."""

    pause: Callable[[], None]
    resume: Callable[[], None]
    stop: Callable[..., None]  # stop(reason="stopped"): finish the step, save, end the run
    request_save: Callable[[], None]  # save a checkpoint after the current step
    snapshot_model: Callable[[], object]  # a chartui.model.CharRNN copy, in eval mode
    loss_history: Callable[[], LossHistory]  # a copy of every step's loss so far
