"""The help screen: every key (as currently mapped) and what the knobs mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from chartui.tui import widget_css

EXPLANATION = """\
Temperature divides the model's scores before sampling: low is conservative (it repeats its
favourite words), high is adventurous (more mistakes), 0 always takes the most likely character.
Top-k lets only the k most likely characters be drawn; top-p (nucleus sampling) only the
fewest likeliest whose probabilities add up to p, so how many follows the model's confidence
(the inspector marks the rest "cut"). All three apply to the next character, even while a
generation is running.

t starts a new run with the current settings (e), pauses it and resumes it. x stops the run and
saves a checkpoint; the next t starts a fresh run. To continue an old run, open its checkpoint
with o and choose Resume. Checkpoints go to the checkpoints/ folder.

r lists every run in that folder: space marks runs, c compares their validation curves, and
enter on a run another process is training (chartui train under nohup or tmux) watches it,
read-only, as chartui watch does: the status line says WATCHING and its state (STALLED when its
log has been silent for 15 s), and t, x, w, e and c are off. When it ends, o opens its final
checkpoint to generate from.

v opens the neuron view: the generated text (or the start of the corpus; s switches) coloured
by one unit of the LSTM: cool colours negative, warm ones positive. ← → move between units,
↑ ↓ between layers, k between the hidden state h and the cell state c. f picks a feature (inside
quotes, position in the line, inside brackets, start of a word, in a number, after a newline)
and jumps to the unit whose activation follows it most closely; b goes to the next best;
pageup and pagedown scroll the text.

ctrl+p opens the command palette: type part of an action's name (e.g. "pause", "top-p",
"export") and press enter to run it, as its key would; "Theme" chooses the colours.

The config file (config.toml in the platform's config folder, on Linux ~/.config/chartui/, or
$CHARTUI_CONFIG) remembers the theme and can hold your keys and default training settings:
    theme = "nord"
    [keys]
    toggle_training = "space"
    [train]
    hidden_size = 256
Keys can also be remapped in ~/.config/chartui/keymap.toml (binding id = "key"), which goes
over [keys]. The binding ids are in the list above.
"""


class HelpScreen(ModalScreen[None]):
    """Lists the app's keys from its live bindings, so remapped keys show correctly."""

    DEFAULT_CSS = widget_css(__file__)
    AUTO_FOCUS = "#help-body"  # so the arrow keys and page keys scroll it
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="close_help")]

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("key", no_wrap=True)
        table.add_column("action")
        table.add_column("binding id", style="dim")
        for key, description, binding_id in self.keys:
            table.add_row(Text(key, style="bold"), description, binding_id)
        table.add_row(Text("enter", style="bold"), "in the prime box: generate", "")
        table.add_row(Text("tab / shift+tab", style="bold"), "move focus between panes", "")
        with VerticalScroll(id="help-body"):
            yield Static(table, id="help-keys")
            yield Static(EXPLANATION, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").border_title = "Help — esc closes"

    def on_screen_resume(self) -> None:
        """Kept installed by the app, so each opening starts again at the top."""
        self.query_one("#help-body").scroll_home(animate=False)
