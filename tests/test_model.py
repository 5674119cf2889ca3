import numpy as np
import torch
from torch.nn import functional as F

from chartui.config import preset
from chartui.model import CharRNN, ModelConfig
from chartui.stepper import CellStepper


def _loss_and_grads(model, x, y, engine):
    model.zero_grad()
    logits, state = model(x, engine=engine)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()}, state


def test_fast_and_cell_paths_agree_on_loss_gradients_and_state():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=30, embedding_dim=12, hidden_size=20,
                                 num_layers=2, dropout=0.0)).double()
    x = torch.randint(0, 30, (3, 17))
    y = torch.randint(0, 30, (3, 17))
    loss_fast, grads_fast, (h_fast, c_fast) = _loss_and_grads(model, x, y, "fast")
    loss_cell, grads_cell, (h_cell, c_cell) = _loss_and_grads(model, x, y, "cell")
    assert abs(loss_fast - loss_cell) < 1e-10
    for name in grads_fast:
        assert torch.allclose(grads_fast[name], grads_cell[name], atol=1e-10), name
    assert torch.allclose(h_fast, h_cell) and torch.allclose(c_fast, c_cell)


def test_numpy_stepper_matches_the_cells_and_continues_a_state():
    torch.manual_seed(1)
    model = CharRNN(ModelConfig(vocab_size=10, embedding_dim=4, hidden_size=8,
                                 num_layers=2)).eval()
    x = torch.randint(0, 10, (1, 12))
    with torch.no_grad():
        logits, _ = model(x, engine="cell")
        _, state = model(x[:, :5], engine="cell")
    stepper = CellStepper(model)
    stepper.set_state(state)
    stepped = [stepper.step(int(i)) for i in x[0, 5:]]
    assert np.allclose(logits[0, 5:].numpy(), np.stack(stepped), atol=1e-5)


def test_lesson_preset_builds_the_lessons_model():
    c = preset("lesson")
    model = CharRNN(ModelConfig(100, c.embedding_dim, c.hidden_size, c.num_layers, c.dropout))
    assert tuple(model.embedding.weight.shape) == (100, 100)
    assert len(model.cells) == 1 and isinstance(model.cells[0], torch.nn.LSTMCell)
    assert (model.cells[0].input_size, model.cells[0].hidden_size) == (100, 128)
    assert tuple(model.head.weight.shape) == (100, 128)
    assert tuple(model.init_state(1)[0].shape) == (1, 1, 128)
