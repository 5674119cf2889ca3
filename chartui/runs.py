"""Run logs: each training run's settings and loss history, kept as a small JSON file.

A run writes `<checkpoint folder>/runs/<run id>.json` when it starts, at every evaluation and
checkpoint, at most every `WRITE_EVERY_S` seconds otherwise (a paused run too), and when it
ends. `list_runs` reads them back, newest first, for the runs screen and `chartui runs`.

A run that died without a word (`kill -9`, out of memory, power lost) cannot say so: its log
still says training. Each write therefore records the process id, the host and a heartbeat
time, and `RunRecord.status` judges such a run *interrupted*: on this host, when its process
is gone; on any host, when its heartbeat is older than `STALE_AFTER_S`.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chartui.curves import downsample
from chartui.files import file_name_slug, write_text_atomically
from chartui.progress import Listener, LossHistory, Progress, RunState

if TYPE_CHECKING:
    from chartui.checkpoint import CheckpointFiles

FORMAT = "chartui-run"
FORMAT_VERSION = 1
RUNS_FOLDER = "runs"
WRITE_EVERY_S = 5.0
MAX_TRAIN_POINTS = 2000
STALE_AFTER_S = 120.0  # a live run writes every 5 s; one silent this long has died
PID_REUSED_S = 86_400.0  # a process id alive under a log this old belongs to someone else


@dataclass
class RunRecord:
    """What a run log holds. Losses are in nats per character; histories are (step, loss)."""

    id: str
    started_at: str  # ISO 8601 in local time, with milliseconds and the UTC offset
    corpus: dict  # name, source, fingerprint
    config: dict  # TrainConfig.to_dict()
    parameters: int
    device: str
    # training, paused, finished, time_limit, stopped, hangup, interrupted, diverged, failed
    state: RunState = RunState.TRAINING
    step: int = 0
    elapsed_s: float = 0.0
    chars_per_s: float = 0.0  # recent, training steps only
    average_chars_per_s: float = 0.0  # over the run's whole time, evaluations included
    val_history: list[tuple[int, float]] = field(default_factory=list)
    train_history: list[tuple[int, float]] = field(default_factory=list)  # downsampled
    best_val_loss: float | None = None
    latest_checkpoint: str | None = None
    best_checkpoint: str | None = None
    resumed_from: str | None = None
    message: str | None = None  # how it ended, when that needs words (diverged, failed)
    updated_at: str = ""
    precision: str | None = None  # fp32 or bf16 (None in logs from before precisions)
    pid: int | None = None  # the process training it, on `host`
    host: str | None = None
    heartbeat: float | None = None  # when it last wrote (seconds since the epoch)
    latest_sample: str | None = None  # the latest periodic sample (None in older logs)
    latest_sample_step: int | None = None  # the step it was drawn at

    def __post_init__(self) -> None:
        self.state = RunState(self.state)  # also given as its value, e.g. "finished"

    @classmethod
    def new(cls, corpus: dict, config: dict, parameters: int, device: str, precision: str,
            step: int, resumed_from: str | None) -> RunRecord:
        """The record of a run that starts now in this process: `corpus` is its name, source
        and fingerprint, `config` its `TrainConfig.to_dict()`, `step` where it starts."""
        started = datetime.now().astimezone()
        return cls(id=new_run_id(corpus["name"], started),
                   started_at=started.isoformat(timespec="milliseconds"), corpus=corpus,
                   config=config, parameters=parameters, device=device, step=step,
                   resumed_from=resumed_from, precision=precision, pid=os.getpid(),
                   host=socket.gethostname())

    def status(self, now: float | None = None, this_host: str | None = None) -> RunState:
        """The state to show: the logged one, except that a run logged as training or paused
        that died is `interrupted`: on this host when its process is gone (a live process is
        trusted, even stopped with Ctrl+Z, unless its log is a day old: its id was reused);
        from another host, when its heartbeat is older than `STALE_AFTER_S`."""
        if not self.state.live:
            return self.state
        now = time.time() if now is None else now
        heartbeat = self.heartbeat
        if heartbeat is None and self.updated_at:  # a log from before heartbeats
            try:
                heartbeat = datetime.fromisoformat(self.updated_at).timestamp()
            except ValueError:
                pass
        silence = math.inf if heartbeat is None else now - heartbeat
        local = self.host is not None and self.host == (this_host or socket.gethostname())
        if local and self.pid is not None:
            alive = process_alive(self.pid) and silence <= PID_REUSED_S
            return self.state if alive else RunState.INTERRUPTED
        return RunState.INTERRUPTED if silence > STALE_AFTER_S else self.state

    @property
    def corpus_name(self) -> str:
        return str(self.corpus.get("name", "?"))

    @property
    def cell(self) -> str:
        """The model's recurrent cell (lstm, gru or rnn); logs from before cells could be
        chosen were all LSTMs."""
        return str(self.config.get("cell", "lstm"))

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def to_json(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **_finite(asdict(self)),
                "state": self.state.value}

    @classmethod
    def from_json(cls, data) -> RunRecord:
        """Raises ValueError, TypeError or KeyError for anything but a run log we can read."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a chartui run log")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError("unknown run log version")
        datetime.fromisoformat(str(data["started_at"]))  # a start time must be readable

        def optional(kind, value):
            return None if value is None else kind(value)

        def history(points):
            return [(int(s), float(v)) for s, v in points]

        return cls(
            id=str(data["id"]), started_at=str(data["started_at"]), corpus=dict(data["corpus"]),
            config=dict(data["config"]), parameters=int(data["parameters"]),
            device=str(data["device"]), state=str(data["state"]), step=int(data["step"]),
            elapsed_s=float(data["elapsed_s"]), chars_per_s=float(data["chars_per_s"]),
            average_chars_per_s=float(data["average_chars_per_s"]),
            val_history=history(data["val_history"]),
            train_history=history(data["train_history"]),
            best_val_loss=optional(float, data.get("best_val_loss")),
            latest_checkpoint=optional(str, data.get("latest_checkpoint")),
            best_checkpoint=optional(str, data.get("best_checkpoint")),
            resumed_from=optional(str, data.get("resumed_from")),
            message=optional(str, data.get("message")),
            updated_at=str(data.get("updated_at", "")),
            precision=optional(str, data.get("precision")),
            pid=optional(int, data.get("pid")), host=optional(str, data.get("host")),
            heartbeat=optional(float, data.get("heartbeat")),
            latest_sample=optional(str, data.get("latest_sample")),
            latest_sample_step=optional(int, data.get("latest_sample_step")))


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, under another user (or we cannot tell: assume alive)
    return True


