"""Beam search over characters: the continuation the model finds most likely, not a sample.

Greedy decoding takes the likeliest character at every step; beam search keeps the `width`
likeliest continuations so far (by their total log-probability at temperature 1) and extends
each by every character, so a character that looks second best now can win later. It is
deterministic: the same model and prime always give the same text. With width 1 it is greedy.

The cells are a NumPy `CellStepper`, as in `chartui.sampling`; one stepper serves every beam,
its state swapped in before each step (a step replaces the arrays of its state, never changes
them, so a saved state stays as it was).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chartui.config import SamplingSettings, check_beam_width, check_length
from chartui.model import CharRNN
from chartui.sampling import Generation, finite_logits
from chartui.stepper import CellStepper
from chartui.vocab import Vocabulary


@dataclass(frozen=True)
class Continuation:
    """What beam search found: the text after the prime and its total log-probability (nats)."""

    text: str
    log_probability: float


@dataclass(frozen=True)
class _Beam:
    """One continuation being extended: its score, the cells' state after it, and the logits
    for its next character."""

    score: float
    state: tuple[list[np.ndarray], list[np.ndarray]]
    logits: np.ndarray


def _state(stepper: CellStepper) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return list(stepper.h), list(stepper.c)


def _restore(stepper: CellStepper, state: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    stepper.h, stepper.c = list(state[0]), list(state[1])  # the step writes into these lists


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def beam_search(model: CharRNN, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                width: int = 5) -> Continuation:
    """The likeliest of the `width` continuations of `length` characters that beam search
    keeps (see the module's docstring); ties go to the earlier beam and the lower character
    id, so the result never varies."""
    check_length(length)
    check_beam_width(width)
    start = Generation(model, vocab, prime, SamplingSettings(temperature=1.0))
    stepper = start.stepper
    beams = [_Beam(0.0, _state(stepper), start.logits)]
    history: list[tuple[np.ndarray, np.ndarray]] = []  # each step's (parent beam, character)
    size = len(vocab)
    for _ in range(length):
        scores = np.stack([beam.score + _log_softmax(beam.logits) for beam in beams]).ravel()
        best = np.argsort(-scores, kind="stable")[:width]
        parents, chars = np.divmod(best, size)
        extended = []
        for position, parent, char in zip(best, parents, chars, strict=True):
            _restore(stepper, beams[parent].state)
            logits = finite_logits(stepper.step(int(char)))
            extended.append(_Beam(float(scores[position]), _state(stepper), logits))
        beams = extended
        history.append((parents, chars))
    ids, beam = [], 0  # the best beam is first: walk its characters back to the prime
    for parents, chars in reversed(history):
        ids.append(int(chars[beam]))
        beam = int(parents[beam])
    return Continuation("".join(vocab.chars[i] for i in reversed(ids)), beams[0].score)
