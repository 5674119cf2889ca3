"""The key bar: every key the app answers to, on as many lines as the width needs.

It replaces Textual's one-line footer, which cuts keys off at 80 columns, and it stays on
screen while a text box has focus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from chartui.tui import widget_css

GAP = "  "


class KeyBar(Static):
    """`show_keys([(key, label), ...])`; keys drawn bold, a key never parted from its label."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keys: list[tuple[str, str]] = []

    def show_bindings(self, bindings: Iterable[Binding],
                      key_display: Callable[[Binding], str]) -> None:
        """Every shown binding, its key as `key_display` gives it; a group's keys (e.g. [ ])
        share one label."""
        keys: list[tuple[str, str]] = []
        for binding in bindings:
            if not binding.show:
                continue
            shown = key_display(binding)
            if binding.group is not None:
                if keys and keys[-1][1] == binding.group.description:
                    keys[-1] = (f"{keys[-1][0]} {shown}", keys[-1][1])
                else:
                    keys.append((shown, binding.group.description))
            else:
                keys.append((shown, binding.description))
        self.show_keys(keys)

    def show_keys(self, keys: list[tuple[str, str]]) -> None:
        self.keys = keys
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """The keys on as few lines as the width allows, two spaces apart; one space apart when
        that saves a line (a narrow terminal)."""
        width = self.content_size.width or 80
        text = min((self._layout(width, gap) for gap in (GAP, " ")),
                   key=lambda laid: laid.plain.count("\n"))
        self.update(text)

    def _layout(self, width: int, gap: str) -> Text:
        text, used = Text(no_wrap=True, overflow="crop"), 0
        for key, label in self.keys:
            size = len(key) + 1 + len(label)
            if used and used + len(gap) + size > width:
                text.append("\n")
                used = 0
            elif used:
                text.append(gap)
                used += len(gap)
            text.append(key, "bold reverse")
            text.append(" " + label)
            used += size
        return text