def _finite(value):
    """The same JSON value with every NaN or infinity replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def new_run_id(corpus_name: str, started: datetime) -> str:
    """Sortable by start time and unique: `20261123-134501-pydocs-3fa2`."""
    return f"{started:%Y%m%d-%H%M%S}-{file_name_slug(corpus_name, 40)}-{secrets.token_hex(2)}"


def write_run(record: RunRecord, folder: str | Path) -> Path:
    """Write `record` atomically to `<folder>/runs/<id>.json`; raises OSError."""
    text = json.dumps(record.to_json(), allow_nan=False, separators=(",", ":"))
    runs_folder = Path(folder) / RUNS_FOLDER
    runs_folder.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(runs_folder / f"{record.id}.json", text)


def read_run(path: str | Path) -> RunRecord | None:
    """The run log at `path`, or None when it is unreadable, damaged or not a run log."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return RunRecord.from_json(data)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None


def list_runs(folder: str | Path) -> tuple[list[RunRecord], list[Path]]:
    """The runs logged under a checkpoint folder, newest first, and the files that were
    skipped (unreadable, damaged, not JSON, or not run logs)."""
    try:
        paths = sorted((Path(folder) / RUNS_FOLDER).glob("*.json"))
    except OSError:
        return [], []
    runs = [(path, read_run(path)) for path in paths]
    readable = [run for _, run in runs if run is not None]
    readable.sort(key=lambda run: (run.started.timestamp(), run.id), reverse=True)
    return readable, [path for path, run in runs if run is None]


