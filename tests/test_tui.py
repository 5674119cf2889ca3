"""The real app, driven by Textual's pilot: keys in, screen and state out."""

import threading
import time
from pathlib import Path

import pytest
import torch
from textual.widgets import Input, Static

from chartui.sampling import sample_text
from chartui.tui.app import make_app
from chartui.tui.messages import CorpusLoaded
from chartui.tui.widgets.corpus_pane import CorpusPane
from chartui.tui.widgets.generation import DEFAULT_LENGTH, GenerationConsole

from helpers import FAQ, TRAINED_STEPS
from tui_helpers import (
    app_for,
    press,
    record_notifications,
    run_state,
    run_step,
    settle,
    small_config,
    start_training,
    wait_for,
)


def rendered(widget) -> str:
    return str(widget.render())


async def test_t_starts_training_and_the_chart_and_status_follow(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        notes = record_notifications(app)
        await start_training(pilot, app)
        await wait_for(pilot, lambda: len(main.chart.train_points) >= 3 and main.chart.val_points,
                       what="chart points")
        assert "TRAINING" in rendered(main.status) and "step" in rendered(main.status)
        assert main.status.info.step > 0 and main.status.info.chars_per_s
        assert "cpu fp32" in rendered(main.status)  # the device and the precision it trains in
        assert ("information", "training in fp32 (as asked)") in notes
        await wait_for(pilot, lambda: "Sample at step" in str(app.query_one("#sample")
                                                                .border_title), what="sample")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


@pytest.mark.slow
async def test_pause_resume_stop_and_save(tmp_path):
    app = app_for(tmp_path, config=small_config(eval_every=100_000))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        await press(pilot, "t")
        assert main.train_state == "paused"
        await wait_for(pilot, lambda: run_state(main) == "paused", what="pause")
        paused_at = run_step(main)
        await pilot.pause(0.5)
        assert run_step(main) == paused_at
        assert "PAUSED" in rendered(main.status)

        await press(pilot, "w")  # save works while paused
        await wait_for(pilot, lambda: list(tmp_path.glob("*.pt")), what="checkpoint file")

        await press(pilot, "t")
        await wait_for(pilot, lambda: run_step(main) > paused_at + 2, what="resume")
        assert main.train_state == "training"

        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        assert Path(main.training.run.latest_checkpoint).exists()
        assert "STOPPED" in rendered(main.status)


@pytest.mark.slow
async def test_generation_streams_from_the_prime_while_training(tmp_path):
    app = app_for(tmp_path, generation_pace=300)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        app.query_one("#length", Input).value = "3000"
        await press(pilot, "g")
        assert isinstance(app.focused, Input) and app.focused.id == "prime"
        await press(pilot, *"The")
        await press(pilot, "enter")
        console = app.query_one(GenerationConsole)
        await wait_for(pilot, lambda: len(console.output_text()) > 5, what="first characters")
        first = len(console.output_text())
        await wait_for(pilot, lambda: len(console.output_text()) > first + 20, what="more text")
        assert console.output_text().startswith("The")
        await press(pilot, "escape")  # stops the generation
        panel = main.generation_panel
        await wait_for(pilot, lambda: panel.worker is None or not panel.worker.is_running,
                       what="generation to stop")
        stopped_at = len(console.output_text())
        await pilot.pause(0.3)
        assert len(console.output_text()) == stopped_at < 3 + 3000


async def test_temperature_keys_change_display_and_sampler(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        knobs = app.query_one("#gen-knobs", Static)
        await press(pilot, "right_square_bracket")
        assert main.generation_session.settings.temperature == pytest.approx(0.9)
        assert "0.9" in rendered(knobs)
        for _ in range(12):
            await press(pilot, "left_square_bracket")
        assert main.generation_session.settings.temperature == 0.0  # clamped at 0: greedy
        assert "greedy" in rendered(knobs)
        await press(pilot, "right_curly_bracket")
        assert main.generation_session.settings.top_k is None  # already "all"
        await press(pilot, "left_curly_bracket")
        assert main.generation_session.settings.top_k == 40 and "40" in rendered(knobs)

        # the sampler really uses T = 0: the text equals the greedy continuation
        app.query_one("#length", Input).value = "60"
        app.query_one("#prime", Input).value = "The "
        main.generate("The ")
        console = app.query_one(GenerationConsole)
        await wait_for(pilot, lambda: main.generation_panel.worker is None, what="generation")
        expected = sample_text(main.run_control.snapshot_model(), main.training.run.summary.vocab,
                               "The ", 60, temperature=0.0)
        assert console.output_text() == expected


async def test_quit_during_training_exits_promptly_and_saves(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, app)
        started = time.monotonic()
        await press(pilot, "q")
        await wait_for(pilot, lambda: not app.is_running, timeout=20, what="exit")
        assert time.monotonic() - started < 10
    assert list(tmp_path.glob("*.pt"))
    assert run_state(main) == "stopped"


async def test_a_bad_corpus_path_shows_an_error_not_a_crash(tmp_path):
    app = app_for(tmp_path, corpus=str(tmp_path / "missing.txt"))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert "does not exist" in rendered(app.query_one("#corpus-name"))
        assert main.train_state == "idle" and "ERROR" in rendered(main.status)
        await press(pilot, "t")  # nothing to train on: a hint, not a crash
        await pilot.pause(0.2)
        assert app.is_running and main.run_control is None


async def test_binary_corpus_and_bad_checkpoint_are_reported(tmp_path):
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"nonsense")
    app = app_for(tmp_path, corpus=str(binary), checkpoint=str(junk))
    main = app.main
    notes = record_notifications(app)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert "binary" in rendered(app.query_one("#corpus-name"))
        await wait_for(pilot, lambda: any(severity == "error" and str(junk) in message
                                          for severity, message in notes),
                       timeout=10, what="a notification naming the bad checkpoint")
        assert app.is_running and main.checkpoints.opened is None


async def test_settings_refuse_bad_values_in_place_and_apply_good_ones(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "e")
        screen = app.screen
        hidden = screen.query_one("#set-hidden_size", Input)
        lr = screen.query_one("#set-lr", Input)
        hidden.value = "-5"
        hidden.focus()
        await press(pilot, "enter")  # enter in any box applies
        assert app.screen is screen  # refused: still open, the box marked
        assert "hidden-size" in rendered(screen.query_one("#settings-error"))
        assert hidden.has_class("-invalid") and app.focused is hidden
        hidden.value = "96"
        lr.value = "abc"
        await press(pilot, "enter")
        assert app.screen is screen
        assert "not a number" in rendered(screen.query_one("#settings-error"))
        assert app.focused is lr
        lr.value = "0.002"
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.screen is not screen, what="settings to close")
        assert main.config.hidden_size == 96 and main.config.lr == 0.002
        await press(pilot, "e")
        app.screen.query_one("#preset").value = "lesson"
        await pilot.pause(0.1)
        assert app.screen.query_one("#set-hidden_size", Input).value == "128"
        assert app.screen.query_one("#set-precision").value == "fp32"  # as the lesson did
        await press(pilot, "escape")
        assert main.config.hidden_size == 96  # cancelled: unchanged
        # an empty size is sized for the time budget; the precision is a choice
        await press(pilot, "e")
        screen = app.screen
        screen.query_one("#set-hidden_size", Input).value = ""
        screen.query_one("#set-precision").value = "bf16"
        screen.query_one("#set-hidden_size", Input).focus()
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.screen is not screen, what="settings to close")
        assert main.config.hidden_size is None and main.config.precision == "bf16"


