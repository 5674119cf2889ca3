"""The live loss chart and the latest periodic sample beneath it."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize
from textual.widgets import Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from chartui.curves import downsample, since, smooth
from chartui.latest import Latest
from chartui.tui import widget_css
from chartui.units import format_count

LEGEND = "[grey62]· train[/]  [cyan]⠒ smoothed[/]  [orange1]• val[/]"
VIEWS = ("whole run", "recent", "log scale")  # what the chart can show, in the order `l` cycles
UNITS = {"nats": 1.0, "bits": 1 / math.log(2)}  # how many of each unit make one nat


@dataclass(frozen=True)
class Figure:
    """What one picture of the chart shows: copied on the UI thread, drawn on any thread."""

    width: int
    height: int
    theme: str
    train_steps: list[float]
    train_losses: list[float]
    val_steps: list[float]
    val_losses: list[float]
    style: Style
    view: str = VIEWS[0]
    units: str = "nats"
    empty: str = "press t to train"  # the title while there are no points


def mark_steps(plt, steps: list[float]) -> None:
    """Five evenly spaced ticks on a plot's step axis, from the first step to the last, labelled
    as counts (12.5k)."""
    if steps:
        low, high = min(steps), max(steps)
        ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
        plt.xticks(ticks, [format_count(t) for t in ticks])


class LossChart(PlotextPlot):
    """Training loss (raw, faint, and smoothed) and validation loss against step.

    Points are added from the UI thread. While training, the picture is redrawn at most
    `REDRAW_HZ` times a second in a background thread (plotext and turning its output into
    lines take 20-30 ms, which would otherwise hold up the frame a key press is waiting for)
    from at most about two points per column, so it stays fast after any number of steps.
    `replot()` redraws at once, on the calling thread.

    Its `view` is the whole run, the recent part (the later half of the steps, the y-range
    fitted to it, so the first losses do not squeeze it into a row or two) or the whole run on
    a log scale; its `units` nats or bits per character. Both go into each `Figure`.
    """

    DEFAULT_CSS = widget_css(__file__)
    REDRAW_HZ = 4

    @dataclass
    class Drawn(Message):
        """A picture drawn in the background."""

        figure: Figure
        lines: list[Strip]
        ticket: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # kept as flat arrays of doubles: NumPy reads them without copying
        self.train_steps, self.train_losses = array("d"), array("d")
        self.val_steps, self.val_losses = array("d"), array("d")
        self._dirty = True
        self._drawing = False  # a background drawing is under way
        self._pictures = Latest()  # a picture drawn for an older ticket is dropped
        self._figure: Figure | None = None  # what `_lines` shows
        self._lines: list[Strip] = []
        self.view = VIEWS[0]
        self.units = "nats"
        self.empty = Figure.empty  # what the title says while there are no points

    @property
    def train_points(self) -> list[tuple[float, float]]:
        return list(zip(self.train_steps, self.train_losses, strict=True))

    @property
    def val_points(self) -> list[tuple[float, float]]:
        return list(zip(self.val_steps, self.val_losses, strict=True))

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = self.title()
        self.border_subtitle = LEGEND
        self.set_interval(1 / self.REDRAW_HZ, self._redraw_if_dirty)

    def title(self) -> str:
        """What the chart shows: the units, then the view, e.g. "Loss (bits/char) · recent"."""
        return f"Loss ({self.units}/char) · {self.view}"

    def next_view(self) -> str:
        """Show the next of `VIEWS` (after the last, the first again), now; returns it."""
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._show_view()
        return self.view

    def switch_units(self) -> str:
        """Show the loss in bits/char after nats/char and back, now; returns the units."""
        self.units = "bits" if self.units == "nats" else "nats"
        self._show_view()
        return self.units

    def _show_view(self) -> None:
        """The new title, and the picture drawn at once (one drawing per key press)."""
        self.border_title = self.title()
        self.replot()

    def set_history(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        self.train_steps = array("d", (s for s, _ in train))
        self.train_losses = array("d", (v for _, v in train))
        self.val_steps = array("d", (s for s, _ in val))
        self.val_losses = array("d", (v for _, v in val))
        self._dirty = True

    def add_point(self, step: int, train_loss: float | None, val_loss: float | None) -> None:
        if train_loss is not None:
            self.train_steps.append(step)
            self.train_losses.append(train_loss)
        if val_loss is not None:
            self.val_steps.append(step)
            self.val_losses.append(val_loss)
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty and not self._drawing and self.size.area:
            self._dirty, self._drawing = False, True
            self._draw_in_background(self.figure(), self._pictures.new())

    @work(thread=True, exclusive=True, exit_on_error=False, group="chart")
    def _draw_in_background(self, figure: Figure, ticket: int) -> None:
        try:
            self.post_message(self.Drawn(figure, self.draw(figure), ticket))
        finally:
            self._drawing = False

    def on_loss_chart_drawn(self, message: Drawn) -> None:
        message.stop()
        if not self._pictures.is_current(message.ticket):
            return  # replot() drew newer points meanwhile
        if self._fits(message.figure):
            self._show(message.figure, message.lines)
        else:
            self._dirty = True  # resized or re-themed meanwhile: draw again

    def replot(self) -> None:
        """Redraw the picture now, from the points (downsampled to the widget's width)."""
        self._dirty = False
        self._pictures.expire()
        if self.size.area:
            figure = self.figure()
            self._show(figure, self.draw(figure))

    def figure(self) -> Figure:
        """The points of the current view to draw at the current size, at most about two per
        column, in the current units."""
        width, height = self.size
        train = self.train_steps, self.train_losses
        val = self.val_steps, self.val_losses
        if self.view == "recent" and (self.train_steps or self.val_steps):
            ends = [s[i] for s in (self.train_steps, self.val_steps) if s for i in (0, -1)]
            middle = (min(ends) + max(ends)) / 2
            train, val = since(*train, middle), since(*val, middle)
        train_steps, train_losses = downsample(*train, 2 * max(10, width))
        val_steps, val_losses = downsample(*val, max(10, width))
        per_nat = UNITS[self.units]
        return Figure(width, height, self._get_plotext_theme_name(self.app.theme),
                      train_steps.tolist(), (train_losses * per_nat).tolist(),
                      val_steps.tolist(), (val_losses * per_nat).tolist(), self.visual_style,
                      self.view, self.units, self.empty)

    def draw(self, figure: Figure) -> list[Strip]:
        """The picture of `figure`, one strip per row (safe on any thread: its own plot)."""
        plt = Plot()
        plt.plotsize(figure.width, figure.height)
        plt._set_size(figure.width, figure.height)  # as textual-plotext does, see its render()
        plt.theme(figure.theme)
        plt.xlabel("step")
        if figure.view == "log scale":
            plt.yscale("log")
        if figure.train_steps:
            plt.plot(figure.train_steps, figure.train_losses, color="gray", marker="dot")
            plt.plot(figure.train_steps, smooth(figure.train_losses, 0.8), color="cyan+",
                     marker="braille")
        if figure.val_steps:
            plt.scatter(figure.val_steps, figure.val_losses, color="orange+", marker="dot")
        steps = figure.train_steps + figure.val_steps
        mark_steps(plt, steps)
        plt.title("" if steps else figure.empty)
        visual = visualize(self, Text.from_ansi(plt.build()))
        return Visual.to_strips(self, visual, figure.width, figure.height, figure.style)

    def _show(self, figure: Figure, lines: list[Strip]) -> None:
        self._figure, self._lines = figure, lines
        self.refresh()

    def _fits(self, figure: Figure | None) -> bool:
        """Whether `figure` was drawn for the chart's current size and theme."""
        return figure is not None and (figure.width, figure.height) == tuple(self.size) and (
            figure.theme == self._get_plotext_theme_name(self.app.theme))

    def render_line(self, y: int) -> Strip:
        if not self._fits(self._figure):  # first shown, resized or re-themed: draw now
            self._figure = self.figure()
            self._lines = self.draw(self._figure)
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)


class SampleView(Static):
    """The latest sample the trainer drew, so the text can be seen improving."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sample_text = ""  # the latest sample, "" before the first

    def on_mount(self) -> None:
        self.border_title = "Latest sample"
        self.update(Text("samples appear here while training", style="dim"))

    def show_sample(self, step: int, text: str) -> None:
        self.border_title = f"Sample at step {step:,}"
        self.sample_text = text
        self.update(Text(text), layout=False)  # a fixed box
