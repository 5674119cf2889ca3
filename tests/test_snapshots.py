"""Pictures of the app (pytest-textual-snapshot), from fixed data only: never live training.

Update the pictures after an intended change with `python -m pytest tests/test_snapshots.py
--snapshot-update`, then look at them (`snapshot_report.html`) before committing.
"""

import math

import pytest
from textual.widgets import Input

from chartui.corpus import corpus_from_text
from chartui.progress import RunState
from chartui.runs import RunRecord, write_run
from chartui.tui.app import make_app
from chartui.tui.checkpoints import OpenedModel
from chartui.tui.widgets.loss_chart import SampleView

from tui_helpers import small_config

DEMO_TEXT = """\
Why does the model repeat itself at low temperature?
Because a low temperature sharpens the distribution: the likeliest character wins more often,
so common words and phrases come back again and again. Raise the temperature a little (press ])
and the text becomes more varied, and also more often wrong.

What is a "character-level" model?
It reads and writes one character at a time (letters, spaces, newlines, brackets), so it has to
learn spelling before it can learn words, and words before it can learn (short) sentences.

How long should I train?
Watch the validation loss: while it falls, the model is still learning things that generalise;
when it rises while the training loss keeps falling, the model has started to memorise.
"""

GENERATED = ("The model learns to spell before it learns to mean, and the loss falls "
             "slowly while the text gets better: first spaces, then short words, then "
             "longer words with the right endings.")


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch):
    for name in ("TEXTUAL_THEME", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM", "CHARTUI_CORPORA",
                 "CHARTUI_KEYMAP"):
        monkeypatch.delenv(name, raising=False)


def demo_app():
    return make_app(corpus=corpus_from_text(DEMO_TEXT, name="demo"), config=small_config(),
                    checkpoint_dir="checkpoints-snapshot", device="cpu",
                    load_user_keymap=False, generation_pace=0)


async def steady(pilot):
    app = pilot.app
    main = app.main
    app.animation_level = "none"
    while main.corpus is None:
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)
    for box in app.screen.query(Input):
        box.cursor_blink = False


def steady_after(*keys: str):
    """`steady`, then `keys` pressed and the screen they open made still: its text boxes'
    cursors stop blinking (a blinking cursor is there in one capture and not in the next)."""
    async def run_before(pilot):
        await steady(pilot)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()
    return run_before


async def with_history(pilot):
    """A fixed loss history, status and generated text, as if a run had been paused."""
    await steady(pilot)
    app = pilot.app
    main = app.main
    train = [(s, 1.45 + 2.9 * math.exp(-s / 260) + 0.08 * math.sin(s / 7))
             for s in range(1, 1201, 3)]
    val = [(s, 1.5 + 2.7 * math.exp(-s / 260)) for s in range(200, 1201, 200)]
    main.chart.set_history(train, val)
    main.chart.replot()
    main.status.show(state=RunState.PAUSED, step=1200, total_steps=3000, chars_per_s=31_500,
                    elapsed_s=41, eta_s=62, best_val_loss=val[-1][1], device="cpu")
    app.query_one(SampleView).show_sample(1200, "The model wirtes one character at a time, "
                                                "and the loss falls.")
    main.generation_panel.console.begin("The ")
    main.generation_panel.console.append(GENERATED[4:])
    await pilot.pause(0.3)
    main.chart.replot()  # the same picture whatever the redraw timer did meanwhile
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen_before_training(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=steady)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen_with_history_and_text(snap_compare, size):
    assert snap_compare(demo_app(), terminal_size=size, run_before=with_history)


def test_recent_view_of_the_chart_in_bits(snap_compare):
    """At 80×24 the whole run leaves the chart three rows; the recent view fits them to the
    later losses."""
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=["l", "b"],
                        run_before=with_history)


def test_settings_screen(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=steady_after("e"))


def test_help_screen(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=["question_mark"],
                        run_before=steady)


def test_corpus_picker(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=steady_after("c"))


def test_too_small_terminal(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(50, 14), run_before=steady)


async def neuron_view_of_a_seeded_model(pilot):
    """The neuron view over the demo text, for an untrained model with a fixed seed."""
    import torch

    from chartui.model import CharRNN, ModelConfig
    await steady(pilot)
    app = pilot.app
    main = app.main
    torch.manual_seed(5)
    model = CharRNN(ModelConfig(len(main.corpus.vocab), embedding_dim=16, hidden_size=32,
                                 num_layers=2))
    main.checkpoints.opened = OpenedModel(model, main.corpus.vocab, "seeded.pt")
    await pilot.press("v")
    await app.screen.workers.wait_for_complete()
    await pilot.pause(0.2)


def test_neuron_view(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24),
                        run_before=neuron_view_of_a_seeded_model)


def fixed_run(day: int, corpus: str, hidden: int, lr: float, steps: int, state: str,
              start_loss: float, cell: str = "lstm") -> RunRecord:
    """A run log with a made-up validation curve every 200 steps."""
    val = [(s, 1.4 + start_loss * math.exp(-s / 300)) for s in range(200, steps + 1, 200)]
    return RunRecord(
        id=f"202611{day:02d}-093000-{corpus}-0a{day:02d}",
        started_at=f"2026-11-{day:02d}T09:30:00.000+01:00",
        corpus={"name": corpus, "source": corpus, "fingerprint": "0"},
        config=small_config(hidden_size=hidden, lr=lr, batch_size=32, cell=cell).to_dict(),
        parameters=100_000, device="cpu", state=state, step=steps, elapsed_s=steps / 10,
        chars_per_s=31_500 - 1_000 * day, average_chars_per_s=29_000, val_history=val,
        train_history=[(s, v + 0.05) for s, v in val], best_val_loss=min(v for _, v in val))


@pytest.mark.parametrize("keys", [["down", "space", "down", "space"],
                                  ["down", "space", "down", "space", "enter"]],
                         ids=["table", "comparison"])
def test_runs_screen(snap_compare, tmp_path, monkeypatch, keys):
    monkeypatch.chdir(tmp_path)  # demo_app's checkpoint folder is a relative path
    for run in [fixed_run(11, "pydocs", 256, 0.01, 3000, "finished", 2.8),
                fixed_run(12, "chartui-faq", 128, 0.005, 1400, "stopped", 2.5, "gru"),
                fixed_run(13, "tiny-shakespeare", 512, 0.002, 2400, "time_limit", 2.2),
                fixed_run(14, "pydocs", 256, 0.02, 200, "diverged", 3.0)]:
        write_run(run, "checkpoints-snapshot")
    assert snap_compare(demo_app(), terminal_size=(80, 24), press=["r", *keys],
                        run_before=steady)
