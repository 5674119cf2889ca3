"""The settings screen: every hyperparameter, the presets, refused values explained in place."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from chartui.config import PRESETS, Setting, SettingError, TrainConfig
from chartui.tui import widget_css


def form_label(setting: Setting) -> str:
    """A setting's label on the form, with what an empty box means, e.g. "hidden (empty: fit
    time)"."""
    return setting.label if setting.optional is None else \
        f"{setting.label} (empty: {setting.optional})"


def parse_settings(values: dict[str, str], preset_name: str) -> TrainConfig:
    """Text from the form to a validated TrainConfig; a refused value raises SettingError.

    Each box is read as its setting's kind says; an empty box is None where the setting is
    optional, and text (a prime) is kept as typed, as it may end in a space ("The ").
    """
    settings = TrainConfig.settings()
    parsed: dict = {"preset": preset_name}
    for name, text in values.items():
        setting = settings[name]
        if setting.kind != "text":
            text = text.strip()
        if setting.optional is not None and text == "":
            parsed[name] = None
        elif setting.kind == "whole":
            try:
                parsed[name] = int(text)
            except ValueError:
                raise SettingError(f"{form_label(setting)}: '{text}' is not a whole number", name
                                   ) from None
        elif setting.kind == "real":
            try:
                parsed[name] = float(text)
            except ValueError:
                raise SettingError(f"{form_label(setting)}: '{text}' is not a number", name
                                   ) from None
            if not math.isfinite(parsed[name]):
                raise SettingError(f"{form_label(setting)}: '{text}' is not a finite number",
                                   name)
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
                for name, setting in TrainConfig.settings().items():
                    with Horizontal(classes="setting-row"):
                        yield Label(form_label(setting), classes="setting-label")
                        if setting.kind == "choice":
                            yield Select([(c, c) for c in setting.choices], allow_blank=False,
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
        for name in TrainConfig.settings():
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
        return {name: str(self.query_one(f"#set-{name}").value)
                for name in TrainConfig.settings()}

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
