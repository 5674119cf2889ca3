"""The chartui app: its factory, its keys, and every way out.

`make_app` sets the app up as the command line runs it (the user's keymap, the default
settings). The `ChartuiApp` applies the keymap, keeps quit and the signals, and shows the
`MainScreen` (`chartui.tui.screens.main`), where the corpus, training, checkpoints and
generation live. Heavy modules (torch) are imported in workers, so the first screen appears
quickly; a warm-up imports them in the background once it is up.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from chartui.config import TrainConfig, preset
from chartui.errors import ChartuiError
from chartui.terminal import ENDINGS, detach_from_terminal, hangup_signals, served
from chartui.tui.commands import KeyCommands
from chartui.tui.keymap import load_keymap
from chartui.tui.screens.export import ExportScreen
from chartui.tui.screens.help import HelpScreen
from chartui.tui.screens.main import MainScreen
from chartui.tui.screens.neurons import NeuronScreen
from chartui.tui.screens.pickers import CheckpointPicker, CorpusPicker
from chartui.tui.screens.runs import RunComparison, RunsScreen
from chartui.tui.screens.settings import SettingsScreen
from chartui.tui.startup import Startup
from chartui.tui.training import RunHandle
from chartui.user_config import load_user_config, save_theme

QUIT_SAVE_TIMEOUT_S = 20.0  # after q, the longest wait for the run's save before closing
SAVE_TIMEOUT_S = 600.0  # after a hang-up or SIGTERM, the longest wait for the run's save
EXIT_GRACE_S = 3.0  # then how long the app may take to close before the process just ends


class ChartuiApp(App):
    """Train a character-level LSTM, watch it learn, play with its text."""

    TITLE = "chartui"
    COMMANDS = App.COMMANDS | {KeyCommands}  # every action by name (chartui.tui.commands)
    AUTO_FOCUS = None  # keys go to the screen until the user picks a box
    BINDINGS = [Binding("q", "quit", "Quit", id="quit",
                        tooltip="quit (saves a training run first)"),
                Binding("ctrl+p", "command_palette", "Commands", id="command_palette",
                        priority=True, tooltip="commands: every action by name, and themes")]

    def __init__(self, startup: Startup | None = None, keymap: dict[str, str] | None = None,
                 keymap_problem: str | None = None, user_theme: str | None = None,
                 config_file: Path | None = None) -> None:
        super().__init__()
        self.startup = startup or Startup()
        self.keymap = dict(keymap or {})
        self.keymap_problem = keymap_problem  # said once the app is up
        self.user_theme = user_theme  # the config file's theme, applied once the app is up
        self.config_file = config_file  # where a chosen theme is saved (None: nowhere)
        self.remember_theme = False  # True once the app is up: a theme chosen is then saved
        self.quitting = False  # the run's end closes the app
        self.main = MainScreen(self.startup)
        if self.keymap:
            self.set_keymap(self.keymap)

    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        problems = [self.keymap_problem] if self.keymap_problem else []
        theme = self.user_theme
        if theme is not None and theme not in self.available_themes:
            problems.append(f"{self.config_file}: there is no theme {theme!r} (ctrl+p, Theme "
                            "lists them); the default is used")
            theme = None
        if not self.is_headless and self.console.color_system in ("standard", "windows"):
            # 16-colour terminals: the terminal's own palette, unless the user chose the other
            theme = theme if theme in ("ansi-dark", "ansi-light") else "ansi-dark"
        if theme is not None:
            self.theme = theme
        self.remember_theme = True
        if problems:
            self.notify("\n".join(problems), severity="warning", timeout=10)
        self.set_timer(0.5, self._warm_up)  # after the first screen is up
        self._handle_signals()

    @work(thread=True, exit_on_error=False, group="warm-up")
    def _warm_up(self) -> None:
        """Import torch and the trainer in the background, so the first `t` starts at once,
        then keep the collector off the long-lived objects (see `chartui.trainer.Trainer.run`).
        A failure here is left for the training worker to report when a run starts."""
        import torch._dynamo  # noqa: F401 - the first optimizer imports it: 1.5 s here

        import chartui.checkpoint
        import chartui.trainer  # noqa: F401
        gc.freeze()

    def watch_theme(self, theme: str) -> None:
        """A theme the user chose is saved in the config file for next time; if the file
        cannot take it (it is broken, or cannot be written), the theme stays for this session
        and a notice says why."""
        if not self.remember_theme or self.config_file is None:
            return
        try:
            save_theme(theme, self.config_file)
        except ChartuiError as exc:
            self.notify(f"{exc}; the theme {theme} is kept for this session only",
                        title="Theme", severity="warning", timeout=10)

    def on_resize(self, event: events.Resize) -> None:
        if self.main.is_mounted:  # else it checks the size as it mounts
            self.main.check_size(event.size)

    def key_display(self, binding: Binding) -> str:
        """The key(s) of a binding as shown to the user, after the user's remapping."""
        key = self.keymap.get(binding.id, binding.key)
        return ", ".join(self.get_key_display(Binding(k, binding.action))
                         for k in key.split(","))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """While a dialog is open, only its own keys act, and of the app's only quit, tab and
        shift+tab (the main screen's keys do not reach past a dialog anyway)."""
        if isinstance(self.screen, ModalScreen) and action not in ("quit", "focus_next",
                                                                   "focus_previous"):
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Of Textual's own commands, the theme chooser (quit and the rest are the app's own
        keys, in `KeyCommands`)."""
        yield SystemCommand("Theme", "change the colours (remembered for next time)",
                            self.action_change_theme)

    # --- quitting -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.main.generation_panel.stop()
        if self.main.training.stop():
            self.quitting = True
            self.notify("stopping and saving a checkpoint…")
            self.set_timer(QUIT_SAVE_TIMEOUT_S, self.exit)  # never hang on a stuck save
            return
        self.exit()

    def on_main_screen_run_ended(self, message: MainScreen.RunEnded) -> None:
        if self.quitting:
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
        run = self.main.training.active_run()
        if run is not None:
            run.control.stop(ending)
        threading.Thread(target=self._end_once_saved, args=(run,), daemon=True,
                         name="chartui-exit").start()
        loop.call_soon_threadsafe(self._close_after_signal, run is not None)

    def _close_after_signal(self, training: bool) -> None:
        self.main.generation_panel.stop()
        if training:
            self.quitting = True  # the run's last event closes the app
        else:
            self.exit()

    @staticmethod
    def _end_once_saved(run: RunHandle | None) -> None:
        """The last resort after a signal: once the run's worker has returned (its checkpoint
        and run log written), give the app a moment to close, then end the process."""
        if run is not None and not run.ended.wait(SAVE_TIMEOUT_S):
            os._exit(1)  # the save never finished: the last good checkpoint stays
        time.sleep(EXIT_GRACE_S)
        os._exit(1 if run is not None and run.final_save_error else 0)

    def on_exit_app(self, message) -> None:
        """Every way out passes here before the app closes, also a browser tab closed under
        `chartui serve` (textual-serve tells the app to quit) and Ctrl+C of the server: a run
        still training is stopped and saved (the process waits for the save before it ends),
        and its run log says why (`q` has already stopped it: then it says stopped)."""
        run = self.main.training.active_run()
        if run is not None:
            run.control.stop("hangup" if served() else "interrupted")

    def on_unmount(self) -> None:
        if self.main.run_control is not None:
            self.main.run_control.stop()


def binding_ids() -> set[str]:
    """Every binding id a keymap may name: the app's and each screen's."""
    classes = (ChartuiApp, MainScreen, CheckpointPicker, CorpusPicker, ExportScreen, HelpScreen,
               NeuronScreen, RunComparison, RunsScreen, SettingsScreen)
    return {binding.id for cls in classes for binding in cls.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def make_app(config: TrainConfig | None = None, load_user_keymap: bool = True,
             keymap: dict[str, str] | None = None, **options) -> ChartuiApp:
    """The app as the command line starts it, for the CLI and the tests: `options` as
    `Startup`'s fields, and unless `load_user_keymap` is False the user's files: the config
    file (`chartui.user_config`: the theme, [keys], and [train] as the settings unless `config`
    is given) and the keymap (~/.config/chartui/keymap.toml, over [keys]), with `keymap` over
    both. Without them: the default settings and theme, and nothing is saved. Problems with
    the files are shown in one notice once the app is up."""
    problems, theme, config_file = [], None, None
    if load_user_keymap:
        user = load_user_config()
        if user.problem():
            problems.append(user.problem())
        main_keys = {binding.id: binding.key for binding in [*ChartuiApp.BINDINGS,
                                                             *MainScreen.BINDINGS]}
        user_keymap, problem = load_keymap(known_ids=binding_ids(), keys=main_keys,
                                           base=user.keys, base_path=user.path)
        if problem:
            problems.append(problem)
        keymap = {**user_keymap, **(keymap or {})}
        config = config or user.train_config()
        theme, config_file = user.theme, user.path
    return ChartuiApp(Startup(config=config or preset("default"), **options), keymap,
                      "\n".join(problems) or None, theme, config_file)
