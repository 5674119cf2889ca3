"""The main screen: status bar, corpus pane, loss chart, latest sample, generation panel, keys.

It holds what the app works with (the settings, the corpus, where the run is) and answers the
keys and the workers' messages, handing them to the part that does the work: `Training`
(chartui.tui.training: the runs and their worker), `Checkpoints` (chartui.tui.checkpoints: the
opened checkpoint), the `GenerationPanel` (showing the UI-free `GenerationSession`). The corpus
is loaded here, in a worker. Workers' reports carry tickets (`chartui.latest`): a report of a
request that a newer one has replaced is dropped.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, Static

from chartui.config import TrainConfig, parameter_count
from chartui.errors import ChartuiError
from chartui.generation import GenerationSession
from chartui.latest import Latest
from chartui.progress import ACTIVE_STATES, RunControl, RunState
from chartui.tui import widget_css
from chartui.tui.checkpoints import Checkpoints
from chartui.tui.keys import MAIN_KEYS
from chartui.tui.messages import (
    CheckpointFailed,
    CheckpointOpened,
    CorpusFailed,
    CorpusLoaded,
    CorpusPeeked,
    TrainerReady,
    TrainingFailed,
    TrainingProgress,
)
from chartui.tui.screens.export import ExportScreen
from chartui.tui.screens.help import HelpScreen
from chartui.tui.screens.neurons import TEXT_CHARS, NeuronScreen
from chartui.tui.screens.pickers import CorpusPicker
from chartui.tui.screens.runs import RunsScreen
from chartui.tui.screens.settings import SettingsScreen
from chartui.tui.startup import Startup
from chartui.tui.training import Training
from chartui.tui.watching import Watching
from chartui.tui.widgets.corpus_pane import CorpusPane
from chartui.tui.widgets.generation_panel import GenerationPanel
from chartui.tui.widgets.key_bar import KeyBar
from chartui.tui.widgets.loss_chart import LossChart, SampleView
from chartui.tui.widgets.status import StatusBar
from chartui.tui.workers import failure_posted, while_running

if TYPE_CHECKING:
    from chartui.corpus import Corpus
    from chartui.model import CharRNN
    from chartui.vocab import Vocabulary

MIN_WIDTH, MIN_HEIGHT = 60, 18
SHORT_HEIGHT = 26  # below this the generation console packs tighter, so the chart keeps 3 rows


class MainScreen(Screen):
    """The screen the app lives on: its layout, its keys, the corpus on show, and where the
    run is (`train_state`); training, checkpoints and generation are handed to their parts."""

    DEFAULT_CSS = widget_css(__file__)
    BINDINGS = MAIN_KEYS

    train_state: reactive[RunState] = reactive(RunState.IDLE, always_update=True, init=False)

    class RunEnded(Message):
        """The latest training run has ended (finished, stopped or failed)."""

    def __init__(self, startup: Startup) -> None:
        super().__init__()
        self.startup = startup
        self.config = startup.config
        self.corpus_name = startup.corpus if isinstance(startup.corpus, str) else \
            startup.corpus.name
        self.corpus: Corpus | None = None
        self.corpus_loading = False
        self.start_when_loaded = False  # t was pressed while the corpus was loading
        self.corpus_loads = Latest()
        self.training = Training(self, resume=startup.resume)
        self.checkpoints = Checkpoints(self)
        self.watching = Watching(self)  # a run another process trains, when there is one
        self.generation_session = GenerationSession(startup.generation_pace)
        self.generation_panel = GenerationPanel(self.generation_session, id="gen-row")

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            yield CorpusPane(id="corpus-pane")
            with Vertical(id="right"):
                yield LossChart(id="chart")
                yield SampleView(id="sample")
                yield self.generation_panel
        yield Static("", id="too-small")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        self.show_key_bar()
        self.status.show(device=self.startup.device, corpus=self.corpus_name)
        self.check_size(self.app.size)
        if isinstance(self.startup.corpus, str):
            self.load_corpus(self.corpus_name)
        else:
            self.post_message(CorpusLoaded(self.startup.corpus))
        if self.startup.checkpoint or self.startup.resume:
            self.checkpoints.open(self.startup.checkpoint or self.startup.resume,
                                  resume=bool(self.startup.resume))
        if self.startup.watch:  # once the screen is up, so that its notices show
            self.call_after_refresh(self.watching.start, self.startup.watch,
                                    self.startup.watch_notice)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    def check_size(self, size) -> None:
        """Say what size the screen needs when the terminal is smaller (the app calls this on
        every resize, also while a dialog is open)."""
        width, height = size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "too-small")
        self.set_class(height < SHORT_HEIGHT, "-short")
        if small:
            self.query_one("#too-small", Static).update(
                f"chartui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is "
                f"{width}×{height}. Make it larger (q quits).")

    def key_bindings(self) -> list[Binding]:
        """This screen's keys that work now, then the app's, in the order the key bar, the
        help and the palette show them (watching a run, the training keys do not work)."""
        return [*(b for b in self.BINDINGS if self.watching.allows(b.id)), *self.app.BINDINGS]

    def check_action(self, action: str, parameters: tuple) -> bool:
        return self.watching.allows(action)

    def show_key_bar(self) -> None:
        self.query_one(KeyBar).show_bindings(self.key_bindings(), self.app.key_display)

    def watch_train_state(self, state: RunState) -> None:
        self.status.show(state=state)

    # --- corpus -----------------------------------------------------------------------------

    def load_corpus(self, name: str) -> None:
        self.corpus_name = name
        self.query_one(CorpusPane).show_loading(name)
        self.status.show(corpus=name)
        self.corpus_loading = True
        self.start_when_loaded = False
        self._load_corpus_worker(name, self.config.vocabulary, self.corpus_loads.new())

    @work(thread=True, exclusive=True, group="corpus")
    def _load_corpus_worker(self, name: str, vocabulary: str, ticket: int) -> None:
        with failure_posted(self, functools.partial(CorpusFailed, ticket=ticket)):
            from chartui.corpus import load_corpus, peek_corpus
            startup = self.startup
            peek = peek_corpus(name, startup.encoding, startup.corpora_dirs)
            if peek is not None:
                self.post_message(CorpusPeeked(peek, ticket))
            self.post_message(CorpusLoaded(load_corpus(
                name, encoding=startup.encoding, vocabulary=vocabulary,
                extra_dirs=startup.corpora_dirs), ticket))

    @while_running
    def on_corpus_peeked(self, message: CorpusPeeked) -> None:
        if self.corpus_loading and self.corpus_loads.is_current(message.ticket):
            self.query_one(CorpusPane).show_peek(message.peek)

    @while_running
    def on_corpus_loaded(self, message: CorpusLoaded) -> None:
        if message.ticket is None:
            self.corpus_loads.expire()  # a run's own corpus: loads asked for before are stale
        elif not self.corpus_loads.is_current(message.ticket):
            return
        self.corpus_loading = False
        self.corpus = message.corpus
        self.corpus_name = self.corpus.name
        self.query_one(CorpusPane).show_corpus(self.corpus, self.config.val_fraction)
        self.status.show(corpus=self.corpus.name)
        self.show_planned_size()
        if self.start_when_loaded:
            self.start_when_loaded = False
            self.action_toggle_training()

    def show_planned_size(self) -> None:
        """With no model on show yet, the status bar gives the size the settings would build."""
        if self.corpus is not None and self.run_control is None and \
                self.checkpoints.opened is None and not self.watching.active:
            self.status.show(parameters=parameter_count(self.config, len(self.corpus.vocab)),
                             cell=self.config.cell)

    @while_running
    def on_corpus_failed(self, message: CorpusFailed) -> None:
        if not self.corpus_loads.is_current(message.ticket):
            return
        self.corpus_loading = False
        self.start_when_loaded = False
        self.corpus = None
        self.query_one(CorpusPane).show_error(message.error)
        self.status.show(state=RunState.FAILED)
        self.notify(message.error, title="Corpus", severity="error", timeout=10)

    # --- training (chartui.tui.training does the work) ----------------------------------------

    @property
    def run_control(self) -> RunControl | None:
        """The latest run's controls, once it is set up."""
        return self.training.control

    def training_active(self) -> bool:
        return self.train_state in ACTIVE_STATES

    def action_toggle_training(self) -> None:
        if self.corpus_loading and not self.train_state.active:
            self.start_when_loaded = not self.start_when_loaded  # a second t takes it back
            self.notify("training starts as soon as the corpus has loaded" if
                        self.start_when_loaded else "training will not start after loading")
            return
        self.training.toggle(replacing=self.checkpoints.opened is not None)

    def action_stop_training(self) -> None:
        self.training.stop_key()

    def action_save_checkpoint(self) -> None:
        self.training.save()

    def on_trainer_ready(self, message: TrainerReady) -> None:
        if self.training.ready(message):
            self.checkpoints.opened = None  # the run's model is the one on show now

    @while_running
    def on_training_progress(self, message: TrainingProgress) -> None:
        self.training.progress(message)

    @while_running
    def on_training_failed(self, message: TrainingFailed) -> None:
        self.training.failed(message)

    # --- checkpoints (chartui.tui.checkpoints does the work) ---------------------------------

    def action_open_checkpoint(self) -> None:
        if not self.watching.open_final():  # a watched run that has ended: its checkpoint
            self.checkpoints.pick()

    @while_running
    def on_checkpoint_failed(self, message: CheckpointFailed) -> None:
        self.checkpoints.failed(message)

    @while_running
    def on_checkpoint_opened(self, message: CheckpointOpened) -> None:
        if self.checkpoints.show(message):  # its model is the one on show, not the last run's
            self.watching.stop()
            self.training.forget()
            self.train_state = RunState.IDLE
            if message.resume:
                self.training.start(resume=message.summary.path)

    # --- generation -------------------------------------------------------------------------

    def current_model(self) -> tuple[CharRNN, Vocabulary] | None:
        """(model, vocabulary) to sample or inspect: a snapshot of the training run (taken
        without waiting for its step), else the opened checkpoint's; None, with a notice,
        when there is none or it diverged."""
        if self.run_control is not None and self.train_state is RunState.DIVERGED:
            self.notify("this run diverged, so its model is not worth sampling: start a new run "
                        "with a lower learning rate, or open a checkpoint", severity="error")
            return None
        if self.run_control is not None:
            return self.run_control.snapshot_model(), self.training.run.summary.vocab
        opened = self.checkpoints.opened
        if opened is not None:
            return opened.model, opened.vocab
        self.notify("watching: o opens the run's final checkpoint once it ends, or any other"
                    if self.watching.active else
                    "no model yet: press t to train, or o to open a checkpoint",
                    severity="warning")
        return None

    def vocab_size(self) -> int | None:
        opened = self.checkpoints.opened
        if opened is not None and self.run_control is None:
            return len(opened.vocab)
        return len(self.corpus.vocab) if self.corpus is not None else None

    def generate(self, prime: str, stepping: bool = False) -> None:
        self.generation_panel.generate(prime, self.current_model, stepping)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("prime", "length", "seed"):
            self.generate(self.query_one("#prime", Input).value)

    def action_step_generation(self) -> None:
        self.generation_panel.step(self.current_model)

    def action_temperature(self, direction: int) -> None:
        self.generation_panel.change_temperature(direction)

    def action_top_k(self, direction: int) -> None:
        self.generation_panel.change_top_k(direction, self.vocab_size())

    def action_top_p(self, direction: int) -> None:
        self.generation_panel.change_top_p(direction)

    def action_toggle_inspector(self) -> None:
        self.generation_panel.toggle_inspector()

    def action_choose_next(self, rank: int) -> None:
        self.generation_panel.choose(rank)

    def action_focus_prime(self) -> None:
        self.query_one("#prime", Input).focus()

    def action_escape(self) -> None:
        if not self.generation_panel.stop() and isinstance(self.focused, Input):
            self.set_focus(None)

    def action_copy_text(self) -> None:
        """Copy the generated text, else the latest sample, with OSC 52 (which works over SSH:
        the terminal, not this machine, holds the clipboard)."""
        text, what = self.generation_panel.output_text(), "the generated text"
        if not text:
            text, what = self.query_one(SampleView).sample_text, "the latest sample"
        if not text:
            self.notify("nothing to copy yet: generate some text (g), or train until a sample "
                        "appears", title="Copy", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text):,} characters of {what} to the clipboard",
                    title="Copy")

    # --- the chart --------------------------------------------------------------------------

    def action_chart_view(self) -> None:
        self.chart.next_view()

    def action_loss_units(self) -> None:
        self.chart.switch_units()

    # --- dialogs ----------------------------------------------------------------------------

    def action_help(self) -> None:
        """The help screen is built once (keys are remapped only at start) and kept installed,
        so opening it again costs no composing."""
        app = self.app
        if not app.is_screen_installed("help"):
            keys = [(app.key_display(binding), binding.tooltip or binding.description,
                     binding.id) for binding in self.key_bindings()]
            app.install_screen(HelpScreen(keys), "help")
        app.push_screen("help")

    def action_neurons(self) -> None:
        current = self.current_model()
        if current is None:
            return
        texts = {}
        generated = self.generation_panel.output_text()
        if generated:
            texts["generated text"] = generated[:TEXT_CHARS]
        if self.corpus is not None:
            texts["start of the corpus"] = self.corpus.text(0, TEXT_CHARS)
        if not texts:
            self.notify("no text to read yet: wait for the corpus, or generate some (g)",
                        severity="warning")
            return
        self.app.push_screen(NeuronScreen(*current, texts))

    def action_settings(self) -> None:
        def applied(config: TrainConfig | None) -> None:
            if config is None:
                return
            vocabulary_changed = config.vocabulary != self.config.vocabulary
            self.config = config
            if self.training_active():
                self.notify("new settings apply to the next run", title="Settings")
            if vocabulary_changed:
                self.load_corpus(self.corpus_name)
            else:
                self.show_planned_size()

        self.app.push_screen(SettingsScreen(self.config), applied)

    def action_pick_corpus(self) -> None:
        if self.training_active():
            self.notify("stop training (x) before changing the corpus", severity="warning")
            return
        from chartui.corpus import available_corpora
        entries = [(e.name, e.description) for e in available_corpora(self.startup.corpora_dirs)]

        def chosen(name: str | None) -> None:
            if name:
                self.load_corpus(name)

        self.app.push_screen(CorpusPicker(entries, self.corpus_name), chosen)

    def action_runs(self) -> None:  # enter there on a live run: watch it
        self.app.push_screen(RunsScreen(self.startup.checkpoint_dir), self.watching.start)

    def action_export(self) -> None:
        self.app.push_screen(ExportScreen(self.model_corpus_name(), self.export_file))

    def export_file(self, kind: str, path: str) -> bool:
        """Save what the export dialog asked for, and say how it went; True when saved."""
        from chartui.export import export
        train_points, val_points = self.loss_history()
        try:
            saved = export(kind, path, train=train_points, val=val_points,
                           text=self.generation_panel.output_text(),
                           corpus_name=self.model_corpus_name())
        except ChartuiError as exc:
            self.notify(str(exc), title="Export", severity="error", timeout=10)
            return False
        self.notify(f"saved {saved.resolve()}", title="Export")
        return True

    def model_corpus_name(self) -> str:
        """The corpus the model and loss history on show come from: the training run's, else
        the opened checkpoint's, else the corpus in the pane."""
        if self.run_control is not None:
            return self.training.run.summary.corpus_name
        opened = self.checkpoints.opened
        if opened is not None and opened.corpus_name:
            return opened.corpus_name
        return self.corpus_name

    def loss_history(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(step, loss) for training and validation: every step of the training run, else the
        opened checkpoint's history as the chart shows it."""
        if self.run_control is not None:
            history = self.run_control.loss_history()
            return history.train_points(), list(history.val)
        return ([(int(s), v) for s, v in self.chart.train_points],
                [(int(s), v) for s, v in self.chart.val_points])
