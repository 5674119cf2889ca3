import numpy as np
import pytest
import torch
from torch.nn import functional as F

from chartui.config import CELLS, PRESETS, TrainConfig, parameter_count, preset
from chartui.errors import ChartuiError
from chartui.model import CELL_TYPES, CharRNN, ModelConfig
from chartui.stepper import CellStepper


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_fast_and_cell_paths_agree_on_loss_gradients_and_state(cell, layers):
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=30, embedding_dim=12, hidden_size=20,
                                 num_layers=layers, dropout=0.0, cell=cell)).double()
    x = torch.randint(0, 30, (3, 17))
    y = torch.randint(0, 30, (3, 17))
    start = tuple(torch.randn(layers, 3, 20, dtype=torch.double) for _ in range(2))
    results = {}
    for engine in ("fast", "cell"):
        model.zero_grad()
        logits, state = model(x, start, engine=engine)
        loss = F.cross_entropy(logits.reshape(-1, 30), y.reshape(-1))
        loss.backward()
        results[engine] = (loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()},
                           state)
    (loss_fast, grads_fast, (h_fast, c_fast)) = results["fast"]
    (loss_cell, grads_cell, (h_cell, c_cell)) = results["cell"]
    assert abs(loss_fast - loss_cell) < 1e-10
    for name in grads_fast:
        assert torch.allclose(grads_fast[name], grads_cell[name], atol=1e-10), name
    assert torch.allclose(h_fast, h_cell) and torch.allclose(c_fast, c_cell)
    # the weights really are the named cell's, and only the LSTM moves its cell state
    assert all(isinstance(c, type(CELL_TYPES[cell].module(1, 1))) for c in model.cells)
    assert model.has_cell_state == (cell == "lstm")
    if model.has_cell_state:
        assert not torch.equal(c_fast, start[1])
    else:  # c passes through unchanged
        assert torch.equal(c_fast, start[1]) and torch.equal(c_cell, start[1])


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_stepper_matches_the_cells_and_continues_a_state(cell, layers):
    torch.manual_seed(1)
    model = CharRNN(ModelConfig(vocab_size=10, embedding_dim=4, hidden_size=8,
                                 num_layers=layers, cell=cell))
    with torch.no_grad():  # biases away from zero, so that a misplaced bias shows
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.5)
    model.eval()
    x = torch.randint(0, 10, (1, 40))
    with torch.no_grad():
        logits, _ = model(x, engine="cell")
        _, state = model(x[:, :5], engine="cell")
    stepper = CellStepper(model)
    from_zero = np.stack([stepper.step(int(i)) for i in x[0]])
    assert np.allclose(logits[0].numpy(), from_zero, atol=1e-5)
    stepper.set_state(state)
    stepped = [stepper.step(int(i)) for i in x[0, 5:]]
    assert np.allclose(logits[0, 5:].numpy(), np.stack(stepped), atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_parameter_count_follows_the_cell(cell):
    """LSTM 4x, GRU 3x, RNN 1x the weights of one gate, as the README's table says."""
    config = TrainConfig(embedding_dim=7, hidden_size=11, num_layers=2, cell=cell)
    model = CharRNN(ModelConfig(13, 7, 11, 2, cell=cell))
    assert parameter_count(config, 13) == model.num_parameters()
    gate = 11 * (7 + 11 + 2) + 11 * (11 + 11 + 2)  # one gate's weights and biases, both layers
    assert model.num_parameters() - (13 * 7 + 11 * 13 + 13) == \
        {"lstm": 4, "gru": 3, "rnn": 1}[cell] * gate


def test_a_config_without_a_cell_is_an_lstm_and_an_unknown_cell_is_refused():
    old = {"vocab_size": 9, "embedding_dim": 4, "hidden_size": 6, "num_layers": 1,
           "dropout": 0.0}  # as checkpoints wrote it before cells could be chosen
    model = CharRNN(ModelConfig.from_dict(old))
    assert model.config.cell == "lstm" and isinstance(model.cells[0], torch.nn.LSTMCell)
    assert tuple(CELL_TYPES) == CELLS
    assert {config.cell for config in PRESETS.values()} == {"lstm"}  # the presets stay LSTMs
    with pytest.raises(ChartuiError, match="unknown cell 'foo'; use one of: lstm, gru, rnn"):
        CharRNN(ModelConfig(9, cell="foo"))
    with pytest.raises(KeyError):  # any other field is still required
        ModelConfig.from_dict({k: v for k, v in old.items() if k != "hidden_size"})


def test_lesson_preset_builds_the_lessons_model():
    c = preset("lesson")
    model = CharRNN(ModelConfig(100, c.embedding_dim, c.hidden_size, c.num_layers, c.dropout))
    assert tuple(model.embedding.weight.shape) == (100, 100)
    assert len(model.cells) == 1 and isinstance(model.cells[0], torch.nn.LSTMCell)
    assert (model.cells[0].input_size, model.cells[0].hidden_size) == (100, 128)
    assert tuple(model.head.weight.shape) == (100, 128)
    assert tuple(model.init_state(1)[0].shape) == (1, 1, 128)
