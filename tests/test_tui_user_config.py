"""The app and the user's config file: the theme chosen is remembered, a broken file is one
notice, [train] gives the settings form its defaults."""

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from chartui.tui.app import make_app

from helpers import FAQ
from tui_helpers import press, record_notifications, settle, wait_for


def user_app(tmp_path):
    """The app as `chartui` starts it, with the user's files (CHARTUI_CONFIG set by the test)."""
    return make_app(corpus=str(FAQ), checkpoint_dir=tmp_path, device="cpu", generation_pace=0)


async def choose_theme(pilot, app, name):
    await press(pilot, "ctrl+p")
    await pilot.press(*"theme")
    await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0,
                   what="the theme command")
    await press(pilot, "enter")  # Textual's theme chooser, another palette
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette)
                   and "theme" in app.screen.query_one(Input).placeholder.lower(),
                   what="the theme chooser")
    await pilot.press(*name)
    await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 0,
                   what="the theme")
    await pilot.pause(0.3)
    await press(pilot, "enter")


async def test_a_theme_chosen_is_saved_and_the_next_app_starts_with_it(tmp_path, monkeypatch):
    path = tmp_path / "config" / "config.toml"
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    app = user_app(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert app.theme == "textual-dark" and not path.exists()
        await choose_theme(pilot, app, "ansi-light")  # 16-colour terminals' own palette
        assert app.theme == "ansi-light" and app.screen is app.main
        assert path.read_text() == 'theme = "ansi-light"\n'
        await choose_theme(pilot, app, "dracula")
        assert app.theme == "dracula"
    assert path.read_text() == 'theme = "dracula"\n'
    again = user_app(tmp_path)
    async with again.run_test(size=(100, 32)) as pilot:
        await settle(pilot, again)
        assert again.theme == "dracula"


async def test_a_broken_file_is_one_notice_and_the_rest_applies(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('theme = "no-such-theme"\n[keys]\ntoggle_training = "z"\nnot_a_key = "k"\n'
                    '[train]\nlr = "fast"\nhidden_size = 40\n')
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    app = user_app(tmp_path)
    notes = record_notifications(app)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        warnings = [message for severity, message in notes if severity == "warning"]
        assert len(warnings) == 1, notes
        for words in (str(path), "no-such-theme", "lr = 'fast'", "not_a_key"):
            assert words in warnings[0]
        assert app.theme == "textual-dark" and app.keymap == {"toggle_training": "z"}
        assert app.main.config.hidden_size == 40 and app.main.config.lr == 0.01
        await press(pilot, "e")  # [train] is what the settings form starts from
        assert app.screen.query_one("#set-hidden_size", Input).value == "40"


async def test_a_file_that_is_not_toml_is_never_overwritten(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    text = 'theme = "nord"\n[train\nhidden_size = 40\n'
    path.write_text(text)
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    app = user_app(tmp_path)
    notes = record_notifications(app)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert [severity for severity, _ in notes] == ["warning"]
        assert str(path) in notes[0][1] and "could not be read" in notes[0][1]
        assert app.main.config.hidden_size is None  # the default settings
        await choose_theme(pilot, app, "nord")
        assert app.theme == "nord"  # for this session
        assert path.read_text() == text
        assert "kept for this session only" in notes[-1][1] and str(path) in notes[-1][1]