async def test_corpus_picker_switches_corpus(tmp_path, monkeypatch):
    (tmp_path / "tiny.txt").write_text("a tiny corpus of our own, for the picker\n" * 20)
    monkeypatch.setenv("CHARTUI_CORPORA", str(tmp_path))
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "c")
        options = app.screen.query_one("#corpus-list")
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = names.index("tiny")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: main.corpus is not None and main.corpus.name == "tiny",
                       what="new corpus")
        assert "tiny" in rendered(app.query_one(CorpusPane).query_one("#corpus-name"))


async def test_open_checkpoint_and_generate_without_training(tmp_path, trained_checkpoint):
    checkpoint, _, _ = trained_checkpoint
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await press(pilot, "o")
        await wait_for(pilot, lambda: app.screen.query("#checkpoint-list"), what="picker")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        assert main.checkpoints.opened.path == checkpoint
        assert len(main.chart.train_points) == TRAINED_STEPS
        app.query_one("#prime", Input).value = "Th"
        main.generate("Th")
        await wait_for(pilot, lambda: main.generation_panel.worker is None, what="generation")
        assert app.query_one(GenerationConsole).output_text().startswith("Th")
        assert len(app.query_one(GenerationConsole).output_text()) == 2 + DEFAULT_LENGTH


async def test_too_small_terminal_says_what_it_needs(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(pilot, app)
        message = rendered(app.query_one("#too-small"))
        assert "at least 60×18" in message and "40×12" in message
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.1)
        assert not app.screen.has_class("too-small")


