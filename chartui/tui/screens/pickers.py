"""Modal pickers: a corpus to train on, a checkpoint to open or resume."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from chartui.tui import widget_css


class CorpusPicker(ModalScreen[str | None]):
    """Built-in names, corpora folders, or a path. Returns the chosen name or path."""

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="close_picker")]

    def __init__(self, entries: list[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self.entries = entries
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Static("Choose a corpus (enter), or type a path to a text file below.",
                         classes="picker-help")
            yield OptionList(*[Option(f"{name}  ·  {description}", id=name)
                               for name, description in self.entries], id="corpus-list")
            yield Input(placeholder="path/to/text.txt then enter", id="corpus-path",
                        compact=True)
            yield Static("", id="picker-error", classes="picker-error")

    def on_mount(self) -> None:
        self.query_one(".picker").border_title = "Corpus — esc cancels"
        options = self.query_one("#corpus-list", OptionList)
        names = [name for name, _ in self.entries]
        if self.current in names:
            options.highlighted = names.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.query_one("#picker-error", Static).update("type a path, or pick from the list")
            return
        self.dismiss(path)


class CheckpointPicker(ModalScreen[tuple[str, bool] | None]):
    """Checkpoints in the folder, newest first, or a path. Returns (path, resume?)."""

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="close_picker")]

    def __init__(self, checkpoints: list[tuple[str, str]], folder: str) -> None:
        super().__init__()
        self.checkpoints = checkpoints
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker"):
            yield Static(f"Checkpoints in {self.folder}: Open to generate, Resume to continue "
                         "training.", classes="picker-help")
            if self.checkpoints:
                yield OptionList(*[Option(label, id=path) for path, label in self.checkpoints],
                                 id="checkpoint-list")
            else:
                yield Static("(none yet: train with t, or type a path below)",
                             classes="picker-help")
            yield Input(placeholder="or a path to a .pt file", id="checkpoint-path",
                        compact=True)
            with Horizontal(classes="picker-buttons"):
                yield Button("Open", id="open", variant="primary", compact=True)
                yield Button("Resume", id="resume", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Static("", id="picker-error", classes="picker-error")

    def on_mount(self) -> None:
        self.query_one(".picker").border_title = "Checkpoint — esc cancels"
        if self.checkpoints:
            self.query_one("#checkpoint-list", OptionList).focus()
        else:
            self.query_one("#checkpoint-path", Input).focus()

    def _chosen(self) -> str | None:
        typed = self.query_one("#checkpoint-path", Input).value.strip()
        if typed:
            return typed
        if self.checkpoints:
            options = self.query_one("#checkpoint-list", OptionList)
            if options.highlighted is not None:
                return options.get_option_at_index(options.highlighted).id
        return None

    def _finish(self, resume: bool) -> None:
        path = self._chosen()
        if path is None:
            self.query_one("#picker-error", Static).update("choose a checkpoint or type a path")
            return
        self.dismiss((path, resume))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._finish(resume=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._finish(resume=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self._finish(resume=event.button.id == "resume")
