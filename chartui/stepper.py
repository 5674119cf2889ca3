"""CellStepper: a CharRNN's cells copied into NumPy, for one character at a time.

Generation runs the cells once per character at batch 1. There, PyTorch spends more time
dispatching small operators (and waking its thread pool) than doing the arithmetic, so the
stepper does the same maths as PyTorch's cells in NumPy on a copy of the weights. With
`a = W_ih x + b_ih` (the input's part) and `b = W_hh h + b_hh` (the state's part):

    LSTMCell   gates = a + b, split into i, f, g, o
               c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
               h' = sigmoid(o) * tanh(c')
    GRUCell    a and b split into r, z, n (PyTorch's order)
               r = sigmoid(a_r + b_r)    z = sigmoid(a_z + b_z)
               n = tanh(a_n + r * b_n)   (b_n = W_hn h + b_hn: the reset gate scales its bias too)
               h' = (1 - z) * n + z * h
    RNNCell    h' = tanh(a + b)

A GRU or plain RNN has no cell state: its c stays as it was (zeros).

The first layer's input is an embedding row, so its `W_ih x + b_ih` is looked up from a
precomputed (vocabulary, gates * hidden) table instead of multiplied out each step. The
recurrent bias `b_hh` is added to that input side too, except where the maths needs it inside:
the GRU's n part, which the reset gate multiplies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from chartui.config import CELL_GATES
from chartui.model import CharRNN, State


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the same function, and it never overflows


# One cell's update: (input part a, state part b, h, c) -> (h', c'); see the module's docstring.
Update = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                  tuple[np.ndarray, np.ndarray]]


def _lstm(a: np.ndarray, b: np.ndarray, h: np.ndarray, c: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    gates = a + b
    size = len(h)
    c = (_sigmoid(gates[size:2 * size]) * c
         + _sigmoid(gates[:size]) * np.tanh(gates[2 * size:3 * size]))
    return _sigmoid(gates[3 * size:]) * np.tanh(c), c


def _gru(a: np.ndarray, b: np.ndarray, h: np.ndarray, c: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    size = len(h)
    rz = _sigmoid(a[:2 * size] + b[:2 * size])
    r, z = rz[:size], rz[size:]
    n = np.tanh(a[2 * size:] + r * b[2 * size:])
    return n + z * (h - n), c  # (1 - z) * n + z * h


def _rnn(a: np.ndarray, b: np.ndarray, h: np.ndarray, c: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    return np.tanh(a + b), c


# Each cell's update, and how many of its last gates keep their part of b_hh on the state side.
_MATHS: dict[str, tuple[Update, int]] = {"lstm": (_lstm, 0), "gru": (_gru, 1), "rnn": (_rnn, 0)}


class CellStepper:
    """Steps a snapshot of a model's cells; `h` and `c` hold each layer's state (hidden,)."""

    def __init__(self, model: CharRNN):
        cells = list(model.cells)
        size = self.hidden_size = model.config.hidden_size
        self.has_cell_state = model.has_cell_state
        self._update, inner_gates = _MATHS[model.config.cell]
        inner = (CELL_GATES[model.config.cell] - inner_gates) * size  # where b_hh stays inside
        outer_biases = []  # b_ih plus the part of b_hh that goes on the input side
        self.state_biases = []  # the part of b_hh that stays on the state side (or None)
        for cell in cells:
            b_ih, b_hh = _array(cell.bias_ih), _array(cell.bias_hh)
            outer = b_ih.copy()
            outer[:inner] += b_hh[:inner]
            outer_biases.append(outer)
            self.state_biases.append(None if inner == len(b_hh) else
                                     np.concatenate([np.zeros(inner, np.float32), b_hh[inner:]]))
        self.input_table = (_array(model.embedding.weight) @ _array(cells[0].weight_ih).T
                            + outer_biases[0])
        self.input_weights = [_array(cell.weight_ih).T.copy() for cell in cells[1:]]
        self.input_biases = outer_biases[1:]
        self.recurrent_weights = [_array(cell.weight_hh).T.copy() for cell in cells]
        self.head_weight = _array(model.head.weight).T.copy()
        self.head_bias = _array(model.head.bias)
        self.h = [np.zeros(size, np.float32) for _ in cells]
        self.c = [np.zeros(size, np.float32) for _ in cells]

    def set_state(self, state: State) -> None:
        """Continue from a (h, c) state of shape (layers, 1, hidden), as the model returns."""
        self.h = [_array(h[0]) for h in state[0]]
        self.c = [_array(c[0]) for c in state[1]]

    def step(self, index: int) -> np.ndarray:
        """Feed one character id; return the logits for the next character."""
        x = None  # the layer below's output, for layers above the first
        for layer in range(len(self.h)):
            if layer == 0:
                a = self.input_table[index]
            else:
                a = x @ self.input_weights[layer - 1] + self.input_biases[layer - 1]
            b = self.h[layer] @ self.recurrent_weights[layer]
            if self.state_biases[layer] is not None:
                b = b + self.state_biases[layer]
            x, self.c[layer] = self._update(a, b, self.h[layer], self.c[layer])
            self.h[layer] = x
        return x @ self.head_weight + self.head_bias
