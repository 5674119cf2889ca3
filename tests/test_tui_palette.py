"""The command palette (ctrl+p): every action by name, run as its key runs it."""

from textual.command import CommandList, CommandPalette

from chartui.tui.commands import PALETTE_ID, command_name

from tui_helpers import app_for, press, settle, wait_for


def palette_entries(app) -> list[str]:
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_lists_every_action_with_its_key(tmp_path):
    app = app_for(tmp_path, keymap={"toggle_training": "z"})
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 20,
                       what="the commands")
        await pilot.pause(0.3)
        shown = "\n".join(palette_entries(app))
        for binding in app.main.key_bindings():
            if binding.id == PALETTE_ID:  # not itself
                assert f"id {binding.id}" not in shown
                continue
            assert command_name(binding) in shown, binding.id
            assert f"id {binding.id}" in shown
        assert "key z · id toggle_training" in shown  # as remapped
        assert "Theme" in shown
        await press(pilot, "escape")
        assert app.screen is app.main


async def test_a_command_does_what_its_key_does(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "ctrl+p")
        await pilot.press(*"pause")  # "Train: start, pause or resume training"
        await wait_for(pilot, lambda: "Train" in "".join(palette_entries(app)[:1]),
                       what="the train command first")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: main.train_state == "training", what="training to start")
        assert app.screen is main
        await press(pilot, "ctrl+p")
        await pilot.press(*"top-p down")
        await wait_for(pilot, lambda: "Top-p down" in "".join(palette_entries(app)[:1]),
                       what="the top-p command first")
        await press(pilot, "enter")
        assert main.generation_session.settings.top_p == 0.95
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


async def test_the_palette_stays_shut_over_a_dialog(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "question_mark")
        help_screen = app.screen
        await press(pilot, "ctrl+p")
        assert app.screen is help_screen
