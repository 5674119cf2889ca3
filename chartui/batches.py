"""How a run reads its text: batches for the training steps, the held-out text for evaluations.

Training batches are windows at random places (`batching="random"`, the lesson's way) or the
text read as continuous streams (`"stream"`) with the model's state carried from one batch to the
next. Where the reading is (the random windows' generator, the streams' position and state) goes
into checkpoints, so that a resumed run reads on as if it had never stopped.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from chartui.config import TrainConfig
from chartui.distributed import World
from chartui.model import CharRNN

RecurrentState = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, rows, hidden)


class Batches:
    """The training text as batches of `batch_size` windows of `seq_len` characters."""

    def __init__(self, data: np.ndarray, config: TrainConfig, device: torch.device,
                 world: World | None = None):
        self.data = data
        self.config = config
        self.device = device
        self.world = world or World()
        share = config.batch_size // self.world.size  # this process's rows of the batch
        self.rows = slice(self.world.rank * share, (self.world.rank + 1) * share)
        self.generator = torch.Generator().manual_seed(config.seed)  # the random windows' places
        self.position = 0  # where the streams read next
        self.carried_state: RecurrentState | None = None  # at the streams' ends, float32

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets (the same text shifted by one), shape (batch, seq_len).

        "random": windows at random places (the lesson's way; each starts from a zero state).
        "stream": the text read as `batch_size` continuous streams that start at evenly spaced
        places and wrap around at the end; the state (h, c) is carried from one batch to the next
        (truncated backpropagation through time, as in char-rnn and the Anna tutorial).
        With several processes, each reads only its share (`rows`) of the batch's windows.
        """
        c = self.config
        n = len(self.data)
        if c.batching == "random":
            starts = torch.randint(0, n - c.seq_len, (c.batch_size,),
                                   generator=self.generator).numpy()[self.rows]
            index = starts[:, None] + np.arange(c.seq_len + 1)
        else:
            offsets = (np.arange(c.batch_size, dtype=np.int64) * (n // c.batch_size))[self.rows]
            index = (offsets[:, None] + self.position + np.arange(c.seq_len + 1)) % n
            self.position = (self.position + c.seq_len) % n
        windows = torch.from_numpy(self.data[index].astype(np.int64)).to(self.device)
        return windows[:, :-1], windows[:, 1:]

    def state_for(self, rows: int) -> RecurrentState | None:
        """The state a batch of `rows` windows starts from: the streams' carried state, or
        None (zeros) for random windows, at the very start, or when the batch size changed (a
        resumed run: then the streams start afresh)."""
        state = self.carried_state if self.config.batching == "stream" else None
        if state is not None and state[0].shape[1] != rows:
            return None
        return state

    def carry(self, state: RecurrentState) -> None:
        """Keep the state a batch ended in for the next one (streams only; in float32, as saved)."""
        if self.config.batching == "stream":
            self.carried_state = (state[0].detach().float(), state[1].detach().float())

    def stream_payload(self) -> dict:
        """Where the streams are, as a checkpoint keeps it: the position and state (on the CPU).
        With several processes the whole batch's state, put together from every process's
        share (each must call this at the same time)."""
        state = self.carried_state
        if state is not None and self.world.active:
            state = tuple(self.world.gather_rows(part, dim=1) for part in state)
        return {"position": self.position,
                "h": None if state is None else state[0].cpu(),
                "c": None if state is None else state[1].cpu()}

    def restore(self, rng: dict, stream: dict) -> None:
        """Read on where a checkpoint's batches were: its `rng` and `stream` entries (either may
        be empty, in a checkpoint from before they were kept)."""
        if "batches" in rng:
            self.generator.set_state(rng["batches"])
        self.position = int(stream.get("position", 0))
        if stream.get("h") is not None:
            h, c = stream["h"], stream["c"]
            if self.world.active:  # this process's share of the streams, if the batch is the same
                if h.shape[1] != self.config.batch_size:
                    return  # another batch size: the streams start afresh, as `state_for` says
                h, c = h[:, self.rows], c[:, self.rows]
            self.carried_state = (h.to(self.device), c.to(self.device))


def held_out_chars(data: np.ndarray, max_chars: int) -> int:
    """How many characters of `data` an evaluation of up to `max_chars` scores (all but the
    first, which has nothing before it to predict it from)."""
    return max(0, min(len(data) - 1, max_chars))


@torch.no_grad()
def held_out_loss(model: CharRNN, data: np.ndarray, seq_len: int, max_chars: int,
                  device: torch.device, world: World | None = None) -> float | None:
    """Mean loss (nats/char) of `model` on the held-out text `data`, in eval mode and float32;
    None when there is nothing to score.

    The text is read as up to 32 continuous streams with the state carried along, so every
    character but the first of each stream is predicted with its full context, as a reader of
    the text would. The streams start at evenly spaced places; with `max_chars` less than the
    text, each reads only its share of `max_chars` from its start, so a subset still samples
    the whole text. With several processes (`world`), each scores its share of the streams
    and the sums are added up, so every process gets the same figure.
    """
    budget = held_out_chars(data, max_chars)
    if budget < 1:
        return None
    rows = max(1, min(32, budget // (8 * seq_len)))
    spacing = (len(data) - 1) // rows
    length = min(spacing, budget // rows)
    mine = range(rows)
    if world is not None and world.active:
        mine = np.array_split(np.arange(rows), world.size)[world.rank]
    total, state = 0.0, None
    if len(mine):
        streams = np.stack([data[r * spacing: r * spacing + length + 1] for r in mine])
        streams = torch.from_numpy(streams.astype(np.int64)).to(device)
        model.eval()
        for start in range(0, length, seq_len):
            chunk = streams[:, start: start + seq_len + 1]
            logits, state = model(chunk[:, :-1], state, engine="fast")
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     chunk[:, 1:].reshape(-1), reduction="sum").item()
        model.train()
    if world is not None:
        total = world.total(total)
    return total / (rows * length)
