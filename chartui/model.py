"""CharRNN: Embedding -> recurrent cell layers (LSTM, GRU or plain RNN) -> dropout -> Linear.

With one LSTM layer, embedding 100 and hidden 128 this is exactly the LSTMCell lesson's model.
The cell is `nn.LSTMCell` (the default), `nn.GRUCell` or `nn.RNNCell` (tanh), as char-rnn's
`-model lstm|gru|rnn`. A whole sequence can run two ways over the same parameters:
  - engine="cell": the lesson's explicit loop, one cell call per character;
  - engine="fast": the cell's own weights handed to PyTorch's fused kernel (`torch.lstm`,
    `torch.gru` or `torch.rnn_tanh`, the kernels behind `nn.LSTM`, `nn.GRU` and `nn.RNN`),
    one call per layer.
Generation steps a NumPy copy of the same cells one character at a time (chartui.stepper).

The state is always a pair (h, c), whatever the cell, so that sampling, beam search, carried
streams and checkpoints need no special case. Only the LSTM has a cell state c: for a GRU or a
plain RNN (`CharRNN.has_cell_state` is False) c is zeros and passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

import torch
from torch import nn

from chartui.config import CELLS, ENGINES
from chartui.errors import ChartuiError

State = tuple[torch.Tensor, torch.Tensor]  # h and c, each (layers, batch, hidden)


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a CharRNN; saved in checkpoints so the model can be rebuilt."""

    vocab_size: int
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    cell: str = "lstm"  # one of CELLS (checkpoints from before there was a choice: lstm)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """The config saved in a checkpoint (KeyError if a field is missing). Only `cell` may
        be: checkpoints from before cells could be chosen hold LSTMs."""
        values = {"cell": "lstm", **values}
        return cls(**{k: values[k] for k in cls.__dataclass_fields__})


# A fused kernel's call for one layer: (input, h0, c0, weights, training) -> (output, h, c),
# each state (1, batch, hidden). Arguments after the weights: has_biases, num_layers, dropout,
# train, bidirectional, batch_first.
Fused = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, tuple, bool],
                 tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def _fused_lstm(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, weights: tuple,
                training: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.lstm(x, (h0, c0), weights, True, 1, 0.0, training, False, True)


def _fused_without_cell_state(kernel: Callable) -> Fused:
    """A kernel of a cell that has only h (`torch.gru`, `torch.rnn_tanh`), in `Fused`'s shape:
    c goes through unchanged."""
    def run(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, weights: tuple,
            training: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out, h = kernel(x, h0, weights, True, 1, 0.0, training, False, True)
        return out, h, c0
    return run


@dataclass(frozen=True)
class CellType:
    """What a cell name stands for: the module a layer is, the fused kernel that runs its
    weights over a whole sequence, and whether it has a cell state c besides h."""

    module: Callable[[int, int], nn.Module]  # (input size, hidden size) -> the cell
    fused: Fused
    has_cell_state: bool


def _in_autocast_dtype(kernel: Callable) -> Callable:
    """`kernel` with its input, state and weights cast to the autocast dtype while autocast is
    on. PyTorch's CPU autocast has a rule for `torch.lstm` and `torch.rnn_tanh` but none for
    `torch.gru`, which would otherwise run in float32 under bf16."""
    def run(x: torch.Tensor, h0: torch.Tensor, weights: tuple, *args):
        device = x.device.type
        if torch.is_autocast_enabled(device):
            dtype = torch.get_autocast_dtype(device)
            x, h0, weights = x.to(dtype), h0.to(dtype), tuple(w.to(dtype) for w in weights)
        return kernel(x, h0, weights, *args)
    return run


CELL_TYPES: dict[str, CellType] = {  # one per choice of the `cell` setting (CELLS)
    "lstm": CellType(nn.LSTMCell, _fused_lstm, True),
    "gru": CellType(nn.GRUCell, _fused_without_cell_state(_in_autocast_dtype(torch.gru)), False),
    "rnn": CellType(partial(nn.RNNCell, nonlinearity="tanh"),
                    _fused_without_cell_state(torch.rnn_tanh), False),
}


def cell_type(name: str) -> CellType:
    try:
        return CELL_TYPES[name]
    except KeyError:
        raise ChartuiError(f"unknown cell '{name}'; use one of: {', '.join(CELLS)}") from None


class CharRNN(nn.Module):
    """A character-level language model built from `nn.LSTMCell`, `nn.GRUCell` or
    `nn.RNNCell` layers (`config.cell`)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.cell_type = cell_type(config.cell)
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.cells = nn.ModuleList(
            self.cell_type.module(config.embedding_dim if i == 0 else config.hidden_size,
                                  config.hidden_size)
            for i in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    @property
    def has_cell_state(self) -> bool:
        """Whether the cells keep a cell state c besides h (the LSTM does; a GRU and a plain
        RNN do not, and their c stays zeros)."""
        return self.cell_type.has_cell_state

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def init_state(self, batch_size: int = 1) -> State:
        """Zero hidden and cell state, as in the lesson's `init_zero_state`."""
        weight = self.head.weight
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        return (weight.new_zeros(shape), weight.new_zeros(shape))

    def _step(self, cell: nn.Module, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """One character through one layer's cell: the new (h, c)."""
        if self.has_cell_state:
            return cell(x, (h, c))
        return cell(x, h), c

    def forward(self, ids: torch.Tensor, state: State | None = None, engine: str = "fast"
                ) -> tuple[torch.Tensor, State]:
        """Logits (batch, time, vocab) for ids (batch, time), and the state after the last step."""
        if engine not in ENGINES:
            raise ChartuiError(f"unknown engine '{engine}'; use one of: {', '.join(ENGINES)}")
        h0, c0 = state if state is not None else self.init_state(ids.shape[0])
        layer_input = self.embedding(ids)
        h_last, c_last = [], []
        for layer, cell in enumerate(self.cells):
            if engine == "fast":
                out, h, c = self.cell_type.fused(
                    layer_input, h0[layer:layer + 1], c0[layer:layer + 1],
                    (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), self.training)
                h, c = h[0], c[0]
            else:
                h, c = h0[layer], c0[layer]
                outputs = []
                for t in range(layer_input.shape[1]):
                    h, c = self._step(cell, layer_input[:, t], h, c)
                    outputs.append(h)
                out = torch.stack(outputs, dim=1)
            h_last.append(h)
            c_last.append(c)
            layer_input = self.dropout(out)
        return self.head(layer_input), (torch.stack(h_last), torch.stack(c_last))


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then Apple's MPS, then the CPU; otherwise the device named."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ChartuiError(f"'{name}' is not a device name; use auto, cpu, cuda, cuda:1 or mps"
                           ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ChartuiError("CUDA was asked for but this PyTorch sees no CUDA GPU; use --device "
                           "cpu (or auto), or install a CUDA build of torch (see README)")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None)
                                     and torch.backends.mps.is_available()):
        raise ChartuiError("MPS was asked for but is not available here; use --device cpu")
    return device