def skipped_note(skipped: list[Path]) -> str:
    """One sentence naming the files `list_runs` skipped (the first three of them)."""
    names = ", ".join(path.name for path in skipped[:3]) + (", …" if len(skipped) > 3 else "")
    count = f"{len(skipped)} file{'s' if len(skipped) > 1 else ''}"
    return f"skipped {count} in runs/ that {'are' if len(skipped) > 1 else 'is'} not a " \
           f"readable run log: {names}"


class RunLog:
    """Keeps one training run's log on disk, from its Progress events.

    It starts from the run's `record` (`RunRecord.new`) and, at each write, reads the run's
    loss `history` and its `checkpoints` (the latest and the best file) as they are then.
    A write that fails is skipped without a word, and training goes on: the log lives in the
    checkpoint folder, whose problems the checkpoint saves already report.
    """

    def __init__(self, folder: str | Path, record: RunRecord, history: LossHistory,
                 checkpoints: CheckpointFiles) -> None:
        self.folder = Path(folder)
        self.record = record
        self.history = history
        self.checkpoints = checkpoints
        self._step_chars = record.config["batch_size"] * record.config["seq_len"]
        self._written_at = -math.inf
        self._start: tuple[int, float] | None = None  # step and elapsed time at the start

    def listener(self, listener: Listener | None) -> Listener:
        """`listener` (may be None), with this log brought up to date before each event."""
        def emit(progress: Progress) -> None:
            self.update(progress)
            if listener is not None:
                listener(progress)
        return emit

    def update(self, p: Progress) -> None:
        """Take in one event; write at start, evaluation, checkpoint, end, a change of state
        (e.g. paused), or when it is time."""
        if self._start is None:
            self._start = (p.step, p.elapsed_s)
        record = self.record
        state_changed = p.state != record.state
        record.state, record.step, record.elapsed_s = p.state, p.step, p.elapsed_s
        record.best_val_loss = p.best_val_loss
        if p.chars_per_s:
            record.chars_per_s = p.chars_per_s
        if p.sample:  # a watcher shows it (chartui.following)
            record.latest_sample, record.latest_sample_step = p.sample, p.step
        seconds = p.elapsed_s - self._start[1]
        if seconds > 0:
            record.average_chars_per_s = (p.step - self._start[0]) * self._step_chars / seconds
        if p.event == "done":
            record.message = p.message
        due = (p.event != "step" or state_changed or p.val_loss is not None
               or p.checkpoint is not None or p.sample is not None
               or time.monotonic() - self._written_at >= WRITE_EVERY_S)
        if due:
            self.write()

    def fail(self, error: BaseException, step: int, best_val_loss: float | None) -> None:
        """The run ended with an exception at `step`: record it as failed (a second Ctrl+C,
        which gives up at once: interrupted)."""
        interrupted = isinstance(error, KeyboardInterrupt)
        record = self.record
        record.state = RunState.INTERRUPTED if interrupted else RunState.FAILED
        record.step, record.best_val_loss = step, best_val_loss
        record.message = ("interrupted" if interrupted
                          else f"{type(error).__name__}: {error}"[:500])
        self.write()

    def write(self) -> None:
        record, train = self.record, self.history.train
        steps, losses = downsample(np.arange(1, len(train) + 1), train, MAX_TRAIN_POINTS)
        record.train_history = list(zip(steps.astype(int).tolist(), losses.tolist(),
                                        strict=True))
        record.val_history = list(self.history.val)
        record.latest_checkpoint = _optional_str(self.checkpoints.latest)
        record.best_checkpoint = _optional_str(self.checkpoints.best)
        record.updated_at = datetime.now().astimezone().isoformat(timespec="seconds")
        record.heartbeat = time.time()
        self._written_at = time.monotonic()
        try:
            write_run(record, self.folder)
        except (OSError, ValueError):
            pass  # skipped: a later write tries again, and training goes on


def _optional_str(value) -> str | None:
    return None if value is None else str(value)
