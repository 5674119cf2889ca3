"""The settings screen: every hyperparameter, the presets, refused values explained in place."""

from __future__ import annotations

import math
from dataclasses import fields

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from chartui.config import BATCHING, PRECISIONS, PRESETS, SCHEDULES, SettingError, TrainConfig
from chartui.tui import widget_css

CHOICES = {"schedule": SCHEDULES, "engine": ("fast", "cell"), "batching": BATCHING,
           "vocabulary": ("corpus", "printable"), "precision": PRECISIONS}
LABELS = {
    "embedding_dim": "embedding size", "hidden_size": "hidden (empty: fit time)",
    "num_layers": "layers", "dropout": "dropout (empty: fit)", "vocabulary": "vocabulary",
    "batch_size": "batch (empty: fit time)", "seq_len": "window (chars)", "batching": "batches",
    "lr": "learning rate (Adam)",
    "schedule": "lr schedule", "warmup_steps": "warm-up steps", "min_lr_ratio": "final lr ratio",
    "clip": "grad-norm clip (0 off)", "iterations": "iterations (empty: time)",
    "max_time": "time limit s (empty: none)", "engine": "engine",
    "precision": "precision", "seed": "seed",
    "val_fraction": "validation share", "eval_every": "evaluate every", "eval_max_chars":
    "final eval chars", "eval_sample_chars": "periodic eval chars",
    "sample_every": "sample every (0 off)", "sample_prime": "sample prime",
    "sample_length": "sample length", "sample_temperature": "sample temperature",
    "sample_top_k": "sample top-k (empty all)",
}
OPTIONAL = {"iterations", "max_time", "sample_top_k", "hidden_size", "batch_size", "dropout"}
INTEGER = {f.name for f in fields(TrainConfig) if f.type in ("int", "int | None")}
NUMBER = {f.name for f in fields(TrainConfig) if f.type in ("float", "float | None")}


def parse_settings(values: dict[str, str], preset_name: str) -> TrainConfig:
    """Text from the form to a validated TrainConfig; a refused value raises SettingError."""
    parsed: dict = {"preset": preset_name}
    for name, text in values.items():
        if name != "sample_prime":  # a prime may end in a space ("The ")
            text = text.strip()
        if name in OPTIONAL and text == "":
            parsed[name] = None
        elif name in INTEGER:
            try:
                parsed[name] = int(text)
            except ValueError:
                raise SettingError(f"{LABELS[name]}: '{text}' is not a whole number", name
                                   ) from None
        elif name in NUMBER:
            try:
                parsed[name] = float(text)
            except ValueError:
                raise SettingError(f"{LABELS[name]}: '{text}' is not a number", name) from None
            if not math.isfinite(parsed[name]):
                raise SettingError(f"{LABELS[name]}: '{text}' is not a finite number", name)
        else:
            parsed[name] = text
    config = TrainConfig.from_dict(parsed)
    config.validate()
    return config


def field_text(config: TrainConfig, name: str) -> str:
    value = getattr(config, name)
    return "" if value is None else str(value)


class SettingsScreen(ModalScreen[TrainConfig | None]):
    """Returns the new TrainConfig on Apply, None on cancel."""

    DEFAULT_CSS = widget_css(__file__)
    AUTO_FOCUS = "Input"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="close_settings")]

    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        with Vertical(id="settings"):
            with Horizontal(classes="setting-row"):
                yield Label("preset", classes="setting-label")
                yield Select([(name, name) for name in PRESETS], value=self.config.preset
                             if self.config.preset in PRESETS else "default",
                             allow_blank=False, id="preset", compact=True)
            with VerticalScroll(id="settings-fields"):
                for name in LABELS:
                    with Horizontal(classes="setting-row"):
                        yield Label(LABELS[name], classes="setting-label")
                        if name in CHOICES:
                            yield Select([(c, c) for c in CHOICES[name]], allow_blank=False,
                                         value=getattr(self.config, name), id=f"set-{name}",
                                         compact=True)
                        else:
                            yield Input(field_text(self.config, name), id=f"set-{name}",
                                        classes="setting-input", compact=True)
            yield Static("", id="settings-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#settings").border_title = \
            "Settings — enter applies, esc cancels (used by the next run)"

    def fill(self, config: TrainConfig) -> None:
        for name in LABELS:
            widget = self.query_one(f"#set-{name}")
            if isinstance(widget, Select):
                widget.value = getattr(config, name)
            else:
                widget.value = field_text(config, name)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "preset" and event.value in PRESETS \
                and event.value != self.config.preset:
            self.config = PRESETS[event.value]
            self.fill(self.config)

    def current_values(self) -> dict[str, str]:
        values = {}
        for name in LABELS:
            widget = self.query_one(f"#set-{name}")
            values[name] = str(widget.value)
        return values

    def apply(self) -> None:
        for widget in self.query(".setting-input"):
            widget.remove_class("-invalid")
        preset = self.query_one("#preset", Select).value
        try:
            config = parse_settings(self.current_values(), str(preset))
        except SettingError as exc:
            self.query_one("#settings-error", Static).update(str(exc))
            widget = self.query_one(f"#set-{exc.field}")
            widget.add_class("-invalid")
            widget.focus()
            return
        self.dismiss(config)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.apply()
        else:
            self.dismiss(None)
