"""CellStepper: a CharRNN's LSTMCells copied into NumPy, for one character at a time.

Generation runs the cells once per character at batch 1. There, PyTorch spends more time
dispatching small operators (and waking its thread pool) than doing the arithmetic, so the
stepper does the same maths as `nn.LSTMCell` in NumPy on a copy of the weights:

    gates = W_ih x + b_ih + W_hh h + b_hh         split into i, f, g, o
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h' = sigmoid(o) * tanh(c')

The first layer's input is an embedding row, so `W_ih x + b_ih + b_hh` is looked up from a
precomputed (vocabulary, 4 * hidden) table instead of multiplied out each step.
"""

from __future__ import annotations

import numpy as np
import torch

from chartui.model import CharRNN, State


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the same function, and it never overflows


class CellStepper:
    """Steps a snapshot of a model's cells; `h` and `c` hold each layer's state (hidden,)."""

    def __init__(self, model: CharRNN):
        cells = list(model.cells)
        first = cells[0]
        self.hidden_size = model.config.hidden_size
        self.input_table = (_array(model.embedding.weight) @ _array(first.weight_ih).T
                            + _array(first.bias_ih) + _array(first.bias_hh))
        self.input_weights = [_array(cell.weight_ih).T.copy() for cell in cells[1:]]
        self.input_biases = [_array(cell.bias_ih) + _array(cell.bias_hh) for cell in cells[1:]]
        self.recurrent_weights = [_array(cell.weight_hh).T.copy() for cell in cells]
        self.head_weight = _array(model.head.weight).T.copy()
        self.head_bias = _array(model.head.bias)
        self.h = [np.zeros(self.hidden_size, np.float32) for _ in cells]
        self.c = [np.zeros(self.hidden_size, np.float32) for _ in cells]

    def set_state(self, state: State) -> None:
        """Continue from a (h, c) state of shape (layers, 1, hidden), as the model returns."""
        self.h = [_array(h[0]) for h in state[0]]
        self.c = [_array(c[0]) for c in state[1]]

    def step(self, index: int) -> np.ndarray:
        """Feed one character id; return the logits for the next character."""
        size = self.hidden_size
        x = None  # the layer below's output, for layers above the first
        for layer in range(len(self.h)):
            if layer == 0:
                gates = self.input_table[index] + self.h[0] @ self.recurrent_weights[0]
            else:
                gates = (x @ self.input_weights[layer - 1] + self.input_biases[layer - 1]
                         + self.h[layer] @ self.recurrent_weights[layer])
            c = (_sigmoid(gates[size:2 * size]) * self.c[layer]
                 + _sigmoid(gates[:size]) * np.tanh(gates[2 * size:3 * size]))
            x = _sigmoid(gates[3 * size:]) * np.tanh(c)
            self.h[layer], self.c[layer] = x, c
        return x @ self.head_weight + self.head_bias
