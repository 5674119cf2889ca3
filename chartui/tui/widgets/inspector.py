"""The next-character inspector: the likeliest next characters and their probabilities."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from chartui.tui import widget_css
from chartui.tui.widgets.corpus_pane import visible_char


class NextCharInspector(Static):
    """Bars for the top candidates under the current temperature. The same characters' share
    at T = 1 is drawn with them: ▓ is what the temperature added, ░ what it took away."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.candidates: list[tuple[str, float, float]] = []
        self.temperature: float | None = None

    def on_mount(self) -> None:
        self.border_title = "Next character"
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def show_candidates(self, candidates: list[tuple[str, float, float]],
                        temperature: float | None) -> None:
        """`candidates` as `chartui.sampling.Generation.candidates` gives them."""
        self.candidates, self.temperature = candidates, temperature
        self.redraw()

    def redraw(self) -> None:
        if not self.candidates:
            self.update(Text("enter generates;\nn steps one character;\n1-8 choose it",
                             style="dim italic"))
            return
        width = max(4, self.content_size.width - 10)
        text = Text(no_wrap=True, overflow="crop")
        for rank, (char, now, plain) in enumerate(self.candidates, start=1):
            text.append(f"{rank} ", "dim")  # the key that chooses it
            text.append(f"{visible_char(char):>2} ", "bold")
            full, faint = round(now * width), round(plain * width)
            text.append("█" * min(full, faint), "bold")
            text.append("▓" * max(0, full - faint))
            text.append("░" * max(0, faint - full), "dim")
            text.append(" " * (width - max(full, faint)))
            text.append(f"{100 * now:4.0f}%\n")
        text.append("▓ gained ░ lost vs T 1", "dim")
        self.update(text, layout=False)  # a fixed box
        self.border_subtitle = ("greedy" if self.temperature == 0
                                else f"T {self.temperature:.1f}")