@pytest.mark.slow
async def test_keys_can_be_remapped_by_binding_id(tmp_path):
    app = app_for(tmp_path, keymap={"toggle_training": "z"})
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert "z Train" in rendered(app.query_one("#key-bar"))
        await press(pilot, "t")
        await pilot.pause(0.2)
        assert main.train_state == "idle"
        await press(pilot, "z")
        await wait_for(pilot, lambda: main.train_state == "training", what="training")
        await press(pilot, "question_mark")
        assert ("z", "start, pause or resume training", "toggle_training") in app.screen.keys
        await press(pilot, "escape")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


@pytest.mark.parametrize("text, problem, applied", [
    ('toggle_training = "z"\nno_such_binding = "k"\n', "no_such_binding", {"toggle_training"}),
    ('toggle_training = \n', "could not be read", set()),
    # q would train and quit: neither key may be lost, so the clashing entry is ignored
    ('quit = "t"\n', "quit and toggle_training would share the key t", set()),
    # "," is no key name (comma is), and "" unbinds nothing: both are refused
    ('toggle_training = ","\nquit = ""\n', "quit, toggle_training names no key", set()),
])
async def test_a_broken_keymap_file_is_named_once_and_the_app_keeps_going(
        tmp_path, monkeypatch, text, problem, applied):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text(text)
    monkeypatch.setenv("CHARTUI_KEYMAP", str(keymap))
    app = make_app(corpus=str(FAQ), config=small_config(), checkpoint_dir=tmp_path,
                   device="cpu", generation_pace=0)
    notes = record_notifications(app)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        warnings = [message for severity, message in notes if severity == "warning"]
        assert len(warnings) == 1 and str(keymap) in warnings[0] and problem in warnings[0]
        assert set(app.keymap) == applied
        await press(pilot, "z" if applied else "t")  # remapped where it could be, else t
        await wait_for(pilot, lambda: main.train_state == "training", what="training")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


async def test_step_mode_and_the_next_character_inspector(tmp_path, trained_checkpoint):
    from chartui.config import SamplingSettings
    from chartui.sampling import Generation
    from chartui.tui.widgets.corpus_pane import visible_char
    from chartui.tui.widgets.inspector import NextCharInspector
    checkpoint, model, vocab = trained_checkpoint
    app = app_for(tmp_path, checkpoint=str(checkpoint))
    main = app.main
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        inspector = app.query_one(NextCharInspector)
        assert inspector.display and "n steps" in rendered(inspector)
        app.query_one("#prime", Input).value = "Th"
        app.query_one("#seed", Input).value = "7"
        await press(pilot, "n")
        await wait_for(pilot, lambda: main.generation_panel.worker is None
                       and main.generation_session.current, what="a step")
        for _ in range(4):
            await press(pilot, "n")
        temperature = main.generation_session.settings.temperature
        expected = sample_text(model, vocab, "Th", 5, temperature=temperature, seed=7)
        assert main.generation_panel.output_text() == expected
        # The bars are the candidates for the character after those five.
        reference = Generation(model, vocab, expected, SamplingSettings(temperature))
        top_char, top_p, _ = reference.candidates(1)[0]
        assert abs(main.generation_session.current.candidates(1)[0][1] - top_p) < 1e-4
        shown = rendered(inspector)
        assert f"{visible_char(top_char):>2} " in shown and f"{100 * top_p:4.0f}%" in shown
        await press(pilot, "left_square_bracket", "left_square_bracket", "left_square_bracket")
        sharper = rendered(inspector)
        assert sharper != shown and inspector.border_subtitle == "T 0.5"
        assert main.generation_session.current.candidates(1)[0][1] > top_p  # a lower T sharpens
        # Steer: 3 makes the third candidate shown the next character.
        third = main.generation_session.current.candidates(3)[2][0]
        await press(pilot, "3")
        assert main.generation_panel.output_text() == expected + third
        assert f"3 {visible_char(main.generation_session.current.candidates(3)[2][0]):>2} " \
            in rendered(inspector)
        await press(pilot, "i")
        assert not inspector.display
        notes = record_notifications(app)
        await press(pilot, "1")  # the inspector is hidden: nothing is chosen, and it says why
        assert main.generation_panel.output_text() == expected + third
        assert any("inspector (i)" in message for _, message in notes)


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_every_key_is_on_screen_even_at_small_sizes(tmp_path, size):
    app = app_for(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        bar = app.query_one("#key-bar")
        shown = "  ".join(line.text.strip() for line in bar.render_lines(bar.region.reset_offset))
        for binding in app.main.key_bindings():
            if binding.show:
                if binding.group:  # e.g. "[ ] Temp"
                    assert f"{app.key_display(binding)} " in shown
                    assert f" {binding.group.description}" in shown
                else:
                    assert f"{app.key_display(binding)} {binding.description}" in shown
        app.query_one("#prime", Input).focus()
        await pilot.pause()
        assert bar.display and bar.region.height >= 1  # still there while typing


async def test_a_new_generation_replaces_the_running_one_cleanly(tmp_path, trained_checkpoint):
    checkpoint, model, vocab = trained_checkpoint
    app = app_for(tmp_path, checkpoint=str(checkpoint), generation_pace=300)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        app.query_one("#seed", Input).value = "5"
        app.query_one("#length", Input).value = "120"
        main.generate("Th")
        await pilot.pause(0.2)
        main.generate("Ab")  # while the first stream is still running
        await pilot.pause(0.05)
        assert main.generation_session.streaming
        await wait_for(pilot, lambda: not main.generation_session.streaming,
                       what="the second stream")
        expected = sample_text(model, vocab, "Ab", 120,
                               temperature=main.generation_session.settings.temperature, seed=5)
        assert main.generation_panel.output_text() == expected  # nothing of the first stream
        app.query_one("#length", Input).value = "2000"
        main.generate("Th")
        await pilot.pause(0.2)
        main.generate("Ab")
        await pilot.pause(0.2)
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not main.generation_session.streaming,
                       what="escape to stop the stream")
        stopped_at = len(main.generation_panel.output_text())
        await pilot.pause(0.3)
        assert len(main.generation_panel.output_text()) == stopped_at < 2000


