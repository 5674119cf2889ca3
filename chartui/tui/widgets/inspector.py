"""The next-character inspector: the likeliest next characters and their probabilities."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from chartui.config import SamplingSettings
from chartui.tui import widget_css
from chartui.tui.widgets.corpus_pane import visible_char


class NextCharInspector(Static):
    """Bars for the top candidates, in the model's order of preference, under the current
    temperature. The same characters' share at T = 1 is drawn with them: ▓ is what the
    temperature added, ░ what it took away. A candidate that top-k or top-p (or greedy, T 0)
    leaves out cannot be drawn: its row is dim and says "cut", its bar its share at T = 1."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.candidates: list[tuple[str, float, float]] = []
        self.settings: SamplingSettings | None = None

    def on_mount(self) -> None:
        self.border_title = "Next character"
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def show_candidates(self, candidates: list[tuple[str, float, float]],
                        settings: SamplingSettings | None) -> None:
        """`candidates` as `chartui.sampling.Generation.candidates` gives them (a probability
        now of 0: cut), drawn under the knobs `settings`."""
        self.candidates, self.settings = candidates, settings
        self.redraw()

    def redraw(self) -> None:
        self.border_subtitle = knobs_line(self.settings)
        if not self.candidates:
            self.update(Text("enter generates;\nn steps one character;\n1-8 choose it",
                             style="dim italic"))
            return
        width = max(4, self.content_size.width - 10)
        text = Text(no_wrap=True, overflow="crop")
        cut_any = False
        for rank, (char, now, plain) in enumerate(self.candidates, start=1):
            if now <= 0:  # top-k, top-p or greedy leave it out: it cannot be drawn
                cut_any = True
                faint = round(plain * width)
                text.append(f"{rank} {visible_char(char):>2} ", "dim")
                text.append("░" * faint + " " * (width - faint), "dim")
                text.append("  cut\n", "dim italic")
                continue
            text.append(f"{rank} ", "dim")  # the key that chooses it
            text.append(f"{visible_char(char):>2} ", "bold")
            full, faint = round(now * width), round(plain * width)
            text.append("█" * min(full, faint), "bold")
            text.append("▓" * max(0, full - faint))
            text.append("░" * max(0, faint - full), "dim")
            text.append(" " * (width - max(full, faint)))
            text.append(f"{100 * now:4.0f}%\n")
        text.append("cut: not drawn; ▓+ ░- vs T 1" if cut_any else "▓ gained ░ lost vs T 1",
                    "dim")
        self.update(text, layout=False)  # a fixed box


def knobs_line(settings: SamplingSettings | None) -> str:
    """The knobs in a few characters for the border, e.g. "T 0.8 · k 5 · p 0.9"."""
    if settings is None:
        return ""
    parts = ["greedy" if settings.temperature == 0 else f"T {settings.temperature:.1f}"]
    if settings.top_k is not None:
        parts.append(f"k {settings.top_k}")
    if settings.top_p is not None:
        parts.append(f"p {settings.top_p:g}")
    return " · ".join(parts)
