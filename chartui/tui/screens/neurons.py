"""The neuron view: a text coloured by the activation of one unit of the model.

Karpathy, Johnson & Fei-Fei (2015) found single cells of character LSTMs that follow quotes,
the position in the line or brackets. This screen colours a text by one unit at a time and
jumps to the units that follow a nameable feature most closely; `chartui.neurons` does the maths.
An LSTM offers its hidden state h and its cell state c; a GRU or a plain RNN only h.
"""

from __future__ import annotations

import functools
from itertools import groupby, pairwise

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from chartui.latest import Latest
from chartui.neurons import (
    FEATURES,
    LEVEL_EDGES,
    UNREAD,
    Activations,
    UnitScore,
    activation_levels,
    activations,
    rank_units,
)
from chartui.tui import widget_css
from chartui.tui.messages import ActivationsFailed, ActivationsRead
from chartui.tui.workers import failure_posted, while_running

TEXT_CHARS = 2000  # characters read through the model (a few hundred ms for a small model)
FEATURE_NAMES = list(FEATURES)
KIND_NAMES = {"h": "hidden h", "c": "cell tanh(c)"}
# Background per activation level (strong -, weak -, about 0, weak +, strong +): standard ANSI
# colours, so a 16-colour terminal shows them in its own palette.
LEVEL_STYLES = {0: "bright_white on blue", 1: "black on cyan", 2: "", 3: "black on yellow",
                4: "bright_white on red", UNREAD: "dim"}


def coloured_text(text: str, levels) -> Text:
    """`text` with each character on the colour of its level. A newline's colour shows on a
    space before it, so the lines stay as they are."""
    coloured = Text()
    start = 0
    for level, run in groupby(levels.tolist()):
        stop = start + sum(1 for _ in run)
        coloured.append(text[start:stop].replace("\n", " \n"), LEVEL_STYLES[level])
        start = stop
    return coloured


def legend(with_unread: bool) -> Text:
    """What the colours mean, from LEVEL_EDGES."""
    edges = [f"{edge:+.1f}" for edge in LEVEL_EDGES]
    ranges = [f"<{edges[0]}", *(f"{a}…{b}" for a, b in pairwise(edges)), f">{edges[-1]}"]
    text = Text("activation ", style="dim")
    for level, label in enumerate(ranges):
        text.append(f" {label} ", LEVEL_STYLES[level])
    if with_unread:
        text.append("  dim: not in the vocabulary", "dim")
    return text


