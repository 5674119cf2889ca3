"""Watching a run that another process trains (`chartui watch`, or enter on the runs screen).

The main screen follows the run's log (`chartui.following.RunFollower`, polled a couple of
times a second on the UI thread: a stat, and a small read when the file changed) and shows it
with its usual widgets: the status line (WATCHING <run id>, the state, or STALLED when the log
has gone silent), the chart (the log's history) and the latest sample. It is read-only: the
training keys are off while watching (`WATCH_DISABLED`, out of the key bar, the help and the
palette), and nothing is ever written to the run's files. When the run ends, `o` opens its
final checkpoint (through `Checkpoints`, as any opened checkpoint), which ends the watch and
makes generation work as usual.
"""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen
from textual.timer import Timer

from chartui.following import POLL_EVERY_S, Followed, RunFollower, corpus_to_load
from chartui.tui.widgets.loss_chart import Figure, SampleView

# the actions that would train, or change what the next run trains on
WATCH_DISABLED = frozenset({"toggle_training", "stop_training", "save_checkpoint", "settings",
                            "pick_corpus"})


class Watching:
    """The main screen's watched run: `start(path)` follows a run log, `poll()` shows what
    changed, `stop()` goes back to the app's own runs. `screen` is the main screen."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.follower: RunFollower | None = None
        self.latest: Followed | None = None  # what the last poll said
        self._timer: Timer | None = None

    @property
    def active(self) -> bool:
        return self.follower is not None

    def allows(self, action: str) -> bool:
        """Whether a main-screen action works now (training ones do not while watching)."""
        return not (self.active and action in WATCH_DISABLED)

    def start(self, path: str | Path | None, notice: str | None = None) -> bool:
        """Follow the run log at `path` (`notice`: said first, e.g. that it is not live); False,
        with a notice, when the app trains a run of its own or the log cannot be read (and
        without one when there is no `path`: the runs screen closed without choosing)."""
        screen = self.screen
        if path is None:
            return False
        if screen.training_active():
            screen.notify("stop training (x) before watching another run", severity="warning")
            return False
        follower = RunFollower(path)
        followed = follower.poll()
        if followed is None:
            screen.notify(f"{path} is not a readable chartui run log", title="Watch",
                          severity="error")
            return False
        self.stop()
        screen.start_when_loaded = False  # a t pressed while a corpus loaded: not while watching
        self.follower, self.latest = follower, None
        screen.training.forget()  # the watched run is on show now, not the app's last one
        screen.checkpoints.opened = None
        self._timer = screen.set_interval(POLL_EVERY_S, self.poll)
        screen.chart.empty = "waiting for the run's first steps"
        self._keys_changed()
        record = followed.record
        if corpus_to_load(record) != screen.corpus_name:  # a load under way is replaced
            screen.load_corpus(corpus_to_load(record))
        later = "" if followed.ended else " When it ends, o opens its final checkpoint."
        screen.notify(f"{notice + '. ' if notice else ''}Watching {record.id}, read-only: its "
                      f"training is not this app's (q leaves it running).{later}",
                      title="Watch", timeout=8)
        self.show(followed)
        return True

    def stop(self) -> None:
        """Stop following (a checkpoint was opened): the app's own keys come back."""
        if self.follower is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self.follower, self.latest, self._timer = None, None, None
        self.screen.chart.empty = Figure.empty
        self.screen.status.show(watching="", stalled=False)
        self._keys_changed()

    def _keys_changed(self) -> None:
        """The keys that work have changed (a watch began or ended): show them."""
        self.screen.show_key_bar()
        if self.screen.app.is_screen_installed("help"):
            self.screen.app.uninstall_screen("help")  # built again, with these keys, when asked

    def poll(self) -> None:
        """Look at the log again (the screen's timer calls this; tests may too)."""
        if self.follower is not None:
            followed = self.follower.poll()
            if followed is not None:
                self.show(followed)

    def show(self, followed: Followed) -> None:
        screen, record, before = self.screen, followed.record, self.latest
        self.latest = followed
        screen.status.show(
            watching=record.id, stalled=followed.stalled, state=followed.status,
            corpus=record.corpus_name, parameters=record.parameters, device=record.device,
            precision=record.precision or "", step=record.step,
            total_steps=record.config.get("iterations"), chars_per_s=record.chars_per_s,
            elapsed_s=record.elapsed_s, eta_s=followed.eta_s,
            best_val_loss=record.best_val_loss, model_source="", cell=record.cell)
        if followed.changed:
            screen.chart.set_history(record.train_history, record.val_history)
            sample = screen.query_one(SampleView)
            if record.latest_sample and record.latest_sample != sample.sample_text:
                sample.show_sample(record.latest_sample_step or record.step,
                                   record.latest_sample)
        if followed.stalled and (before is None or not before.stalled):
            screen.notify(f"{record.id} has not written its log for "
                          f"{followed.silent_s:.0f} s: stalled (its process may be stopped, "
                          "or its machine busy or gone)", title="Watch", severity="warning",
                          timeout=10)
        if followed.just_ended:
            self._say_ended(followed)

    def _say_ended(self, followed: Followed) -> None:
        record = followed.record
        how = f"{record.id} {followed.status.label} at step {record.step:,}"
        if record.message:
            how += f" ({record.message})"
        if followed.checkpoint:
            self.screen.notify(f"{how}: press o to open its final checkpoint, "
                               f"{Path(followed.checkpoint).name}, and generate from it",
                               title="Watch", timeout=30)
        else:
            self.screen.notify(f"{how}, with no checkpoint to open", title="Watch",
                               severity="warning", timeout=15)

    def open_final(self) -> bool:
        """o while watching a run that has ended: open its final checkpoint for generation
        (the watch ends once it is read); False when there is none to open yet."""
        followed = self.latest
        if not self.active or followed is None or not followed.ended or \
                not followed.checkpoint:
            return False
        self.screen.app.clear_notifications()  # the offer is taken up
        self.screen.checkpoints.open(followed.checkpoint, resume=False)
        return True
