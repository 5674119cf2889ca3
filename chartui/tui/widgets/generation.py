"""The generation console: a prime, the live knobs, and the text as it streams in."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer
from textual.widgets import Input, Static

from chartui.tui import widget_css

DEFAULT_LENGTH = 2000


class GenerationConsole(Vertical):
    """Type a prime, press Enter, watch characters arrive."""

    DEFAULT_CSS = widget_css(__file__)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prime = ""
        self.generated: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="gen-knobs")
        with Horizontal(id="gen-inputs"):
            yield Input(placeholder="prime: type, then enter", id="prime", compact=True)
            yield Input(str(DEFAULT_LENGTH), id="length", type="integer", compact=True,
                        validators=[Integer(1, 100_000)], tooltip="characters to generate")
            yield Input("", placeholder="seed", id="seed", type="integer", compact=True,
                        validators=[Integer(0, 2**63 - 1)], valid_empty=True,
                        tooltip="same seed, same text; empty for a random one")
        with VerticalScroll(id="gen-scroll"):
            yield Static(Text("no text yet", style="dim"), id="gen-output")

    def on_mount(self) -> None:
        self.border_title = "Generate"

    def show_knobs(self, temperature: float, top_k: int | None, top_p: float | None,
                   running: bool) -> None:
        t = "greedy" if temperature == 0 else f"{temperature:.1f}"
        k = "all" if top_k is None else str(top_k)
        p = "off" if top_p is None else f"{top_p:g}"
        text = Text.assemble("T ", (t, "bold"), " [ ] · top-k ", (k, "bold"), " { } · top-p ",
                             (p, "bold"), " , . · ",
                             ("generating… esc stops" if running
                              else "enter generates · n steps", "italic"))
        self.query_one("#gen-knobs", Static).update(text, layout=False)  # one line

    def begin(self, prime: str) -> None:
        self.prime = prime
        self.generated = []
        self._render_output()

    def append(self, text: str) -> None:
        self.generated.append(text)
        self._render_output()

    def output_text(self) -> str:
        return self.prime + "".join(self.generated)

    def _output_text(self) -> Text:
        return Text.assemble((self.prime, "bold"), "".join(self.generated))

    def _render_output(self) -> None:
        self.query_one("#gen-output", Static).update(self._output_text())
        self.query_one("#gen-scroll", VerticalScroll).scroll_end(animate=False)