async def test_t_while_the_corpus_loads_starts_training_once_it_has_loaded(tmp_path, monkeypatch):
    import threading

    import chartui.corpus
    release = threading.Event()
    real_load = chartui.corpus.load_corpus

    def slow_load(*args, **kwargs):
        release.wait(30)
        return real_load(*args, **kwargs)
    monkeypatch.setattr(chartui.corpus, "load_corpus", slow_load)
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause(0.1)
        assert main.corpus_loading
        await press(pilot, "t")
        assert main.train_state == "idle"
        release.set()
        await wait_for(pilot, lambda: main.train_state == "training"
                       and run_step(main) > 0,
                       what="training to start after loading")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


async def test_a_slow_corpus_load_that_was_replaced_is_ignored(tmp_path, monkeypatch):
    """Choose a slow corpus, then another: the first arriving late must not replace it."""
    import threading

    import chartui.corpus
    release = threading.Event()
    real_load = chartui.corpus.load_corpus

    def load(name, *args, **kwargs):
        if name == "pysource":
            release.wait(30)
        return real_load(name, *args, **kwargs)
    monkeypatch.setattr(chartui.corpus, "load_corpus", load)
    monkeypatch.setattr(chartui.corpus, "peek_corpus", lambda *args, **kwargs: None)
    app = app_for(tmp_path)
    main = app.main
    arrived = []  # the names of the corpora whose CorpusLoaded reached the app

    def watch(message) -> None:
        if isinstance(message, CorpusLoaded):
            arrived.append(message.corpus.name)

    async with app.run_test(size=(100, 32), message_hook=watch) as pilot:
        await settle(pilot, app)
        main.load_corpus("pysource")
        await pilot.pause(0.1)
        main.load_corpus(str(FAQ))
        await wait_for(pilot, lambda: not main.corpus_loading, what="the second corpus")
        release.set()
        await wait_for(pilot, lambda: "pysource" in arrived, what="the slow load to finish late")
        await pilot.pause()  # and its message to be handled
        assert main.corpus.name == "chartui-faq" and main.corpus_name == "chartui-faq"


