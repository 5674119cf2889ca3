"""The status line: what is loaded and what the trainer is doing."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

from chartui.progress import RunState
from chartui.tui import widget_css
from chartui.units import format_count, format_duration

STATE_STYLES = {
    RunState.IDLE: "dim", RunState.STARTING: "yellow", RunState.TRAINING: "bold green",
    RunState.PAUSED: "bold yellow", RunState.STOPPING: "yellow", RunState.STOPPED: "cyan",
    RunState.FINISHED: "bold cyan", RunState.TIME_LIMIT: "bold cyan", RunState.HANGUP: "cyan",
    RunState.INTERRUPTED: "cyan", RunState.DIVERGED: "bold red", RunState.FAILED: "bold red",
}


@dataclass(frozen=True)
class StatusInfo:
    corpus: str = "-"
    parameters: int | None = None
    cell: str = "lstm"  # the model's cell (lstm, gru, rnn); named in the line when not lstm
    device: str = "-"
    precision: str = ""  # what the running model trains in (fp32, bf16); empty when idle
    state: RunState = RunState.IDLE  # of the run, or FAILED when the corpus could not load
    step: int = 0
    total_steps: int | None = None
    chars_per_s: float | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    best_val_loss: float | None = None
    model_source: str = ""
    watching: str = ""  # the id of a run another process trains, shown read-only
    stalled: bool = False  # that run's log has gone silent (chartui.following)


class StatusBar(Static):
    """Two lines: corpus, model, device and state; then step, speed, time and best val loss."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.info = StatusInfo()

    def show(self, **changes) -> None:
        self.info = replace(self.info, **changes)
        self.update(self.render_info(), layout=False)  # always two lines

    def render_info(self) -> Text:
        i = self.info
        params = f"{format_count(i.parameters)} params" if i.parameters else "no model yet"
        if i.parameters and i.cell != "lstm":
            params = f"{i.cell.upper()} {params}"
        state = ("STALLED", "bold red") if i.stalled else (i.state.label.upper(),
                                                             STATE_STYLES[i.state])
        if i.watching:  # the state first: a long run id must not push it off the line
            line1 = Text.assemble((" chartui ", "bold reverse"), " ",
                                  (f"WATCHING {i.watching}", "bold"), " · ", state,
                                  f" · {params} · {i.device}",
                                  f" {i.precision}" if i.precision else "")
        else:
            line1 = Text.assemble(
                (" chartui ", "bold reverse"), " ", (i.corpus, "bold"),
                f" · {params} · {i.device}", f" {i.precision}" if i.precision else "",
                f" {i.model_source}" if i.model_source else "", " · ", state)
        total = f"/{i.total_steps:,}" if i.total_steps else ""
        speed = f"{format_count(i.chars_per_s)} ch/s" if i.chars_per_s else "-- ch/s"
        best = f"{i.best_val_loss:.4f}" if i.best_val_loss is not None else "-"
        line2 = Text(f" step {i.step:,}{total} · {speed} · {format_duration(i.elapsed_s)}"
                     f" elapsed · ETA {format_duration(i.eta_s)} · best val {best}")
        return Text("\n").join([line1, line2])
