"""Following a run that another process trains, from its run log (`chartui watch`).

A run log (`chartui.runs`) is rewritten atomically at every evaluation, checkpoint and sample,
at least every `WRITE_EVERY_S` seconds while the run is alive, and at its end. `RunFollower`
polls one: a `stat` of the file each time (cheap), and a read only when its modification time,
size or inode changed. Each poll gives a `Followed`: the record as last read, its state as
`RunRecord.status` judges it (a run whose process died is interrupted), whether it is
*stalled* (still logged as training or paused, but its heartbeat is older than
`STALLED_AFTER_S`: three missed writes), and whether it has just ended. A UI shows these with
the widgets it already has: the status line's fields, the chart's (step, loss) history, the
latest sample. Nothing here writes: a watcher never touches the run's files.

`find_run_log` picks the log to watch for a path given on the command line.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from chartui.errors import ChartuiError
from chartui.files import user_path
from chartui.progress import RunState
from chartui.runs import RUNS_FOLDER, WRITE_EVERY_S, RunRecord, list_runs, read_run

STALLED_AFTER_S = 3 * WRITE_EVERY_S  # a live run writes every 5 s: three missed writes
POLL_EVERY_S = 0.5  # how often a watcher looks at the file


@dataclass(frozen=True)
class Followed:
    """The watched run after one poll."""

    path: Path  # its run log
    record: RunRecord  # as last read
    status: RunState  # the logged state, or interrupted when its process is judged gone
    stalled: bool  # logged as live, but silent for longer than STALLED_AFTER_S
    silent_s: float | None  # seconds since its heartbeat (None: unknown)
    changed: bool  # the log was read anew on this poll: new steps, history or sample
    just_ended: bool  # the first poll that finds it ended (or the first poll of an ended run)

    @property
    def ended(self) -> bool:
        return not self.status.live

    @property
    def checkpoint(self) -> str | None:
        """The run's latest checkpoint (its final one once it has ended), else its best; a
        name written relative to the trainer's folder is looked for beside the run log's
        `runs/` folder too."""
        name = self.record.latest_checkpoint or self.record.best_checkpoint
        if name is None:
            return None
        beside = self.path.parent.parent / Path(name).name
        return str(beside) if not Path(name).exists() and beside.exists() else name

    @property
    def eta_s(self) -> float | None:
        """Time left, estimated from the run's settings (its time budget, or its steps at
        the logged speed); None once it has ended or when nothing says."""
        if self.ended:
            return None
        record, config = self.record, self.record.config
        left = []
        if config.get("max_time"):
            left.append(max(0.0, float(config["max_time"]) - record.elapsed_s))
        step_chars = config.get("batch_size", 0) * config.get("seq_len", 0)
        if config.get("iterations") and record.chars_per_s and step_chars:
            steps = max(0, int(config["iterations"]) - record.step)
            left.append(steps * step_chars / record.chars_per_s)
        return min(left) if left else None


class RunFollower:
    """Polls the run log at `path`: `poll()` returns what it says now (None until it has
    been read once). `clock` gives the time the heartbeat is compared with (for tests)."""

    def __init__(self, path: str | Path, clock=time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.record: RunRecord | None = None
        self._seen: tuple[int, int, int] | None = None  # mtime_ns, size, inode last read
        self._ended = False

    def poll(self, now: float | None = None) -> Followed | None:
        now = self.clock() if now is None else now
        changed = False
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            seen = None  # gone for now (moved away?): keep what was read
        if seen is not None and seen != self._seen:
            record = read_run(self.path)
            if record is not None:  # an unreadable version is skipped: the next one counts
                self.record, self._seen, changed = record, seen, True
        record = self.record
        if record is None:
            return None
        status = record.status(now)
        silent = None if record.heartbeat is None else max(0.0, now - record.heartbeat)
        stalled = status.live and silent is not None and silent > STALLED_AFTER_S
        just_ended = not status.live and not self._ended
        self._ended = not status.live
        return Followed(self.path, record, status, stalled, silent, changed, just_ended)


def corpus_to_load(record: RunRecord) -> str:
    """What to open to show a run's corpus: its file when that is here, else its name."""
    source = str(record.corpus.get("source") or "")
    return source if source and os.path.isfile(source) else record.corpus_name


def find_run_log(path: str | Path | None, checkpoint_dir: str | Path = "checkpoints"
                 ) -> tuple[Path, str | None]:
    """The run log to watch, and a notice when it is not what was asked for.

    `path` may be a run log, or a checkpoint folder (or its `runs/` folder): the newest run
    there that is still live, else the newest run at all (with a notice). Without `path`, the
    same in `checkpoint_dir`. Raises ChartuiError, in one sentence, for a missing path, a
    file that is not a run log, or a folder with no runs."""
    if path is None:
        folder = user_path(checkpoint_dir)
        if not folder.exists():
            raise ChartuiError(f"there is no checkpoint folder {folder}: start a run with "
                               "`chartui train`, or give a run log or folder to watch")
    else:
        folder = user_path(path)
        if not folder.exists():
            raise ChartuiError(f"there is no {folder}: give a run log "
                               f"(<checkpoint folder>/{RUNS_FOLDER}/<run id>.json) or a "
                               "checkpoint folder")
        if not folder.is_dir():
            if read_run(folder) is None:
                raise ChartuiError(f"{folder} is not a chartui run log (those are "
                                   f"<checkpoint folder>/{RUNS_FOLDER}/<run id>.json)")
            return folder, None
    if folder.name == RUNS_FOLDER and not (folder / RUNS_FOLDER).is_dir():
        folder = folder.parent  # the runs/ folder itself was given
    runs, _ = list_runs(folder)
    if not runs:
        raise ChartuiError(f"no runs logged in {folder.absolute() / RUNS_FOLDER}: start one with "
                           "`chartui train` (under nohup or tmux), then watch it")
    live = [run for run in runs if run.status().live]
    chosen = live[0] if live else runs[0]
    notice = None if live else (f"no run in {folder / RUNS_FOLDER} is training now: showing "
                                f"the newest, {chosen.id} ({chosen.status().label})")
    return run_log_path(folder, chosen), notice


def run_log_path(folder: str | Path, record: RunRecord) -> Path:
    """Where `record`'s log is in the checkpoint folder `folder`."""
    return Path(folder) / RUNS_FOLDER / f"{record.id}.json"
