"""One source of truth per setting: each TrainConfig field's `Setting` decides what
`validate`, the `chartui train` options and the settings form accept and show."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace
from types import MappingProxyType

import pytest
from textual.app import App
from textual.widgets import Label, Select
from textual.widgets.select import InvalidSelectValueError

from chartui.cli import build_parser, main, train_config_from_args
from chartui.config import MAX_TEMPERATURE, PRESETS, SettingError, TrainConfig
from chartui.tui.screens.settings import SettingsScreen, form_label, parse_settings

RENAMED_OPTIONS = {"--embedding": "embedding_dim", "--hidden": "hidden_size",
                   "--layers": "num_layers", "--warmup": "warmup_steps",
                   "--eval-chars": "eval_max_chars", "--prime": "sample_prime"}


def change_setting(monkeypatch, name: str, **changes) -> None:
    """Change one field's Setting in its dataclass metadata, where everything reads it."""
    (field,) = [f for f in fields(TrainConfig) if f.name == name]
    changed = replace(field.metadata["setting"], **changes)
    monkeypatch.setattr(field, "metadata", MappingProxyType({"setting": changed}))


def setting_options() -> dict[str, argparse.Action]:
    """The `chartui train` options that set a TrainConfig field, by field name."""
    names = set(TrainConfig.settings())
    return {action.dest: action for action in build_parser()["train"]._actions
            if action.dest in names}


def test_every_field_but_the_preset_carries_a_consistent_setting():
    settings = TrainConfig.settings()
    assert list(settings) == [f.name for f in fields(TrainConfig) if f.name != "preset"]
    defaults = TrainConfig()
    for name, setting in settings.items():
        assert setting.label and setting.help, name
        if setting.kind in ("whole", "real"):
            assert setting.low < setting.high, name
        if setting.kind == "choice":
            assert getattr(defaults, name) in setting.choices, name
        if getattr(defaults, name) is None:
            assert setting.optional, name
    for config in PRESETS.values():
        config.validate()


def test_refusals_say_the_rule_of_the_setting():
    cases = [
        ({"hidden_size": 0}, "hidden-size 0 is not allowed: use a whole number from 1 to 8,192"),
        ({"lr": 0.0}, "lr 0.0 is not allowed: use a number above 0 up to 10"),
        ({"dropout": 1.5}, "dropout 1.5 is not allowed: use a number from 0 up to 0.95"),
        ({"schedule": "linear"},
         "schedule 'linear' is not allowed: use one of: cosine, constant"),
        ({"sample_temperature": MAX_TEMPERATURE + 1},
         f"sample-temperature {MAX_TEMPERATURE + 1!r} is not allowed: use a number from 0 up "
         f"to {MAX_TEMPERATURE:g}"),
        ({"iterations": None, "max_time": None},
         "give --iterations or --max-time, or training would never end"),
    ]
    for changes, message in cases:
        with pytest.raises(SettingError) as refused:
            replace(TrainConfig(), **changes).validate()
        assert str(refused.value) == message
        assert refused.value.field == next(iter(changes))
    replace(TrainConfig(), sample_temperature=MAX_TEMPERATURE, hidden_size=None).validate()


def test_every_setting_is_a_train_option_with_its_flag_type_and_help():
    options = setting_options()
    assert set(options) == set(TrainConfig.settings())
    for name, setting in TrainConfig.settings().items():
        action = options[name]
        assert action.help == setting.help
        (flag,) = action.option_strings
        assert RENAMED_OPTIONS.get(flag, flag[2:].replace("-", "_")) == name
        parsed = build_parser()["train"].parse_args(["corpus", flag, {
            "whole": "7", "real": "0.5", "choice": "x", "text": " Th"}[setting.kind]])
        assert getattr(parsed, name) == {"whole": 7, "real": 0.5, "choice": "x",
                                         "text": " Th"}[setting.kind]
    assert options["max_time"].metavar == "SECONDS"


def test_options_left_out_keep_the_preset():
    args = build_parser()["train"].parse_args(["corpus", "--preset", "anna", "--hidden", "64"])
    assert train_config_from_args(args, None) == replace(PRESETS["anna"], hidden_size=64)


def test_a_narrower_range_in_the_metadata_is_refused_by_validate_the_cli_and_the_form(
        monkeypatch, capsys):
    replace(TrainConfig(), hidden_size=101).validate()  # allowed as shipped
    change_setting(monkeypatch, "hidden_size", high=100)
    message = "hidden-size 101 is not allowed: use a whole number from 1 to 100"
    with pytest.raises(SettingError, match=message):
        replace(TrainConfig(), hidden_size=101).validate()
    # the command line refuses it before it looks for the corpus
    assert main(["train", "no-such-corpus", "--hidden", "101"]) == 1
    assert capsys.readouterr().err == f"chartui: error: {message}\n"
    with pytest.raises(SettingError, match=message):
        parse_settings({"hidden_size": "101"}, "default")
    assert parse_settings({"hidden_size": "100"}, "default").hidden_size == 100


def test_the_form_reads_each_box_as_its_setting_says():
    config = parse_settings({"hidden_size": "", "dropout": " 0.25 ", "sample_prime": "The ",
                             "engine": "cell"}, "lesson")
    assert (config.preset, config.hidden_size, config.dropout, config.sample_prime,
            config.engine) == ("lesson", None, 0.25, "The ", "cell")
    with pytest.raises(SettingError, match="^embedding size: '' is not a whole number$"):
        parse_settings({"embedding_dim": ""}, "default")
    with pytest.raises(SettingError, match=r"^sample top-k \(empty: all\): 'x' is not a whole"):
        parse_settings({"sample_top_k": "x"}, "default")
    with pytest.raises(SettingError, match=r"^learning rate \(Adam\): 'inf' is not a finite"):
        parse_settings({"lr": "inf"}, "default")


async def test_the_form_shows_each_setting_with_its_label_and_choices(monkeypatch):
    change_setting(monkeypatch, "schedule", label="decay", choices=("cosine",))

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(SettingsScreen(TrainConfig()))

    app = Host()
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        screen = app.screen
        rows = screen.query(".setting-row")
        labels = [str(row.query_one(Label).content) for row in rows][1:]  # after the preset
        settings = TrainConfig.settings()
        assert labels == [form_label(setting) for setting in settings.values()]
        assert "decay" in labels and "hidden (empty: fit time)" in labels
        boxes = [row.children[1].id for row in rows][1:]
        assert boxes == [f"set-{name}" for name in settings]
        schedule = screen.query_one("#set-schedule", Select)
        with pytest.raises(InvalidSelectValueError):
            schedule.value = "constant"  # no longer one of the choices
        assert isinstance(screen.query_one("#set-precision"), Select)
