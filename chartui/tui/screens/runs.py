"""The runs screen: every logged run in a table; selected runs' validation curves on one chart."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from chartui.following import run_log_path
from chartui.runs import RUNS_FOLDER, RunRecord, list_runs, read_run, skipped_note
from chartui.tui import widget_css
from chartui.tui.widgets.loss_chart import mark_steps
from chartui.units import format_count

# One colour per compared run: (plotext name, the same ANSI colour for Rich). Bright ANSI
# colours, so they stay apart in a 16-colour terminal too.
CURVE_COLOURS = [("cyan+", "color(14)"), ("orange+", "color(11)"), ("magenta+", "color(13)"),
                 ("green+", "color(10)"), ("red+", "color(9)"), ("blue+", "color(12)"),
                 ("white", "color(15)")]
REFRESH_S = 2.0  # how often a run that is still training is read again
# key, header, right-aligned?
# (the best validation loss is headed "val" so that the table fits in 80 columns)
COLUMNS = [("mark", "", False), ("when", "when", False), ("corpus", "corpus", False),
           ("cell", "cell", False), ("model", "model", False), ("lr", "lr", True),
           ("batch", "batch", True), ("steps", "steps", True), ("best", "val", True),
           ("speed", "ch/s", True), ("state", "state", False)]
CORPUS_WIDTH = 11  # with it the table fits in 80 columns, a vertical scroll bar included
SELECTED_MARK = "✓"


def short_corpus_name(run: RunRecord) -> str:
    """The run's corpus name, cut to CORPUS_WIDTH characters with an ellipsis."""
    corpus = run.corpus_name
    return corpus if len(corpus) <= CORPUS_WIDTH else corpus[:CORPUS_WIDTH - 1] + "…"


def run_label(run: RunRecord) -> str:
    """Names a run in a few words: when, corpus, cell and model."""
    config = run.config
    return (f"{run.started:%m-%d %H:%M} {short_corpus_name(run)} {run.cell} "
            f"{config.get('num_layers', '?')}×{config.get('hidden_size', '?')} "
            f"lr {config.get('lr', 0):g}")


def run_cells(run: RunRecord) -> dict[str, str]:
    """The table's cells for one run, by column key."""
    config = run.config
    return {
        "when": f"{run.started:%m-%d %H:%M}",
        "corpus": short_corpus_name(run),
        "cell": run.cell,
        "model": f"{config.get('num_layers', '?')}×{config.get('hidden_size', '?')}",
        "lr": f"{config.get('lr', 0):g}",
        "batch": str(config.get("batch_size", "?")),
        "steps": f"{run.step:,}",
        "best": "–" if run.best_val_loss is None else f"{run.best_val_loss:.3f}",
        "speed": format_count(run.chars_per_s) if run.chars_per_s else "–",
        "state": run.status().replace("_", " "),  # a run that died: interrupted
    }


def _cell(text: str, right: bool) -> Text:
    """A table cell with one space before it (the table itself adds no padding)."""
    return Text(" " + text, justify="right" if right else "left")


def watchable(run: RunRecord) -> bool:
    """A run another process is training now (not this app's own): enter watches it."""
    own = run.pid == os.getpid() and run.host == socket.gethostname()
    return run.status().live and not own


