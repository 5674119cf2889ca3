"""The export dialog: what to save (loss history as CSV or JSON, or the generated text), where."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from chartui.export import LOSS_CSV, LOSS_JSON, TEXT, default_path
from chartui.tui import widget_css

CHOICES = [(LOSS_CSV, "loss history as CSV (step, train_loss, val_loss)"),
           (LOSS_JSON, "loss history as JSON"),
           (TEXT, "generated text")]


class ExportScreen(ModalScreen[None]):
    """1, 2 or 3 chooses what to save; enter saves it to the path in the box; esc cancels.

    `save(kind, path)` writes the file and says how it went; the dialog closes when it worked.
    """

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = [
        Binding("1", "choose(0)", "CSV", id="export_loss_csv"),
        Binding("2", "choose(1)", "JSON", id="export_loss_json"),
        Binding("3", "choose(2)", "text", id="export_text"),
        Binding("escape", "dismiss(None)", "Cancel", id="close_export"),
    ]

    def __init__(self, corpus_name: str, save: Callable[[str, str], bool]) -> None:
        super().__init__()
        self.corpus_name = corpus_name
        self.save = save
        self.kind = LOSS_CSV

    def compose(self) -> ComposeResult:
        with Vertical(id="export"):
            yield OptionList(*[Option(f"{n}  {label}", id=kind)
                               for n, (kind, label) in enumerate(CHOICES, start=1)],
                             id="export-kind")
            with Horizontal(id="export-path-row"):
                yield Static("save to ", id="export-path-label")
                yield Input(str(default_path(self.corpus_name, LOSS_CSV)), id="export-path",
                            compact=True)
            yield Static("1 2 3 choose · tab: the file name · enter saves · a file that exists "
                         "is never overwritten", id="export-help")

    def on_mount(self) -> None:
        self.query_one("#export").border_title = "Export — esc cancels"
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def action_choose(self, index: int) -> None:
        self.query_one(OptionList).highlighted = index

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        path = self.query_one("#export-path", Input)
        if path.value == str(default_path(self.corpus_name, self.kind)):  # not edited
            path.value = str(default_path(self.corpus_name, event.option.id))
        self.kind = event.option.id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._save()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save()

    def _save(self) -> None:
        if self.save(self.kind, self.query_one("#export-path", Input).value.strip()):
            self.dismiss(None)
