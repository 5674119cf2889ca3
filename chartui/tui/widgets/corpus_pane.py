"""The corpus pane: facts about the text, its most common characters and a preview."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static, TextArea

from chartui.tui import widget_css
from chartui.units import format_bytes, format_count

PREVIEW_CHARS = 20_000
VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥"}


def visible_char(char: str) -> str:
    """Whitespace shown as a symbol, other control characters as their code."""
    if char in VISIBLE:
        return VISIBLE[char]
    return char if char.isprintable() else f"\\x{ord(char):02x}"


class CorpusPane(Vertical):
    """Name, source, size, vocabulary, split, character frequencies and a scrollable preview."""

    DEFAULT_CSS = widget_css(__file__)

    def compose(self) -> ComposeResult:
        yield Static("loading the corpus…", id="corpus-name")
        yield Static("", id="corpus-source")
        yield Static("", id="corpus-facts")
        yield Static("", id="corpus-top")
        yield Sparkline([], id="corpus-spark")
        yield TextArea("", id="corpus-preview", read_only=True, soft_wrap=True,
                       show_line_numbers=False)

    def on_mount(self) -> None:
        self.border_title = "Corpus"

    def show_loading(self, name: str) -> None:
        self.query_one("#corpus-name", Static).update(f"loading {name}…")

    def show_peek(self, peek) -> None:
        """The start of a file that is still being read (a `chartui.corpus.CorpusPeek`)."""
        self.query_one("#corpus-name", Static).update(Text(peek.name, style="bold"))
        self.query_one("#corpus-source", Static).update(peek.source)
        self.query_one("#corpus-facts", Static).update(
            Text(f"{format_bytes(peek.size_bytes)} · reading it all to learn its characters…",
                 style="italic"))
        self.query_one("#corpus-top", Static).update("")
        self.query_one("#corpus-spark", Sparkline).data = []
        self.query_one("#corpus-preview", TextArea).load_text(peek.head[:PREVIEW_CHARS])

    def show_error(self, message: str) -> None:
        self.query_one("#corpus-name", Static).update(Text(message, style="bold red"))

    def show_corpus(self, corpus, val_fraction: float) -> None:
        counts = corpus.counts
        order = counts.argsort()[::-1]
        total = max(1, int(counts.sum()))
        n_val = int(round(len(corpus) * val_fraction))
        self.query_one("#corpus-name", Static).update(Text(corpus.name, style="bold"))
        self.query_one("#corpus-source", Static).update(corpus.source)
        self.query_one("#corpus-facts", Static).update(
            f"{len(corpus):,} characters\nvocabulary {len(corpus.vocab)}\n"
            f"train {format_count(len(corpus) - n_val)} · val {format_count(n_val)}")
        top = Text("most common (%): ", style="dim")
        for i in order[:10]:
            top.append(visible_char(corpus.vocab.chars[i]), "bold reverse")
            top.append(f"{100 * counts[i] / total:.0f} ")
        self.query_one("#corpus-top", Static).update(top)
        self.query_one("#corpus-spark", Sparkline).data = [float(counts[i]) for i in order[:48]]
        self.query_one("#corpus-preview", TextArea).load_text(corpus.text(0, PREVIEW_CHARS))
