"""The neuron view's maths: activations, nameable features, ranking units by a feature."""

import itertools
import warnings

import numpy as np
import pytest
import torch

from chartui.model import CharRNN, ModelConfig
from chartui.neurons import (
    FEATURES,
    UNREAD,
    Activations,
    activation_levels,
    activations,
    correlations,
    rank_units,
)
from chartui.vocab import Vocabulary


def feature(name, text):
    return FEATURES[name](text).tolist()


def test_inside_quotes_from_the_opening_quote_to_the_closing_one():
    assert feature("inside quotes", 'a "bc" d') == [0, 0, 1, 1, 1, 0, 0, 0]
    assert feature("inside quotes", "“ab” c") == [1, 1, 1, 0, 0, 0]
    # an unclosed quote ends at a blank line, not at a single newline
    assert feature("inside quotes", '"a\nb\n\nc') == [1, 1, 1, 1, 1, 0, 0]


def test_position_in_the_line_counts_columns():
    assert feature("position in the line", "ab\ncde\n\nf") == [1, 2, 0, 1, 2, 3, 0, 0, 1]


def test_inside_brackets_of_every_kind_and_nesting():
    assert feature("inside brackets", "f(a[1]) {x} )y") == \
        [0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]


def test_word_starts_digits_and_newlines():
    text = "Hi 42, x_y\nz"
    assert feature("start of a word", text) == [1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1]
    assert feature("in a number", text) == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert feature("after a newline", text) == [0] * 10 + [1, 0]


def synthetic(text, layers=2, hidden=6, seed=0):
    """Random activations for `text`, as if every character had been read."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1, 1, (layers, 2, len(text), hidden)).astype(np.float32)
    return Activations(text, np.ones(len(text), dtype=bool), values)


def test_ranking_finds_a_planted_unit_and_its_sign():
    text = 'say "hello" and (then) "bye" now\n' * 8
    acts = synthetic(text)
    quotes = FEATURES["inside quotes"](text)
    acts.values[1, 1, :, 4] = 0.8 * quotes - 0.3  # cell unit 4 of layer 2 follows the quotes
    acts.values[0, 0, :, 2] = -0.5 * quotes + 0.05 * acts.values[0, 0, :, 2]  # h 2 inversely
    ranking = rank_units(acts, quotes)
    assert len(ranking) == 2 * 2 * 6
    assert ranking[0][:3] == (1, "c", 4) and ranking[0].correlation == pytest.approx(1.0)
    assert ranking[1][:3] == (0, "h", 2) and ranking[1].correlation < -0.9
    assert all(abs(a.correlation) >= abs(b.correlation) for a, b in itertools.pairwise(ranking))


def test_constant_units_and_features_correlate_zero_without_warnings():
    acts = synthetic("abc (d) e\n" * 5)
    acts.values[0, 0, :, 0] = 0.1  # a unit that never changes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = correlations(acts, FEATURES["inside quotes"](acts.text))  # no quotes at all
        assert not table.any()
        table = correlations(acts, FEATURES["inside brackets"](acts.text))
    assert table[0, 0, 0] == 0 and np.abs(table).max() > 0


def one_hot_model(vocab, newline_unit=2, hidden=4):
    """A model whose cell `newline_unit` is +1 after a newline and -1 after anything else:
    it forgets its state every step and writes tanh(±10) into that unit; other units stay 0."""
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(len(vocab), embedding_dim=len(vocab), hidden_size=hidden))
    cell = model.cells[0]
    with torch.no_grad():
        model.embedding.weight.copy_(torch.eye(len(vocab)))
        for tensor in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh):
            tensor.zero_()
        i, f, g, o = (gate * hidden + newline_unit for gate in range(4))
        cell.bias_ih[i], cell.bias_ih[f], cell.bias_ih[o] = 10.0, -10.0, 10.0
        cell.weight_ih[g] = -10.0
        cell.weight_ih[g, vocab.index["\n"]] = 10.0
    return model


def test_a_planted_cell_in_a_real_model_tops_the_ranking():
    text = "one line\nand another one\nthird\n"
    vocab = Vocabulary.from_text(text)
    acts = activations(one_hot_model(vocab), vocab, text)
    newline = FEATURES["after a newline"](text)
    cell = acts.unit(0, "c", 2)
    assert np.allclose(cell, np.where(newline == 1, np.tanh(1.0), -np.tanh(1.0)), atol=1e-3)
    best = rank_units(acts, newline)[:2]
    assert {score[:3] for score in best} == {(0, "h", 2), (0, "c", 2)}
    assert all(score.correlation == pytest.approx(1.0, abs=1e-4) for score in best)


def test_activations_match_the_torch_model_and_skip_unknown_characters():
    vocab = Vocabulary.from_text("abc \n")
    torch.manual_seed(3)
    model = CharRNN(ModelConfig(len(vocab), embedding_dim=5, hidden_size=7, num_layers=2)).eval()
    text = "ab? ca\nb!c"
    acts = activations(model, vocab, text)
    unread = [text.index("?"), text.index("!")]
    assert acts.read.tolist() == [char not in "?!" for char in text]
    assert np.isnan(acts.values[:, :, unread]).all()
    with torch.no_grad():
        _, (h, c) = model(torch.from_numpy(vocab.encode(text, unknown="skip"))[None])
    assert np.allclose(acts.values[:, 0, -1], h[:, 0].numpy(), atol=1e-5)
    assert np.allclose(acts.values[:, 1, -1], np.tanh(c[:, 0].numpy()), atol=1e-5)
    levels = activation_levels(acts.unit(1, "c", 3))
    assert levels[unread].tolist() == [UNREAD, UNREAD]
    assert set(levels[acts.read].tolist()) <= {0, 1, 2, 3, 4}


def test_activation_levels_and_stopping_early():
    values = np.array([-0.9, -0.3, 0.0, 0.05, 0.3, 0.7, np.nan])
    assert activation_levels(values).tolist() == [0, 1, 2, 2, 3, 4, UNREAD]
    vocab = Vocabulary.from_text("ab")
    model = CharRNN(ModelConfig(len(vocab), embedding_dim=3, hidden_size=4))
    assert activations(model, vocab, "abab", should_stop=lambda: True) is None


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_cells_without_a_cell_state_record_and_rank_only_h(cell):
    vocab = Vocabulary.from_text("abc (\"d\") e\n")
    torch.manual_seed(4)
    model = CharRNN(ModelConfig(len(vocab), embedding_dim=5, hidden_size=7, num_layers=2,
                                cell=cell)).eval()
    text = 'ab "c" (d) e\n' * 4
    acts = activations(model, vocab, text)
    assert acts.kinds == ("h",) and acts.values.shape == (2, 1, len(text), 7)
    with torch.no_grad():
        _, (h, _) = model(torch.from_numpy(vocab.encode(text))[None])
    assert np.allclose(acts.values[:, 0, -1], h[:, 0].numpy(), atol=1e-5)
    assert np.allclose(acts.unit(1, "h", 3), acts.values[1, 0, :, 3])
    ranking = rank_units(acts, FEATURES["inside quotes"](text))
    assert len(ranking) == 2 * 7 and {score.kind for score in ranking} == {"h"}
    lstm = activations(CharRNN(ModelConfig(len(vocab), 5, 7, 2)), vocab, text)
    assert lstm.kinds == ("h", "c") and lstm.values.shape[1] == 2