class RunsScreen(ModalScreen[str | None]):
    """The runs logged in a checkpoint folder, newest first; space selects, c (or enter)
    compares; enter on a run another process is training closes it with that run's log, for
    the main screen to watch."""

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = [
        Binding("space", "toggle_selection", "Select", id="select_run"),
        Binding("c", "compare", "Compare", id="compare_runs"),
        Binding("escape", "dismiss(None)", "Close", id="close_runs"),
    ]

    def __init__(self, checkpoint_dir: str | Path) -> None:
        super().__init__()
        self.folder = Path(checkpoint_dir)
        self.runs: dict[str, RunRecord] = {}
        self.selected: list[str] = []  # run ids, in the order they were selected

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-body"):
            yield DataTable(id="runs-table", cursor_type="row", cell_padding=0)
            yield Static("", id="runs-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#runs-body").border_title = f"Runs in {self.folder / RUNS_FOLDER}"
        table = self.query_one(DataTable)
        for key, header, right in COLUMNS:
            table.add_column(_cell(header, right) if header else "", key=key)
        runs, skipped = list_runs(self.folder)
        for run in runs:
            if run.id in self.runs:  # a copy of a run log: the newest file stands for it
                continue
            self.runs[run.id] = run
            cells = run_cells(run)
            table.add_row(" ", *[_cell(cells[key], right) for key, _, right in COLUMNS[1:]],
                          key=run.id)
        self.notes = []
        if not runs:
            self.notes.append("no runs yet: every training run (t, or chartui train) is logged "
                              "here")
        else:
            self.notes.append("space selects · c compares validation curves · enter watches "
                              "a live run, else compares · esc closes")
        if skipped:
            self.notes.append(skipped_note(skipped))
        self.show_note()
        table.focus()
        self.set_interval(REFRESH_S, self.refresh_active_runs)

    def show_note(self) -> None:
        """The keys (and skipped files), and the highlighted run's latest checkpoint."""
        run_id = self.highlighted_run()
        latest = self.runs[run_id].latest_checkpoint if run_id in self.runs else None
        lines = [" · ".join(self.notes)]
        if latest:
            lines.append(f"latest checkpoint: {latest}")
        self.query_one("#runs-note", Static).update("\n".join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_note()

    def highlighted_run(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_toggle_selection(self) -> None:
        run_id = self.highlighted_run()
        if run_id is None:
            return
        if run_id in self.selected:
            self.selected.remove(run_id)
        else:
            self.selected.append(run_id)
        mark = Text(SELECTED_MARK, style="bold") if run_id in self.selected else " "
        self.query_one(DataTable).update_cell(run_id, "mark", mark)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """enter: watch the run when another process is training it and none is marked,
        else compare."""
        event.stop()
        run = self.runs.get(self.highlighted_run())
        if run is not None and not self.selected and watchable(run):
            self.dismiss(str(run_log_path(self.folder, run)))
        else:
            self.action_compare()

    def action_compare(self) -> None:
        """The selected runs; with fewer than two selected, the highlighted one joins them."""
        chosen = list(self.selected)
        highlighted = self.highlighted_run()
        if len(chosen) < 2 and highlighted is not None and highlighted not in chosen:
            chosen.append(highlighted)
        if not chosen:
            self.notify("no runs to compare yet", severity="warning")
            return
        if len(chosen) > len(CURVE_COLOURS):
            self.notify(f"showing the first {len(CURVE_COLOURS)} of the {len(chosen)} selected "
                        "runs", severity="warning")
            chosen = chosen[:len(CURVE_COLOURS)]
        self.app.push_screen(RunComparison([self.runs[run_id] for run_id in chosen]))

    def refresh_active_runs(self) -> None:
        """Read the runs that are still going again, so their row keeps up."""
        table = self.query_one(DataTable)
        for run_id, run in list(self.runs.items()):
            if not run.status().live:  # ended, or died without a word
                continue
            fresh = read_run(self.folder / RUNS_FOLDER / f"{run_id}.json")
            if fresh is None:
                continue
            self.runs[run_id] = fresh
            cells = run_cells(fresh)
            for key, _, right in COLUMNS[1:]:
                table.update_cell(run_id, key, _cell(cells[key], right))
        self.show_note()


class ValidationCurves(PlotextPlot):
    """Validation loss against step for a few runs, one colour each."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, runs: list[RunRecord], **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs = runs

    def on_mount(self) -> None:
        super().on_mount()
        plt = self.plt
        plt.xlabel("step")
        steps = []
        for run, (colour, _) in zip(self.runs, CURVE_COLOURS, strict=False):
            if not run.val_history:
                continue
            xs = [s for s, _ in run.val_history]
            ys = [v for _, v in run.val_history]
            steps += xs
            plt.plot(xs, ys, color=colour, marker="braille")
            plt.scatter(xs, ys, color=colour, marker="dot")
        mark_steps(plt, steps)
        if not steps:
            plt.title("no validation loss recorded yet")


class RunComparison(ModalScreen[None]):
    """The chosen runs' validation curves on one chart, with a legend."""

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = [Binding("escape,c", "dismiss(None)", "Back", id="close_comparison")]

    def __init__(self, runs: list[RunRecord]) -> None:
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        with Vertical(id="comparison-body"):
            yield ValidationCurves(self.runs, id="comparison-chart")
            yield Static(self.legend(), id="comparison-legend")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#comparison-body").border_title = "Validation loss (nats/char)"

    def legend(self) -> Text:
        legend = Text(no_wrap=True, overflow="ellipsis")
        for i, (run, (_, style)) in enumerate(zip(self.runs, CURVE_COLOURS, strict=False)):
            if run.val_history:
                step, loss = min(run.val_history, key=lambda point: point[1])
                best = f"best {loss:.3f} at step {step:,}"
            else:
                best = "no validation loss yet"
            legend.append("\n" if i else "")
            legend.append("━━ ", style=style)
            legend.append(f"{run_label(run)} · {best}")
        return legend
