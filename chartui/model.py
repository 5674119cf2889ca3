"""CharRNN: Embedding -> LSTMCell layers -> dropout -> Linear.

With one layer, embedding 100 and hidden 128 this is exactly the LSTMCell lesson's model.
A whole sequence can run two ways over the same parameters:
  - engine="cell": the lesson's explicit loop, one `nn.LSTMCell` call per character;
  - engine="fast": the LSTMCell's own weights handed to PyTorch's fused LSTM kernel
    (`torch.lstm`, the kernel behind `nn.LSTM`), one call per layer.
Generation steps a NumPy copy of the same cells one character at a time (chartui.stepper).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from chartui.config import ENGINES
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        return cls(**{k: values[k] for k in cls.__dataclass_fields__})


class CharRNN(nn.Module):
    """A character-level LSTM language model built from `nn.LSTMCell` layers."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.cells = nn.ModuleList(
            nn.LSTMCell(config.embedding_dim if i == 0 else config.hidden_size,
                        config.hidden_size)
            for i in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def init_state(self, batch_size: int = 1) -> State:
        """Zero hidden and cell state, as in the lesson's `init_zero_state`."""
        weight = self.head.weight
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        return (weight.new_zeros(shape), weight.new_zeros(shape))

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
                out, h, c = torch.lstm(
                    layer_input, (h0[layer:layer + 1], c0[layer:layer + 1]),
                    (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
                    True, 1, 0.0, self.training, False, True)
                h, c = h[0], c[0]
            else:
                h, c = h0[layer], c0[layer]
                outputs = []
                for t in range(layer_input.shape[1]):
                    h, c = cell(layer_input[:, t], (h, c))
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
