"""The chartui app: corpus pane, live loss chart, generation console; keyboard first.

The app only renders and dispatches. Training runs the core `Trainer` in a thread worker (at a
lower priority than the UI) that posts `TrainingProgress` messages; generation steps a
`chartui.sampling.Generation` in another worker (its first character, and one character per
`n`, on the UI thread: a few NumPy steps). Heavy modules (torch) are imported inside the
workers so the first screen appears quickly.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from chartui.config import SamplingSettings, TrainConfig, parameter_count, preset
from chartui.corpus import DEFAULT_CORPUS, Corpus
from chartui.errors import ChartuiError
from chartui.terminal import ENDINGS, detach_from_terminal, hangup_signals, served
from chartui.tui.keymap import load_keymap
from chartui.tui.messages import (CheckpointFailed, CheckpointOpened, CorpusFailed,
                                  CorpusLoaded, CorpusPeeked, GeneratedText, TrainerReady,
                                  TrainingFailed, TrainingProgress)
from chartui.tui.screens.export import ExportScreen
from chartui.tui.screens.help import HelpScreen
from chartui.tui.screens.neurons import TEXT_CHARS, NeuronScreen
from chartui.tui.screens.pickers import CheckpointPicker, CorpusPicker
from chartui.tui.screens.runs import RunComparison, RunsScreen
from chartui.tui.screens.settings import SettingsScreen
from chartui.tui.widgets.corpus_pane import CorpusPane
from chartui.tui.widgets.generation import GenerationConsole
from chartui.tui.widgets.inspector import CANDIDATES, NextCharInspector
from chartui.tui.widgets.key_bar import KeyBar
from chartui.tui.widgets.loss_chart import LossChart, SampleView
from chartui.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from chartui.sampling import Generation  # imports torch: only once a model exists

MIN_WIDTH, MIN_HEIGHT = 60, 18
TEMPERATURE_STEP, MAX_TEMPERATURE = 0.1, 2.0
TOP_K_STEPS = (1, 2, 3, 5, 10, 20, 40)
ACTIVE_STATES = ("starting", "training", "paused", "stopping")
QUICK_START_PRIME = 32  # primes up to this long are read on the UI thread (about 3 ms)
TRAINING_NICENESS = 10  # how far the training thread steps back for the UI (0 = not at all)
SAVE_TIMEOUT_S = 600.0  # after a hang-up or SIGTERM, the longest wait for the run's save
EXIT_GRACE_S = 3.0  # then how long the app may take to close before the process just ends


def failure_message(exc: BaseException) -> str:
    """One sentence for anything a worker hits."""
    if isinstance(exc, ChartuiError):
        return str(exc)
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or (
            isinstance(exc, RuntimeError) and "allocate" in str(exc)):
        return ("ran out of memory; choose a smaller batch size, hidden size or corpus in "
                "settings (e)")
    return f"unexpected error ({type(exc).__name__}: {exc}); please report it"


def yield_cpu_to_ui(niceness: int | None = None) -> None:
    """Lower the calling thread's scheduling priority, on systems that have per-thread nice
    values (Linux). The torch threads it starts later inherit it, so a key press wins a core
    at once while training still gets every cycle the UI leaves; nothing changes when idle."""
    niceness = TRAINING_NICENESS if niceness is None else niceness
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return  # elsewhere a thread id given to setpriority would name a process
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread)
                       + niceness)
    except OSError:
        pass  # not allowed here: training simply keeps the same priority as the UI


def while_running(handler):
    """For the handlers of workers' messages: a message that arrives once the app has begun to
    shut down (its widgets are being removed, e.g. a browser tab closed mid-generation) is
    dropped instead of raising."""
    @functools.wraps(handler)
    def handle(self, message) -> None:
        if self.is_running:
            handler(self, message)
    return handle


class ChartuiApp(App):
    """Train a character-level LSTM, watch it learn, play with its text."""

    CSS_PATH = "app.tcss"
    TITLE = "chartui"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # keys go to the app until the user picks a box
    TEMPERATURE_KEYS = Binding.Group("Temp", compact=True)
    TOP_K_KEYS = Binding.Group("Top-k", compact=True)
    BINDINGS = [
        Binding("t", "toggle_training", "Train", id="toggle_training",
                tooltip="start, pause or resume training"),
        Binding("x", "stop_training", "Stop", id="stop_training",
                tooltip="stop training and save a checkpoint"),
        Binding("w", "save_checkpoint", "Save", id="save_checkpoint",
                tooltip="save a checkpoint now"),
        Binding("g", "focus_prime", "Gen", id="focus_prime",
                tooltip="type a prime to generate from"),
        Binding("left_square_bracket", "temperature(-1)", "temperature down",
                id="temperature_down", group=TEMPERATURE_KEYS),
        Binding("right_square_bracket", "temperature(1)", "temperature up",
                id="temperature_up", group=TEMPERATURE_KEYS),
        Binding("left_curly_bracket", "top_k(-1)", "top-k down", id="top_k_down",
                group=TOP_K_KEYS),
        Binding("right_curly_bracket", "top_k(1)", "top-k up", id="top_k_up",
                group=TOP_K_KEYS),
        Binding("n", "step_generation", "Step", id="step_generation",
                tooltip="generate exactly one more character (starts from the prime if needed)"),
        Binding("i", "toggle_inspector", "Next", id="toggle_inspector",
                tooltip="show or hide the next-character inspector"),
        Binding("v", "neurons", "Neurons", id="neurons",
                tooltip="neuron view: colour text by one LSTM unit; find units that track "
                        "quotes, brackets, the position in the line"),
        Binding("escape", "escape", "stop the running generation, or leave a text box",
                id="escape", show=False),
        Binding("e", "settings", "Set", id="settings", tooltip="training settings"),
        Binding("c", "pick_corpus", "Corpus", id="pick_corpus", tooltip="choose a corpus"),
        Binding("o", "open_checkpoint", "Open", id="open_checkpoint",
                tooltip="open or resume a checkpoint"),
        Binding("r", "runs", "Runs", id="runs",
                tooltip="every run's settings and results; compare validation curves"),
        Binding("s", "export", "Export", id="export",
                tooltip="save the loss history (CSV or JSON) or the generated text to a file"),
        Binding("question_mark", "help", "Help", id="help", tooltip="every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="quit (saves a training run first)"),
    ]

    def __init__(self, corpus: str | Corpus = DEFAULT_CORPUS, config: TrainConfig | None = None,
                 checkpoint: str | None = None, resume: str | None = None,
                 device: str = "auto", checkpoint_dir: str | Path = "checkpoints",
                 encoding: str | None = None, corpora_dirs: list[str] | None = None,
                 generation_pace: float = 500.0, keymap: dict[str, str] | None = None,
                 load_user_keymap: bool = True) -> None:
        super().__init__()
        self._given_corpus = None if isinstance(corpus, str) else corpus
        self.corpus_name = corpus if isinstance(corpus, str) else corpus.name
        self.config = config or preset("default")
        self.device = device
        self.checkpoint_dir = Path(checkpoint_dir)
        self.encoding = encoding
        self.corpora_dirs = corpora_dirs
        self.generation_pace = generation_pace  # characters per second shown; 0 = unpaced
        self.sampling = SamplingSettings(temperature=0.8, top_k=None)
        self.corpus = None
        self.trainer = None
        self.train_state = "idle"
        self.opened = None  # (model, vocab, path) of a checkpoint opened for generation
        self.opened_corpus: str | None = None  # the corpus that checkpoint was trained on
        self.resume_path = resume
        self.train_worker: Worker | None = None
        self.gen_worker: Worker | None = None
        self.gen_number = 0  # the current generation; messages of older ones are ignored
        self.streaming = False  # its worker thread may still be stepping it
        self.generation = None  # the chartui.sampling.Generation being streamed or stepped
        self._quitting = False
        self._run_ended = threading.Event()  # the current run's worker sets it as it returns
        self._startup_checkpoint = checkpoint or resume
        self._save_asked = False
        self.run_number = 0  # messages from an older run's worker are ignored
        self.corpus_loading = False
        self.start_when_loaded = False  # t was pressed while the corpus was loading
        self.corpus_request = 0  # the newest corpus load asked for; older ones are stale
        self.checkpoint_request = 0  # the same for opening checkpoints
        self.keymap = dict(keymap or {})
        self._load_user_keymap = load_user_keymap

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            yield CorpusPane(id="corpus-pane")
            with Vertical(id="right"):
                yield LossChart(id="chart")
                yield SampleView(id="sample")
                with Horizontal(id="gen-row"):
                    yield GenerationConsole(id="generate")
                    yield NextCharInspector(id="inspector",
                                            classes="" if self.size.width >= 100 else "-hidden")
        yield Static("", id="too-small")
        yield KeyBar(id="key-bar")

    def on_mount(self) -> None:
        if not self.is_headless and self.console.color_system in ("standard", "windows"):
            self.theme = "ansi-dark"  # 16-colour terminals: use the terminal's own palette
        if self._load_user_keymap:
            user_keymap, problem = load_keymap(known_ids=binding_ids())
            self.keymap = {**user_keymap, **self.keymap}
            if problem:
                self.notify(problem, severity="warning", timeout=8)
        if self.keymap:
            self.set_keymap(self.keymap)
        self.show_key_bar()
        self.status.show(device=self.device, corpus=self.corpus_name)
        self.refresh_knobs()
        self.check_size()
        if self._given_corpus is not None:
            self.post_message(CorpusLoaded(self._given_corpus))
        else:
            self.load_corpus(self.corpus_name)
        self.set_timer(0.5, self._warm_up)  # after the first screen is up
        self._handle_signals()
        if self._startup_checkpoint:
            self.open_checkpoint(self._startup_checkpoint, resume=bool(self.resume_path))

    @work(thread=True, group="warm-up")
    def _warm_up(self) -> None:
        """Import torch and the trainer in the background, so the first `t` starts at once,
        then keep the collector off the long-lived objects (see `chartui.trainer.Trainer.run`)."""
        import chartui.checkpoint  # noqa: F401
        import chartui.trainer  # noqa: F401
        import torch._dynamo  # noqa: F401 - the first optimizer imports it: 1.5 s here
        gc.freeze()

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    @property
    def console_pane(self) -> GenerationConsole:
        return self.query_one(GenerationConsole)

    def on_resize(self, event) -> None:
        self.check_size(event.size)

    def check_size(self, size=None) -> None:
        width, height = size or self.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        main = self.screen_stack[0]  # the main screen, even while a dialog is open over it
        main.set_class(small, "too-small")
        if small:
            main.query_one("#too-small", Static).update(
                f"chartui needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is "
                f"{width}×{height}. Make it larger (q quits).")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """While a dialog is open, only its own keys (and quit, tab, shift+tab) act."""
        if isinstance(self.screen, ModalScreen) and action not in ("quit", "focus_next",
                                                                   "focus_previous"):
            return False
        return True

    def set_train_state(self, state: str) -> None:
        self.train_state = state
        self.status.show(state=state)

    # --- corpus -------------------------------------------------------------------------------

    def load_corpus(self, name: str) -> None:
        self.corpus_name = name
        self.query_one(CorpusPane).show_loading(name)
        self.status.show(corpus=name)
        self.corpus_loading = True
        self.start_when_loaded = False
        self.corpus_request += 1
        self._load_corpus_worker(name, self.config.vocabulary, self.corpus_request)

    @work(thread=True, exclusive=True, group="corpus")
    def _load_corpus_worker(self, name: str, vocabulary: str, request: int) -> None:
        try:
            from chartui.corpus import load_corpus, peek_corpus
            peek = peek_corpus(name, self.encoding, self.corpora_dirs)
            if peek is not None:
                self.post_message(CorpusPeeked(peek, request))
            corpus = load_corpus(name, encoding=self.encoding, vocabulary=vocabulary,
                                 extra_dirs=self.corpora_dirs)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence
            self.post_message(CorpusFailed(failure_message(exc), request))
            return
        self.post_message(CorpusLoaded(corpus, request))

    @while_running
    def on_corpus_peeked(self, message: CorpusPeeked) -> None:
        if self.corpus_loading and message.request == self.corpus_request:
            self.query_one(CorpusPane).show_peek(message.peek)

    @while_running
    def on_corpus_loaded(self, message: CorpusLoaded) -> None:
        if message.request is None:
            self.corpus_request += 1  # a run's own corpus: loads asked for before are stale
        elif message.request != self.corpus_request:
            return
        self.corpus_loading = False
        self.corpus = message.corpus
        self.corpus_name = self.corpus.name
        self.query_one(CorpusPane).show_corpus(self.corpus, self.config.val_fraction)
        self.status.show(corpus=self.corpus.name)
        if self.trainer is None and self.opened is None:
            self.status.show(parameters=parameter_count(self.config, len(self.corpus.vocab)))
        if self.start_when_loaded:
            self.start_when_loaded = False
            self.action_toggle_training()

    @while_running
    def on_corpus_failed(self, message: CorpusFailed) -> None:
        if message.request != self.corpus_request:
            return
        self.corpus_loading = False
        self.start_when_loaded = False
        self.corpus = None
        self.query_one(CorpusPane).show_error(message.error)
        self.status.show(state="error")
        self.notify(message.error, title="Corpus", severity="error", timeout=10)

    # --- training -----------------------------------------------------------------------------

    def training_active(self) -> bool:
        return self.train_state in ACTIVE_STATES

    def action_toggle_training(self) -> None:
        if self.train_state == "training" and self.trainer is not None:
            self.trainer.pause()
            self.set_train_state("paused")
        elif self.train_state == "paused" and self.trainer is not None:
            self.trainer.resume()
            self.set_train_state("training")
        elif self.corpus_loading and self.train_state not in ("starting", "stopping"):
            self.start_when_loaded = not self.start_when_loaded  # a second t takes it back
            self.notify("training starts as soon as the corpus has loaded" if
                        self.start_when_loaded else "training will not start after loading")
        elif self.train_state in ("starting", "stopping"):
            self.notify(f"a moment: training is {self.train_state}")
        elif self.corpus is None and self.resume_path is None:
            self.notify("no corpus is loaded yet: choose one with c", severity="warning")
        else:
            if self.resume_path is None and (self.trainer is not None or self.opened):
                self.notify("starting a new run with the current settings (to continue an "
                            "earlier one, open its checkpoint with o and choose Resume)",
                            title="Training")
            self.start_training()

    def start_training(self) -> None:
        resume, self.resume_path = self.resume_path, None
        self.run_number += 1
        self.trainer = None
        self.chart.set_history([], [])
        self.set_train_state("starting")
        self._run_ended = threading.Event()
        self.train_worker = self._train_worker(self.corpus, self.config, resume, self.run_number,
                                               self._run_ended)

    @work(thread=True, exclusive=True, group="training")
    def _train_worker(self, corpus, config: TrainConfig, resume: str | None, run: int,
                      ended: threading.Event) -> None:
        worker = get_current_worker()
        yield_cpu_to_ui()  # before torch starts this thread's pool of compute threads
        try:
            from chartui.checkpoint import load_checkpoint
            from chartui.corpus import load_corpus
            from chartui.trainer import Trainer, resume_config
            payload = None
            if resume:
                payload = load_checkpoint(resume)
                config = resume_config(payload, {})
                saved = payload.get("corpus") or {}
                if corpus is None or corpus.fingerprint != saved.get("fingerprint"):
                    source = saved.get("source", "")
                    corpus = load_corpus(source if Path(source).is_file() else
                                         saved.get("name", ""), vocabulary=config.vocabulary,
                                         extra_dirs=self.corpora_dirs)
                    self.post_message(CorpusLoaded(corpus))
            trainer = Trainer(corpus, config, device=self.device,
                              checkpoint_dir=self.checkpoint_dir, resume=resume,
                              resume_payload=payload)
            trainer.publish_snapshots = True  # generation may start while a step runs
            if worker.is_cancelled:  # the app closed while the trainer was set up: no run
                return
            self.post_message(TrainerReady(trainer, run))
            trainer.run(lambda p: self.post_message(TrainingProgress(p, run)),
                        should_stop=lambda: worker.is_cancelled)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence, the app keeps running
            self.post_message(TrainingFailed(failure_message(exc), run))
        finally:
            ended.set()

    def on_trainer_ready(self, message: TrainerReady) -> None:
        if message.run != self.run_number or not self.is_running:
            message.trainer.stop()
            return
        trainer = message.trainer
        self.trainer = trainer
        self.opened = None
        self.chart.set_history(
            [(i + 1, v) for i, v in enumerate(trainer.history.train)], trainer.history.val)
        self.status.show(parameters=trainer.model.num_parameters(), device=str(trainer.device),
                         precision=trainer.precision.name,
                         step=trainer.step, total_steps=trainer.config.iterations,
                         best_val_loss=trainer.best_val_loss, model_source="")
        if self.train_state == "starting":
            self.set_train_state("training")

    @while_running
    def on_training_progress(self, message: TrainingProgress) -> None:
        if message.run != self.run_number:
            return
        p = message.progress
        if p.event == "step":
            self.chart.add_point(p.step, p.train_loss, p.val_loss)
        if p.sample:
            self.query_one(SampleView).show_sample(p.step, p.sample)
        self.status.show(step=p.step, total_steps=p.total_steps, chars_per_s=p.chars_per_s,
                         elapsed_s=p.elapsed_s, eta_s=p.eta_s, best_val_loss=p.best_val_loss)
        if p.checkpoint and self._save_asked:
            self._save_asked = False
            self.notify(f"saved {p.checkpoint}", title="Checkpoint")
        if p.message and p.event == "start":  # the precision, the planned model, a resume
            self.notify(p.message, title="Training", timeout=8)
        elif p.message and p.event != "done":
            self.notify(p.message, severity="warning", timeout=8)
        if p.event == "done":
            self.set_train_state(p.state)
            self.status.show(eta_s=None)
            if p.state == "diverged":
                self.notify(p.message or "training diverged", title="Training stopped",
                            severity="error", timeout=15)
            elif p.message:
                self.notify(p.message, severity="warning", timeout=10)
            elif p.checkpoint:
                self.notify(f"{p.state.replace('_', ' ')} at step {p.step:,}; saved "
                            f"{p.checkpoint}", title="Training")
            if self._quitting:
                self.exit()

    @while_running
    def on_training_failed(self, message: TrainingFailed) -> None:
        if message.run != self.run_number:
            return
        self.set_train_state("error")
        self.notify(message.error, title="Training", severity="error", timeout=15)
        if self._quitting:
            self.exit()

    def action_stop_training(self) -> None:
        if self.trainer is not None and self.train_state in ("training", "paused"):
            self.trainer.stop()
            self.set_train_state("stopping")
        elif self.train_state == "starting":
            self.notify("a moment: training is starting")
        else:
            self.notify("nothing is training", severity="information")

    def action_save_checkpoint(self) -> None:
        if self.train_state == "starting":
            self.notify("a moment: training is starting")
        elif self.trainer is not None and self.train_state in ("training", "paused"):
            self._save_asked = True
            self.trainer.request_save()
        elif self.trainer is not None and self.trainer.latest_checkpoint is not None:
            self.notify(f"already saved: {self.trainer.latest_checkpoint}")
        else:
            self.notify("nothing to save yet: train with t first", severity="warning")

    # --- checkpoints --------------------------------------------------------------------------

    def action_open_checkpoint(self) -> None:
        from chartui.checkpoint import list_checkpoints
        rows = [(str(path), label) for path, label in list_checkpoints(self.checkpoint_dir)]

        def chosen(result: tuple[str, bool] | None) -> None:
            if result is None:
                return
            path, resume = result
            if self.training_active():
                self.notify("stop training (x) before opening or resuming a checkpoint",
                            severity="warning")
                return
            self.open_checkpoint(path, resume)

        self.push_screen(CheckpointPicker(rows, str(self.checkpoint_dir)), chosen)

    def open_checkpoint(self, path: str, resume: bool) -> None:
        self.checkpoint_request += 1
        self._open_checkpoint_worker(path, resume, self.checkpoint_request)

    @work(thread=True, exclusive=True, group="checkpoint")
    def _open_checkpoint_worker(self, path: str, resume: bool, request: int) -> None:
        try:
            from chartui.checkpoint import load_model, resolve_checkpoint_path
            resolved = str(resolve_checkpoint_path(path))
            model, vocab, payload = load_model(resolved, "cpu")
        except Exception as exc:  # noqa: BLE001
            self.post_message(CheckpointFailed(failure_message(exc), request))
            return
        self.post_message(CheckpointOpened(resolved, model, vocab, payload, resume, request))

    @while_running
    def on_checkpoint_failed(self, message: CheckpointFailed) -> None:
        if message.request == self.checkpoint_request:
            self.notify(message.error, title="Checkpoint", severity="error", timeout=12)

    @while_running
    def on_checkpoint_opened(self, message: CheckpointOpened) -> None:
        if message.request != self.checkpoint_request:
            return  # another checkpoint was asked for since
        if self.training_active():
            self.notify("stop training (x) before opening a checkpoint", severity="warning")
            return
        payload = message.payload
        history = payload.get("history") or {}
        train = history["train"].tolist() if "train" in history else []
        val = [(int(s), float(v)) for s, v in history["val"].tolist()] if "val" in history else []
        self.chart.set_history([(i + 1, v) for i, v in enumerate(train)], val)
        self.opened = (message.model, message.vocab, message.path)
        self.opened_corpus = (payload.get("corpus") or {}).get("name")
        name = Path(message.path).name
        self.status.show(parameters=message.model.num_parameters(), step=payload["step"],
                         total_steps=(payload.get("train_config") or {}).get("iterations"),
                         best_val_loss=payload.get("best_val_loss"), chars_per_s=None,
                         elapsed_s=payload.get("elapsed_s"), eta_s=None, precision="",
                         model_source=f"from {name}")
        if not self.training_active():
            self.trainer = None
            self.set_train_state("idle")
        if message.resume:
            self.resume_path = message.path
            self.start_training()
        else:
            self.notify(f"opened {name}: type a prime and press enter to generate",
                        title="Checkpoint")

    # --- generation ---------------------------------------------------------------------------

    def refresh_knobs(self) -> None:
        running = self.streaming
        self.console_pane.show_knobs(self.sampling.temperature, self.sampling.top_k, running)
        self.show_next_candidates()

    def show_next_candidates(self, candidates: list | None = None) -> None:
        if candidates is None:
            candidates = self.generation.candidates(CANDIDATES) if self.generation else []
        self.query_one(NextCharInspector).show_candidates(candidates, self.sampling.temperature)

    def action_toggle_inspector(self) -> None:
        self.query_one(NextCharInspector).toggle_class("-hidden")

    def action_step_generation(self) -> None:
        """One more character of the current generation; a running stream stops first, and
        with no generation yet one starts from the prime box."""
        if self.streaming:
            self.gen_worker.cancel()
            return
        if self.generation is None:
            self.generate(self.query_one("#prime", Input).value, stepping=True)
            return
        try:
            char = self.generation.emit()
        except ChartuiError as exc:
            self.notify(str(exc), title="Generation", severity="error")
            return
        self.console_pane.append(char)
        self.show_next_candidates()

    def action_temperature(self, direction: int) -> None:
        value = round(self.sampling.temperature + direction * TEMPERATURE_STEP, 1)
        self.sampling.temperature = min(MAX_TEMPERATURE, max(0.0, value))
        self.refresh_knobs()

    def vocab_size(self) -> int | None:
        if self.opened is not None and self.trainer is None:
            return len(self.opened[1])
        return len(self.corpus.vocab) if self.corpus is not None else None

    def action_top_k(self, direction: int) -> None:
        size = self.vocab_size()
        steps = [k for k in TOP_K_STEPS if size is None or k < size] + [None]
        current = self.sampling.top_k
        index = steps.index(current) if current in steps else len(steps) - 1
        self.sampling.top_k = steps[min(len(steps) - 1, max(0, index + direction))]
        self.refresh_knobs()

    def action_focus_prime(self) -> None:
        self.query_one("#prime", Input).focus()

    def action_escape(self) -> None:
        if self.streaming:
            self.gen_worker.cancel()
        elif isinstance(self.focused, Input):
            self.set_focus(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("prime", "length", "seed"):
            self.generate(self.query_one("#prime", Input).value)

    def generate(self, prime: str, stepping: bool = False) -> None:
        length_input = self.query_one("#length", Input)
        seed_input = self.query_one("#seed", Input)
        for box, what in ((length_input, "length (1 to 100,000)"),
                          (seed_input, "seed (a whole number, or empty)")):
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                self.notify(f"the {what} is not valid: fix it and press enter again",
                            severity="warning")
                box.focus()
                return
        length = int(length_input.value)
        seed = int(seed_input.value) if seed_input.value.strip() else None
        current = self.current_model()
        if current is None:
            return
        model, vocab = current
        if self.streaming:
            self.gen_worker.cancel()
        unknown = vocab.unknown_chars(prime)
        if unknown:
            shown = " ".join(repr(c) for c in unknown[:8])
            self.notify(f"the model never saw {shown}; those characters of the prime are "
                        "skipped", severity="warning")
        self.generation = None
        self.gen_number += 1
        self.console_pane.begin(prime)
        self.set_focus(None)  # so [ ] { } and escape act on the running stream
        from chartui.sampling import Generation  # torch is loaded: there is a model
        start = functools.partial(Generation, model, vocab, prime, self.sampling, seed)
        if len(prime) <= QUICK_START_PRIME:
            # a few NumPy steps: the first character is in the very next frame
            try:
                generation = start()
                self.console_pane.append(generation.emit())
            except Exception as exc:  # noqa: BLE001 - one sentence, the app keeps running
                self.notify(failure_message(exc), title="Generation", severity="error")
                self.refresh_knobs()
                return
            self.generation = generation
            start, length = (lambda: generation), (0 if stepping else length - 1)
        elif stepping:
            length = 1
        self.streaming = length > 0
        if self.streaming:
            self.gen_worker = self._generate_worker(start, length, self.gen_number)
        self.refresh_knobs()

    def current_model(self) -> tuple | None:
        """(model, vocabulary) to sample or inspect: a snapshot of the training run (taken
        without waiting for its step), else the opened checkpoint's; None, with a notice,
        when there is none or it diverged."""
        if self.trainer is not None and self.train_state == "diverged":
            self.notify("this run diverged, so its model is not worth sampling: start a new run "
                        "with a lower learning rate, or open a checkpoint", severity="error")
            return None
        if self.trainer is not None:
            return self.trainer.snapshot_model(), self.trainer.corpus.vocab
        if self.opened is not None:
            return self.opened[0], self.opened[1]
        self.notify("no model yet: press t to train, or o to open a checkpoint",
                    severity="warning")
        return None

    @work(thread=True, exclusive=True, group="generate")
    def _generate_worker(self, start: Callable[[], Generation], length: int,
                         number: int) -> None:
        """Emit `length` characters of the generation `start()` returns (it may read a long
        prime first), posting them about 30 times a second."""
        worker = get_current_worker()
        try:
            pace = self.generation_pace
            began = last_post = time.perf_counter()
            buffer: list[str] = []
            generation = start()
            for i in range(length):
                if worker.is_cancelled:
                    break
                buffer.append(generation.emit())
                now = time.perf_counter()
                if i == 0 or now - last_post >= 1 / 30:
                    self.post_message(GeneratedText(
                        "".join(buffer), number, candidates=generation.candidates(CANDIDATES),
                        generation=generation if i == 0 else None))
                    buffer, last_post = [], now
                if pace:
                    delay = began + (i + 1) / pace - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
            self.post_message(GeneratedText("".join(buffer), number, finished=True,
                                            candidates=generation.candidates(CANDIDATES)))
        except Exception as exc:  # noqa: BLE001
            self.post_message(GeneratedText("", number, finished=True,
                                            error=failure_message(exc)))

    @while_running
    def on_generated_text(self, message: GeneratedText) -> None:
        if message.number != self.gen_number:
            return  # the last words of a stream that was replaced
        if message.generation is not None:
            self.generation = message.generation
        if message.text:
            self.console_pane.append(message.text)
        if message.candidates is not None:
            self.show_next_candidates(message.candidates)
        if message.error:
            self.notify(message.error, title="Generation", severity="error")
        if message.finished:
            self.gen_worker = None
            self.streaming = False
            self.refresh_knobs()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.gen_worker and not event.worker.is_running:
            self.refresh_knobs()

    # --- screens --------------------------------------------------------------------------------

    def key_display(self, binding: Binding) -> str:
        """The key(s) of a binding as shown to the user, after the user's remapping."""
        key = self.keymap.get(binding.id, binding.key)
        return ", ".join(self.get_key_display(Binding(k, binding.action))
                         for k in key.split(","))

    def show_key_bar(self) -> None:
        """Every shown binding in the key bar; a group's keys (e.g. [ ]) share one label."""
        keys: list[tuple[str, str]] = []
        for binding in self.BINDINGS:
            if not binding.show:
                continue
            if binding.group is not None:
                if keys and keys[-1][1] == binding.group.description:
                    keys[-1] = (f"{keys[-1][0]} {self.key_display(binding)}", keys[-1][1])
                else:
                    keys.append((self.key_display(binding), binding.group.description))
            else:
                keys.append((self.key_display(binding), binding.description))
        self.query_one(KeyBar).show_keys(keys)

    def action_help(self) -> None:
        """The help screen is built once (keys are remapped only at start) and kept installed,
        so opening it again costs no composing."""
        if not self.is_screen_installed("help"):
            keys = [(self.key_display(binding), binding.tooltip or binding.description,
                     binding.id) for binding in self.BINDINGS]
            self.install_screen(HelpScreen(keys), "help")
        self.push_screen("help")

    def action_neurons(self) -> None:
        current = self.current_model()
        if current is None:
            return
        texts = {}
        if self.console_pane.output_text():
            texts["generated text"] = self.console_pane.output_text()[:TEXT_CHARS]
        if self.corpus is not None:
            texts["start of the corpus"] = self.corpus.text(0, TEXT_CHARS)
        if not texts:
            self.notify("no text to read yet: wait for the corpus, or generate some (g)",
                        severity="warning")
            return
        self.push_screen(NeuronScreen(*current, texts))

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
            elif self.corpus is not None and self.trainer is None and self.opened is None:
                self.status.show(parameters=parameter_count(config, len(self.corpus.vocab)))

        self.push_screen(SettingsScreen(self.config), applied)

    def action_pick_corpus(self) -> None:
        if self.training_active():
            self.notify("stop training (x) before changing the corpus", severity="warning")
            return
        from chartui.corpus import available_corpora
        entries = [(e.name, e.description) for e in available_corpora(self.corpora_dirs)]

        def chosen(name: str | None) -> None:
            if name:
                self.load_corpus(name)

        self.push_screen(CorpusPicker(entries, self.corpus_name), chosen)

    def action_runs(self) -> None:
        self.push_screen(RunsScreen(self.checkpoint_dir))

    def action_export(self) -> None:
        self.push_screen(ExportScreen(self.model_corpus_name(), self.export_file))

    def export_file(self, kind: str, path: str) -> bool:
        """Save what the export dialog asked for, and say how it went; True when saved."""
        from chartui.export import export
        train, val = self.loss_history()
        try:
            saved = export(kind, path, train=train, val=val,
                           text=self.console_pane.output_text(),
                           corpus_name=self.model_corpus_name())
        except ChartuiError as exc:
            self.notify(str(exc), title="Export", severity="error", timeout=10)
            return False
        self.notify(f"saved {saved.resolve()}", title="Export")
        return True

    def model_corpus_name(self) -> str:
        """The corpus the model and loss history on show come from: the training run's, else
        the opened checkpoint's, else the corpus in the pane."""
        if self.trainer is not None:
            return self.trainer.corpus.name
        if self.opened is not None and self.opened_corpus:
            return self.opened_corpus
        return self.corpus_name

    def loss_history(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(step, loss) for training and validation: every step of the training run, else the
        opened checkpoint's history as the chart shows it."""
        if self.trainer is not None:
            history = self.trainer.history
            return [(i + 1, v) for i, v in enumerate(list(history.train))], list(history.val)
        return ([(int(s), v) for s, v in self.chart.train_points],
                [(int(s), v) for s, v in self.chart.val_points])

    # --- quitting -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.streaming:
            self.gen_worker.cancel()
        if self.trainer is not None and self.train_state in ("training", "paused", "stopping"):
            self._quitting = True
            self.trainer.stop()
            self.set_train_state("stopping")
            self.notify("stopping and saving a checkpoint…")
            self.set_timer(20, self.exit)  # never hang on a stuck save
            return
        self.exit()

    def _handle_signals(self) -> None:
        """SIGTERM, and SIGHUP when the terminal goes away (an SSH connection that drops, a
        killed tmux session), stop and save a training run and end the app: see `end_on_signal`.
        Not in headless tests, whose process is the test runner's; not SIGHUP under nohup.

        Plain `signal.signal` handlers, not the event loop's: they run even while the UI
        thread is blocked handing output to a terminal that has stopped reading."""
        if self.is_headless:
            return
        loop = asyncio.get_running_loop()

        def on_signal(signum, frame) -> None:
            self.end_on_signal(ENDINGS[signum], loop)

        for sig in [signal.SIGTERM, *hangup_signals()]:
            signal.signal(sig, on_signal)

    def end_on_signal(self, ending: str, loop: asyncio.AbstractEventLoop) -> None:
        """Stop and save a training run (its run log says `ending`: hangup or interrupted), drop
        a generation, and exit. After a hang-up the terminal is gone: the standard streams are
        pointed at /dev/null first, so that no write can fail or block the save. Only
        thread-safe steps here; the rest is left to the UI thread, and if that is stuck all
        the same, the process ends by itself once the run is saved (`_end_once_saved`)."""
        if ending == "hangup":
            detach_from_terminal()
        trainer, ended = self.trainer, self._run_ended
        training = trainer is not None and self.training_active()
        if training:
            trainer.stop(ending)
        threading.Thread(target=self._end_once_saved, args=(trainer if training else None, ended),
                         daemon=True, name="chartui-exit").start()
        loop.call_soon_threadsafe(self._close_after_signal, training)

    def _close_after_signal(self, training: bool) -> None:
        if self.streaming and self.gen_worker is not None:
            self.gen_worker.cancel()
        if training:
            self._quitting = True  # the run's last event closes the app
        else:
            self.exit()

    @staticmethod
    def _end_once_saved(trainer, ended: threading.Event) -> None:
        """The last resort after a signal: once the run's worker has returned (its checkpoint
        and run log written), give the app a moment to close, then end the process."""
        if trainer is not None and not ended.wait(SAVE_TIMEOUT_S):
            os._exit(1)  # the save never finished: the last good checkpoint stays
        time.sleep(EXIT_GRACE_S)
        os._exit(1 if trainer is not None and trainer.final_save_error else 0)

    def on_exit_app(self, message) -> None:
        """Every way out passes here before the app closes, also a browser tab closed under
        `chartui serve` (textual-serve tells the app to quit) and Ctrl+C of the server: a run
        still training is stopped and saved (the process waits for the save before it ends),
        and its run log says why (`q` has already stopped it: then it says stopped)."""
        if self.trainer is not None and self.training_active():
            self.trainer.stop("hangup" if served() else "interrupted")

    def on_unmount(self) -> None:
        if self.trainer is not None:
            self.trainer.stop()


def binding_ids() -> set[str]:
    """Every binding id a keymap may name: the app's and each screen's."""
    classes = (ChartuiApp, CheckpointPicker, CorpusPicker, ExportScreen, HelpScreen,
               NeuronScreen, RunComparison, RunsScreen, SettingsScreen)
    return {binding.id for cls in classes for binding in cls.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def make_app(**options) -> ChartuiApp:
    """The app factory used by the CLI and the tests (options as ChartuiApp's arguments)."""
    return ChartuiApp(**options)