class NeuronScreen(ModalScreen[None]):
    """Colours one of `texts` (name -> text, the first shown first) by the activation of one
    unit of `model`; keys move between units, layers, h and c, and rank units by a feature."""

    DEFAULT_CSS = widget_css(__file__)
    AUTO_FOCUS = None  # the arrows belong to the screen, not to the scrolling text
    UNIT_KEYS = Binding.Group("Unit", compact=True)
    LAYER_KEYS = Binding.Group("Layer", compact=True)
    BINDINGS = [
        Binding("left", "unit(-1)", "previous unit", id="neuron_unit_previous", group=UNIT_KEYS),
        Binding("right", "unit(1)", "next unit", id="neuron_unit_next", group=UNIT_KEYS),
        Binding("up", "layer(-1)", "previous layer", id="neuron_layer_previous",
                group=LAYER_KEYS),
        Binding("down", "layer(1)", "next layer", id="neuron_layer_next", group=LAYER_KEYS),
        Binding("k", "toggle_kind", "h/c", id="neuron_kind",
                tooltip="switch between the hidden state h and the cell state c"),
        Binding("f", "next_feature", "Feature", id="neuron_feature",
                tooltip="next feature, and the unit that tracks it best"),
        Binding("b", "next_best", "Next best", id="neuron_next_best",
                tooltip="the next best unit for the feature"),
        Binding("s", "switch_text", "Text", id="neuron_text",
                tooltip="switch between the generated text and the corpus"),
        Binding("pageup", "scroll_text(-1)", "scroll up", id="neuron_page_up", show=False),
        Binding("pagedown", "scroll_text(1)", "scroll down", id="neuron_page_down", show=False),
        Binding("escape,v", "dismiss", "Close", id="close_neurons"),
    ]

    def __init__(self, model, vocab, texts: dict[str, str]) -> None:
        super().__init__()
        self.model, self.vocab = model, vocab
        self.texts = texts
        self.source = next(iter(texts))
        self.acts: Activations | None = None
        self.lstm_layer, self.kind, self.unit = 0, "h", 0
        self.feature = 0  # index into FEATURE_NAMES
        self.ranking: list[UnitScore] = []  # for the feature, best first
        self.rank_of: dict[tuple[int, str, int], int] = {}
        self.best = 0  # the place in the ranking that f and b went to
        self.reads = Latest()  # a text switched away from is still being read: its result is stale

    def compose(self) -> ComposeResult:
        with Vertical(id="neuron-view"):
            yield Static("", id="neuron-header")
            scroll = VerticalScroll(id="neuron-scroll")
            scroll.can_focus = False
            with scroll:
                yield Static("", id="neuron-text")
            yield Static("", id="neuron-legend")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#neuron-view").border_title = "Neuron view — esc closes"
        self.read()

    # --- reading the text (in a thread) -----------------------------------------------------

    def read(self) -> None:
        self.acts = None
        text = self.texts[self.source]
        self.query_one("#neuron-header", Static).update(
            Text(f"reading {len(text):,} characters through the model…", style="italic"))
        self.query_one("#neuron-view").border_subtitle = self.source_label()
        self._read_worker(text, self.reads.new())

    @work(thread=True, exclusive=True, group="neurons")
    def _read_worker(self, text: str, ticket: int) -> None:
        worker = get_current_worker()
        with failure_posted(self, functools.partial(ActivationsFailed, ticket=ticket)):
            acts = activations(self.model, self.vocab, text, lambda: worker.is_cancelled)
            if acts is not None:  # None: cancelled
                self.post_message(ActivationsRead(acts, ticket))

    @while_running
    def on_activations_read(self, message: ActivationsRead) -> None:
        if self.reads.is_current(message.ticket):
            self.show(message.activations)

    @while_running
    def on_activations_failed(self, message: ActivationsFailed) -> None:
        if self.reads.is_current(message.ticket):
            self.query_one("#neuron-header", Static).update(Text(message.error, style="bold red"))
            self.notify(message.error, title="Neuron view", severity="error")

    def show(self, acts: Activations) -> None:
        """New activations: rank the units for the feature; the first time, go to the best."""
        first = not self.ranking
        self.acts = acts
        self.query_one("#neuron-legend", Static).update(legend(not acts.read.all()))
        self.rank()
        if first:
            self.go_to_rank(0)
        else:
            self.redraw()

    # --- choosing the unit ------------------------------------------------------------------

    def rank(self) -> None:
        values = FEATURES[FEATURE_NAMES[self.feature]](self.acts.text)
        self.ranking = rank_units(self.acts, values)
        self.rank_of = {score[:3]: place for place, score in enumerate(self.ranking)}

    def go_to_rank(self, place: int) -> None:
        self.best = place % len(self.ranking)
        self.lstm_layer, self.kind, self.unit, _ = self.ranking[self.best]
        self.redraw()

    def action_unit(self, step: int) -> None:
        if self.acts is not None:
            self.unit = (self.unit + step) % self.acts.hidden_size
            self.redraw()

    def action_layer(self, step: int) -> None:
        if self.acts is not None:
            self.lstm_layer = (self.lstm_layer + step) % self.acts.layers
            self.redraw()

    def action_toggle_kind(self) -> None:
        if self.acts is None:
            return
        kinds = self.acts.kinds
        if len(kinds) == 1:
            self.notify(f"a {self.model.config.cell.upper()} has no cell state c: its units are "
                        "the hidden state h")
            return
        self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)]
        self.redraw()

    def action_next_feature(self) -> None:
        if self.acts is not None:
            self.feature = (self.feature + 1) % len(FEATURE_NAMES)
            self.rank()
            self.go_to_rank(0)

    def action_next_best(self) -> None:
        if self.acts is not None:
            self.go_to_rank(self.best + 1)

    def action_switch_text(self) -> None:
        names = list(self.texts)
        if len(names) == 1:
            self.notify("only the corpus is at hand: generate some text first (g, enter)")
            return
        self.source = names[(names.index(self.source) + 1) % len(names)]
        self.read()

    def action_scroll_text(self, direction: int) -> None:
        scroll = self.query_one("#neuron-scroll", VerticalScroll)
        if direction < 0:
            scroll.scroll_page_up(animate=False)
        else:
            scroll.scroll_page_down(animate=False)

    # --- drawing ----------------------------------------------------------------------------

    def source_label(self) -> str:
        label = f"{self.source} · {len(self.texts[self.source]):,} characters"
        return label + (" · s switches" if len(self.texts) > 1 else "")

    def redraw(self) -> None:
        acts = self.acts
        feature = FEATURE_NAMES[self.feature]
        place = self.rank_of[(self.lstm_layer, self.kind, self.unit)]
        correlation = self.ranking[place].correlation
        header = Text.assemble(
            "layer ", (f"{self.lstm_layer + 1}/{acts.layers}", "bold"), " · ",
            (KIND_NAMES[self.kind], "bold"), " · unit ",
            (f"{self.unit}", "bold"), f" of {acts.hidden_size}\n")
        if not self.ranking[0].correlation:
            header.append(f"no unit follows “{feature}” in this text", "italic")
        else:
            header.append_text(Text.assemble(
                "r ", (f"{correlation:+.2f}", "bold"), f" with “{feature}” · ",
                (f"#{place + 1}", "bold"), f" of {len(self.ranking):,}"))
        self.query_one("#neuron-header", Static).update(header)
        levels = activation_levels(acts.unit(self.lstm_layer, self.kind, self.unit))
        self.query_one("#neuron-text", Static).update(coloured_text(acts.text, levels))
