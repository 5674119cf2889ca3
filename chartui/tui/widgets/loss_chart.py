"""The live loss chart and the latest periodic sample beneath it."""

from __future__ import annotations

from array import array

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from chartui.curves import downsample, smooth
from chartui.tui import widget_css
from chartui.units import format_count

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
        # kept as flat arrays of doubles: NumPy reads them without copying
        self.train_steps, self.train_losses = array("d"), array("d")
        self.val_steps, self.val_losses = array("d"), array("d")
        self._dirty = True

    @property
    def train_points(self) -> list[tuple[float, float]]:
        return list(zip(self.train_steps, self.train_losses))

    @property
    def val_points(self) -> list[tuple[float, float]]:
        return list(zip(self.val_steps, self.val_losses))

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Loss (nats/char)"
        self.border_subtitle = LEGEND
        self.set_interval(1 / self.REDRAW_HZ, self._redraw_if_dirty)
        self.replot()

    def on_resize(self) -> None:
        self._dirty = True

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
        if self._dirty:
            self.replot()

    def replot(self) -> None:
        """Rebuild the plot from the points (downsampled to the widget's width)."""
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.xlabel("step")
        width = max(10, self.size.width)
        train_steps, losses = downsample(self.train_steps, self.train_losses, 2 * width)
        val_steps, val_losses = downsample(self.val_steps, self.val_losses, width)
        steps = train_steps.tolist() + val_steps.tolist()
        if len(train_steps):
            losses = losses.tolist()
            plt.plot(train_steps.tolist(), losses, color="gray", marker="dot")
            plt.plot(train_steps.tolist(), smooth(losses, 0.8), color="cyan+",
                     marker="braille")
        if len(val_steps):
            plt.scatter(val_steps.tolist(), val_losses.tolist(), color="orange+", marker="dot")
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