async def test_help_scrolls_with_the_keyboard_at_80x24(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press(pilot, "question_mark")
        body = app.screen.query_one("#help-body")
        assert app.screen.focused is body and body.max_scroll_y > 0
        await press(pilot, "pagedown")
        await pilot.pause(0.3)
        assert body.scroll_y > 0
        help_screen = app.screen
        await press(pilot, "escape", "question_mark")  # opened again: the same screen, at the top
        await pilot.pause(0.2)
        assert app.screen is help_screen and body.scroll_y == 0 and app.screen.focused is body


async def test_resizing_under_a_dialog_leaves_the_main_screen_right(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        main = app.screen
        await press(pilot, "question_mark")
        await pilot.resize_terminal(50, 14)
        await pilot.pause(0.1)
        assert main.has_class("too-small")
        await pilot.resize_terminal(100, 32)
        await pilot.pause(0.1)
        await press(pilot, "escape")
        assert app.screen is main and not main.has_class("too-small")


async def test_the_first_character_is_on_screen_with_the_enter_that_asked_for_it(
        tmp_path, trained_checkpoint):
    """A short prime is read at once, so the first character is shown by the frame after
    Enter; a long one is read by the worker. Both give the seeded text the CLI gives."""
    from chartui.generation import QUICK_START_PRIME
    checkpoint, model, vocab = trained_checkpoint
    app = app_for(tmp_path, checkpoint=str(checkpoint))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        app.query_one("#seed", Input).value = "3"
        app.query_one("#length", Input).value = "60"
        temperature = main.generation_session.settings.temperature
        main.generate("Th")
        # no await: no worker message can have arrived yet
        assert main.generation_panel.output_text() == sample_text(model, vocab, "Th", 1,
                                                             temperature=temperature, seed=3)
        await wait_for(pilot, lambda: not main.generation_session.streaming, what="the stream")
        assert main.generation_panel.output_text() == sample_text(model, vocab, "Th", 60,
                                                             temperature=temperature, seed=3)
        long_prime = "The model reads the prime one character at a time. " * 2
        assert len(long_prime) > QUICK_START_PRIME
        main.generate(long_prime)
        assert main.generation_panel.output_text() == long_prime  # the worker reads this one
        await wait_for(pilot, lambda: not main.generation_session.streaming,
                       what="the long-primed stream")
        assert main.generation_panel.output_text() == sample_text(
            model, vocab, long_prime, 60, temperature=temperature, seed=3)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
async def test_training_threads_step_back_for_the_ui(tmp_path):
    """The training thread and the torch threads it starts run at a lower priority than the
    UI thread, so a key press gets a core at once."""
    from chartui.tui.training import TRAINING_NICENESS

    def niceness() -> dict[int, int]:
        values = {}
        for task in Path("/proc/self/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended meanwhile
            values[int(task.name)] = int(fields[16])
        return values

    app = app_for(tmp_path, config=small_config(hidden_size=256, batch_size=32))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        ui_niceness = niceness()[threading.get_native_id()]
        await start_training(pilot, app)
        await pilot.pause(0.5)
        stepped_back = [n for n in niceness().values() if n == ui_niceness + TRAINING_NICENESS]
        assert niceness()[threading.get_native_id()] == ui_niceness
        # the trainer, and one of torch's pool threads when it computes on more than one
        assert len(stepped_back) >= (2 if torch.get_num_threads() > 1 else 1)
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")


async def test_the_chart_is_drawn_in_the_background_as_points_arrive(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        chart = main.chart

        def picture() -> list[str]:
            return [chart.render_line(y).text for y in range(chart.size.height)]

        empty = picture()
        assert any("press t to train" in line for line in empty)
        drawn_on = []
        draw = chart.draw
        chart.draw = lambda figure: (drawn_on.append(threading.get_ident()), draw(figure))[1]
        for step in range(1, 301):
            chart.add_point(step, 4.0 - step / 100, 3.5 - step / 100 if step % 50 == 0 else None)
        assert picture() == empty  # nothing drawn on the UI thread
        await wait_for(pilot, lambda: picture() != empty, timeout=10, what="a redraw")
        assert drawn_on and threading.get_ident() not in drawn_on
        expected = draw(chart.figure())
        assert picture() == [line.text for line in expected]
        assert any("300" in line for line in picture())  # the step axis reaches the last point
        # A background drawing that finishes after replot() drew newer points is dropped.
        for step in range(301, 401):
            chart.add_point(step, 1.0, None)
        chart._redraw_if_dirty()  # starts drawing steps 1-400 in the background
        chart.set_history([(s, 2.0) for s in range(1, 51)], [])
        chart.replot()  # steps 1-50, drawn at once
        newest = picture()
        await wait_for(pilot, lambda: not chart._drawing, timeout=10, what="the late drawing")
        await pilot.pause(0.3)
        assert picture() == newest and not any("400" in line for line in newest)


async def test_an_empty_prime_or_one_of_unseen_characters_still_generates(tmp_path,
                                                                          trained_checkpoint):
    checkpoint, _, _ = trained_checkpoint
    app = app_for(tmp_path, checkpoint=str(checkpoint))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        seen = record_notifications(app)
        app.query_one("#length", Input).value = "30"
        for prime in ("", "\u20ac\u00e9"):
            main.generate(prime)
            await wait_for(pilot, lambda: not main.generation_session.streaming, what="the stream")
            assert len(main.generation_panel.output_text()) == len(prime) + 30
        warnings = [message for severity, message in seen if severity == "warning"]
        assert warnings == ["the model never saw '\u20ac' '\u00e9'; those characters of the "
                            "prime are skipped"]
