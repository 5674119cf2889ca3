"""The live loss chart and the latest periodic sample beneath it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from chartui.curves import downsample, smooth
from chartui.tui import widget_css
from chartui.tui.widgets.status import format_count

LEGEND = "[grey62]· train[/]  [cyan]⠒ smoothed[/]  [orange1]• val[/]"


class LossChart(PlotextPlot):
    """Training loss (raw, faint, and smoothed) and validation loss against step.

    Points are added from the UI thread; the plot is rebuilt at most `REDRAW_HZ` times a second
    from at most about two points per column, so it stays fast after any number of steps.
    """

    DEFAULT_CSS = widget_css(__file__)
    REDRAW_HZ = 4

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.train_points: list[tuple[int, float]] = []
        self.val_points: list[tuple[int, float]] = []
        self._dirty = True

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Loss (nats/char)"
        self.border_subtitle = LEGEND
        self.set_interval(1 / self.REDRAW_HZ, self._redraw_if_dirty)
        self.replot()

    def on_resize(self) -> None:
        self._dirty = True

    def set_history(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        self.train_points = list(train)
        self.val_points = list(val)
        self._dirty = True

    def add_point(self, step: int, train_loss: float | None, val_loss: float | None) -> None:
        if train_loss is not None:
            self.train_points.append((step, train_loss))
        if val_loss is not None:
            self.val_points.append((step, val_loss))
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self.replot()

    def replot(self) -> None:
        """Rebuild the plot from the points (downsampled to the widget's width)."""
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.xlabel("step")
        width = max(10, self.size.width)
        train = downsample(self.train_points, 2 * width)
        val = downsample(self.val_points, width)
        steps = [s for s, _ in train] + [s for s, _ in val]
        if train:
            losses = [v for _, v in train]
            plt.plot([s for s, _ in train], losses, color="gray", marker="dot")
            plt.plot([s for s, _ in train], smooth(losses, 0.8), color="cyan+",
                     marker="braille")
        if val:
            plt.scatter([s for s, _ in val], [v for _, v in val], color="orange+",
                        marker="dot")
        if steps:
            low, high = min(steps), max(steps)
            ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
            plt.xticks(ticks, [format_count(t) for t in ticks])
        plt.title("" if steps else "press t to train")
        self.refresh()


class SampleView(Static):
    """The latest sample the trainer drew, so the text can be seen improving."""

    DEFAULT_CSS = widget_css(__file__)

    def on_mount(self) -> None:
        self.border_title = "Latest sample"
        self.update(Text("samples appear here while training", style="dim"))

    def show_sample(self, step: int, text: str) -> None:
        self.border_title = f"Sample at step {step:,}"
        self.update(Text(text))
