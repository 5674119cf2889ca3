"""Which unit of the model tracks what: activations over a text, nameable features, rankings.

The "neuron view" of Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding
Recurrent Networks": read a text through the model, record every layer's hidden state h and,
for an LSTM, its cell state c after each character, and look for single units that follow
something a person can name (inside quotes, position in the line, inside brackets, ...).
A GRU or a plain RNN has no cell state: only h is recorded (`Activations.kinds`).

Conventions:
- Row i of the activations is the state *after* the model has read character i, and every
  feature describes the text at that same moment: "inside quotes" is already 1 for the opening
  quote and 0 again for the closing one.
- Cell states are kept as tanh(c), as Karpathy did: c itself is unbounded, tanh(c) lies in
  (-1, 1) like h (it is what the cell hands to h), so one colour scale fits both.
- Characters outside the model's vocabulary are not read (the state carries over them, as it
  does for a prime); they keep their place in the text with no activation (NaN), and rankings
  leave them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from chartui.errors import ChartuiError
from chartui.vocab import Vocabulary

if TYPE_CHECKING:  # torch is imported only when activations are read, so the app starts fast
    from chartui.model import CharRNN

KINDS = ("h", "c")  # hidden state, cell state (as tanh(c)): an LSTM's; other cells have h only
LEVEL_EDGES = (-0.5, -0.1, 0.1, 0.5)  # levels 0..4: strong -, weak -, about 0, weak +, strong +
UNREAD = -1  # the level of a character the model did not read


@dataclass(frozen=True)
class Activations:
    """`values[layer, kind, i, unit]`: h (kind 0) or, for an LSTM, tanh(c) (kind 1) after
    character i; `kinds` names the kinds recorded."""

    text: str
    read: np.ndarray  # (len(text),) bool: whether the model read the character
    values: np.ndarray  # (layers, len(kinds), len(text), hidden) float32, NaN where not read
    kinds: tuple[str, ...] = KINDS  # ("h", "c") for an LSTM, ("h",) for a GRU or plain RNN

    @property
    def layers(self) -> int:
        return self.values.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.values.shape[3]

    def unit(self, layer: int, kind: str, unit: int) -> np.ndarray:
        """One unit's activation for every character of the text (NaN where not read)."""
        return self.values[layer, self.kinds.index(kind), :, unit]


def activations(model: CharRNN, vocab: Vocabulary, text: str,
                should_stop: Callable[[], bool] | None = None) -> Activations | None:
    """Read `text` from a zero state and record each layer's h (and an LSTM's tanh(c)) after
    every character. Returns None if `should_stop()` turns true on the way."""
    from chartui.stepper import CellStepper
    stepper = CellStepper(model)
    kinds = KINDS if stepper.has_cell_state else KINDS[:1]
    values = np.full((len(stepper.h), len(kinds), len(text), stepper.hidden_size), np.nan,
                     np.float32)
    read = np.zeros(len(text), dtype=bool)
    for position, char in enumerate(text):
        index = vocab.index.get(char)
        if index is None:
            continue
        if should_stop is not None and should_stop():
            return None
        stepper.step(index)
        values[:, 0, position] = stepper.h
        if stepper.has_cell_state:
            values[:, 1, position] = np.tanh(stepper.c)
        read[position] = True
    if not np.isfinite(values[:, :, read]).all():
        raise ChartuiError("the model's weights are not finite numbers (did training diverge?); "
                           "open an earlier checkpoint")
    return Activations(text, read, values, kinds)


def activation_levels(values: np.ndarray) -> np.ndarray:
    """Each activation as a level 0..4 (see LEVEL_EDGES); NaN (not read) becomes UNREAD."""
    levels = np.digitize(values, LEVEL_EDGES)
    levels[np.isnan(values)] = UNREAD
    return levels


# --- features: one number per character, describing the text after that character ----------------

def inside_quotes(text: str) -> np.ndarray:
    """1 from an opening double quote (" or “) up to its closing one; a blank line ends a quote
    that was never closed."""
    values = np.zeros(len(text))
    inside = False
    for i, char in enumerate(text):
        if char == '"':
            inside = not inside
        elif char in "“”":
            inside = char == "“"
        elif char == "\n" and text[i - 1:i] == "\n":
            inside = False
        values[i] = inside
    return values


def line_position(text: str) -> np.ndarray:
    """The column: characters since the last newline (a newline itself is 0)."""
    values = np.zeros(len(text))
    column = 0
    for i, char in enumerate(text):
        column = 0 if char == "\n" else column + 1
        values[i] = column
    return values


def inside_brackets(text: str) -> np.ndarray:
    """1 while at least one (, [ or { is open (a closing one is already outside)."""
    values = np.zeros(len(text))
    depth = 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        values[i] = depth > 0
    return values


def word_starts(text: str) -> np.ndarray:
    """1 for the first letter or digit of a word."""
    return np.array([char.isalnum() and not text[i - 1:i].isalnum()
                     for i, char in enumerate(text)], dtype=float)


def digits(text: str) -> np.ndarray:
    """1 for a digit (inside a number)."""
    return np.array([char.isdigit() for char in text], dtype=float)


def newlines(text: str) -> np.ndarray:
    """1 for a newline: the state at the start of a new line."""
    return np.array([char == "\n" for char in text], dtype=float)


FEATURES: dict[str, Callable[[str], np.ndarray]] = {
    "inside quotes": inside_quotes,
    "position in the line": line_position,
    "inside brackets": inside_brackets,
    "start of a word": word_starts,
    "in a number": digits,
    "after a newline": newlines,
}


# --- ranking -------------------------------------------------------------------------------------

class UnitScore(NamedTuple):
    layer: int
    kind: str  # "h" or "c" (an LSTM's only)
    unit: int
    correlation: float  # Pearson correlation with the feature, -1..1


def correlations(acts: Activations, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit with `feature` over the characters read, shaped
    (layers, kinds, hidden). A unit or feature that never changes correlates 0 (not NaN)."""
    x = acts.values[:, :, acts.read].astype(np.float64)  # (layers, kinds, n, hidden)
    y = np.asarray(feature, dtype=np.float64)[acts.read]
    table = np.zeros((acts.layers, len(acts.kinds), acts.hidden_size))
    if len(y) < 2 or np.ptp(y) == 0:
        return table
    x = x - x.mean(axis=2, keepdims=True)
    y = y - y.mean()
    covariance = np.einsum("lknh,n->lkh", x, y)
    spread = np.sqrt((x * x).sum(axis=2) * (y @ y))
    varies = np.ptp(acts.values[:, :, acts.read], axis=2) > 0
    np.divide(covariance, spread, out=table, where=varies)
    return np.clip(table, -1.0, 1.0)


def rank_units(acts: Activations, feature: np.ndarray) -> list[UnitScore]:
    """Every unit, the one that tracks `feature` most strongly (largest |correlation|) first."""
    table = correlations(acts, feature)
    order = np.argsort(-np.abs(table), axis=None, kind="stable")
    return [UnitScore(int(layer), acts.kinds[kind], int(unit), float(table[layer, kind, unit]))
            for layer, kind, unit in zip(*np.unravel_index(order, table.shape), strict=True)]
