"""The neuron view in the real app: v colours a text by one LSTM unit; keys move and rank."""

from textual.widgets import Input, Static

from chartui.neurons import FEATURES, activation_levels, activations, rank_units
from chartui.tui.checkpoints import OpenedModel
from chartui.tui.screens.neurons import LEVEL_STYLES, TEXT_CHARS, NeuronScreen

from helpers import train_checkpoint
from tui_helpers import app_for, press, settle, small_config, wait_for


def shown(screen) -> tuple[str, list[str]]:
    """The coloured text on the screen: its characters and each one's style."""
    text = screen.query_one("#neuron-text", Static).content
    styles = [""] * len(text.plain)
    for span in text.spans:
        styles[span.start:span.end] = [str(span.style)] * (span.end - span.start)
    return text.plain, styles


def expected_styles(acts, layer, kind, unit) -> list[str]:
    """A style per shown character (a newline shows as a coloured space, then the break)."""
    styles = []
    for char, level in zip(acts.text, activation_levels(acts.unit(layer, kind, unit)), strict=True):
        styles += [LEVEL_STYLES[level]] * (2 if char == "\n" else 1)
    return styles


def header(screen) -> str:
    return str(screen.query_one("#neuron-header", Static).content)


async def test_neuron_view_colours_text_by_one_unit_and_ranks_units(tmp_path):
    checkpoint, model, vocab = train_checkpoint(tmp_path, small_config(iterations=30,
                                                                     num_layers=2))
    app = app_for(tmp_path, checkpoint=str(checkpoint))
    main = app.main
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")

        # Before any generation it reads the start of the corpus; s has nothing to switch to.
        await press(pilot, "v")
        screen = app.screen
        assert isinstance(screen, NeuronScreen)
        await wait_for(pilot, lambda: screen.acts is not None, what="activations")
        assert screen.acts.text == main.corpus.text(0, TEXT_CHARS)
        await press(pilot, "s")
        await pilot.pause(0.1)
        assert any("generate some text" in str(toast.render())
                   for toast in app.screen.query("Toast"))
        await press(pilot, "escape")
        assert app.screen is not screen

        app.query_one("#length", Input).value = "400"
        app.query_one("#seed", Input).value = "5"
        main.generate("The ")
        await wait_for(pilot, lambda: main.generation_panel.worker is None, what="generation")
        text = main.generation_panel.output_text()
        await press(pilot, "v")
        screen = app.screen
        await wait_for(pilot, lambda: screen.acts is not None, what="activations")
        acts = activations(model, vocab, text)
        assert screen.acts.text == text and "generated text" in screen.query_one(
            "#neuron-view").border_subtitle

        # It opens on the unit that tracks the first feature best, coloured by that unit.
        best = rank_units(acts, FEATURES["inside quotes"](text))[0]
        assert (screen.lstm_layer, screen.kind, screen.unit) == best[:3]
        plain, styles = shown(screen)
        assert plain == text.replace("\n", " \n")
        assert styles == expected_styles(acts, *best[:3])
        assert f"unit {best.unit} of 48" in header(screen)

        # right: the next unit and its colours; k: the cell state; down: the second layer
        await press(pilot, "right")
        unit = (best.unit + 1) % 48
        assert screen.unit == unit and f"unit {unit} of 48" in header(screen)
        assert shown(screen)[1] == expected_styles(acts, best.layer, best.kind, unit)
        await press(pilot, "k")
        other_kind = "c" if best.kind == "h" else "h"
        assert screen.kind == other_kind
        assert ("cell tanh(c)" if other_kind == "c" else "hidden h") in header(screen)
        await press(pilot, "down")
        layer = (best.layer + 1) % 2
        assert screen.lstm_layer == layer and f"layer {layer + 1}/2" in header(screen)
        assert shown(screen)[1] == expected_styles(acts, layer, other_kind, unit)

        # f: the next feature and its best unit, with its correlation; b: the runner-up
        await press(pilot, "f")
        ranking = rank_units(acts, FEATURES["position in the line"](text))
        assert (screen.lstm_layer, screen.kind, screen.unit) == ranking[0][:3]
        assert (f"r {ranking[0].correlation:+.2f} with “position in the line” · #1 of 192"
                in header(screen))
        assert shown(screen)[1] == expected_styles(acts, *ranking[0][:3]) != styles
        await press(pilot, "b")
        assert (screen.lstm_layer, screen.kind, screen.unit) == ranking[1][:3]
        assert f"r {ranking[1].correlation:+.2f}" in header(screen) and "#2 of" in header(screen)

        # s: the same unit over the start of the corpus
        await press(pilot, "s")
        await wait_for(pilot, lambda: screen.acts is not None and screen.acts.text != text,
                       what="the corpus read")
        assert screen.acts.text == main.corpus.text(0, TEXT_CHARS)
        assert (screen.lstm_layer, screen.kind, screen.unit) == ranking[1][:3]
        await press(pilot, "escape")
        assert not isinstance(app.screen, NeuronScreen)


async def test_neuron_view_of_a_broken_model_says_so_in_one_sentence(tmp_path):
    import torch

    from chartui.model import CharRNN, ModelConfig
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        model = CharRNN(ModelConfig(len(main.corpus.vocab), embedding_dim=8, hidden_size=8))
        with torch.no_grad():
            model.cells[0].bias_ih.fill_(float("nan"))
        main.checkpoints.opened = OpenedModel(model, main.corpus.vocab, "broken.pt")
        await press(pilot, "v")
        screen = app.screen
        await wait_for(pilot, lambda: "not finite" in header(screen), what="the error")
        await press(pilot, "right", "f")  # nothing to move through: no crash
        assert app.is_running and app.screen is screen and screen.acts is None


async def test_neuron_view_without_a_model_is_a_notice(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await press(pilot, "v")
        await pilot.pause(0.1)
        assert app.is_running and not isinstance(app.screen, NeuronScreen)
        assert any("no model yet" in str(toast.render()) for toast in app.screen.query("Toast"))
        await press(pilot, "question_mark")
        assert any(key == "v" and binding_id == "neurons" and "colour text" in description
                   for key, description, binding_id in app.screen.keys)


async def test_neuron_view_of_a_gru_offers_only_h(tmp_path):
    import torch

    from chartui.model import CharRNN, ModelConfig
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        torch.manual_seed(0)
        model = CharRNN(ModelConfig(len(main.corpus.vocab), embedding_dim=8, hidden_size=8,
                                    cell="gru")).eval()
        main.checkpoints.opened = OpenedModel(model, main.corpus.vocab, "gru.pt")
        await press(pilot, "v")
        screen = app.screen
        assert isinstance(screen, NeuronScreen)
        await wait_for(pilot, lambda: screen.acts is not None, what="activations")
        assert screen.acts.kinds == ("h",) and screen.kind == "h"
        assert "hidden h" in header(screen) and "#1 of 8" in header(screen)
        await press(pilot, "k")  # no cell state to switch to: a notice, and h stays
        await pilot.pause(0.1)
        assert screen.kind == "h" and "hidden h" in header(screen)
        assert any("has no cell state" in str(toast.render())
                   for toast in app.screen.query("Toast"))
