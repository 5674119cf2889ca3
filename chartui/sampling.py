"""Generating text from a CharRNN, one character at a time.

Temperature divides the logits before a max-subtracted softmax: below 1 the model plays safe,
above 1 it takes risks, and 0 means always take the most likely character (greedy argmax).
Top-k keeps only the k most likely characters before sampling; top-p (nucleus sampling) keeps
the smallest set of likeliest characters whose probabilities add up to p, so the number kept
follows the model's confidence: one or two where it is sure, many where it is not.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from chartui.config import SamplingSettings, check_length
from chartui.errors import ChartuiError
from chartui.model import CharRNN
from chartui.stepper import CellStepper
from chartui.vocab import Vocabulary

FUSED_PRIME_LENGTH = 256  # longer primes run through the cell's fused kernel (torch.lstm, ...)


def next_char_distribution(logits: np.ndarray, temperature: float, top_k: int | None = None,
                           top_p: float | None = None) -> np.ndarray:
    """Probabilities of the next character from a vector of logits.

    T = 0 puts all the mass on the argmax. Softmax subtracts the maximum first, so a tiny T
    never overflows. With top-k, only the k highest logits keep any mass; then, with top-p,
    only the nucleus (`nucleus`). What is kept is renormalised.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature <= 0:
        probs = np.zeros_like(logits)
        probs[int(np.argmax(logits))] = 1.0
        return probs
    probs = np.exp((logits - logits.max()) / temperature)
    if top_k is not None and top_k < probs.shape[-1]:
        probs[np.argpartition(probs, -top_k)[:-top_k]] = 0.0
    probs /= probs.sum()
    if top_p is not None and top_p < 1:
        outside = np.ones(probs.shape, dtype=bool)
        outside[nucleus(probs, top_p)] = False
        probs[outside] = 0.0
        probs /= probs.sum()
    return probs


def nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Indices of the smallest set of likeliest characters whose probabilities reach `top_p`,
    likeliest first (ties in index order). A rounding error's worth short of p counts as
    reaching it, so p = 0.5 over four characters of 0.25 keeps two, not three."""
    order = np.argsort(-probs, kind="stable")
    cumulative = np.cumsum(probs[order])
    size = int(np.searchsorted(cumulative, top_p - 1e-12)) + 1
    return order[:min(size, len(order))]


def prime_ids(vocab: Vocabulary, prime: str) -> list[int]:
    """Ids of the prime's characters; characters outside the vocabulary are left out.

    Callers tell the user which ones (`Vocabulary.unknown_chars`). An empty result starts
    from a newline (or, failing that, a space or the first character), which is not shown.
    """
    ids = vocab.encode(prime, unknown="skip").tolist()
    if ids:
        return ids
    for start in ("\n", " "):
        if start in vocab:
            return [vocab.index[start]]
    return [0]


def finite_logits(logits: np.ndarray) -> np.ndarray:
    """`logits`, once they are known to be finite: a model whose training diverged gives NaN
    or infinity, which no sampling or search can make text of."""
    if not np.isfinite(logits).all():
        raise ChartuiError("the model's weights are not finite numbers (did training "
                           "diverge?); sample from an earlier checkpoint")
    return logits


def make_generator(seed: int | None) -> np.random.Generator:
    """The random numbers one generation draws from (fresh entropy without a seed)."""
    return np.random.default_rng(seed)


class Generation:
    """One generation in progress: the cells' state after the prime and the text so far.

    `emit()` draws the next character under the settings as they are now and feeds it back;
    `candidates()` shows what the model expects next, before it is drawn. A NumPy copy of the
    cells (`CellStepper`) taken at the start does the stepping; a long prime goes through
    PyTorch's fused kernel in one call instead. Same model, prime, settings and seed give the
    same text.
    """

    def __init__(self, model: CharRNN, vocab: Vocabulary, prime: str = "Th",
                 settings: SamplingSettings | None = None, seed: int | None = None):
        self.vocab = vocab
        self.settings = settings or SamplingSettings()
        self.settings.validate(len(vocab))
        self.rng = make_generator(seed)
        self.stepper = CellStepper(model)
        ids = prime_ids(vocab, prime)
        if len(ids) <= FUSED_PRIME_LENGTH:
            for index in ids[:-1]:
                self.stepper.step(index)
        else:
            was_training = model.training
            model.eval()
            try:
                with torch.inference_mode():
                    prime_tensor = torch.tensor([ids[:-1]], device=model.head.weight.device)
                    self.stepper.set_state(model(prime_tensor)[1])
            finally:
                model.train(was_training)
        self.logits = self._step(ids[-1])  # for the next character

    def _step(self, index: int) -> np.ndarray:
        return finite_logits(self.stepper.step(index))

    def distribution(self, temperature: float | None = None) -> np.ndarray:
        """Probabilities of the next character under the current settings (or another T)."""
        t = self.settings.temperature if temperature is None else temperature
        return next_char_distribution(self.logits, t, self.settings.top_k, self.settings.top_p)

    def ranked(self) -> np.ndarray:
        """Character ids by the model's preference, likeliest first (ties in id order): the
        order is the same at every temperature, and top-k and top-p cut it from the end."""
        return np.argsort(-self.logits, kind="stable")

    def candidates(self, count: int = 8) -> list[tuple[str, float, float]]:
        """The `count` likeliest next characters by the model's preference: (character,
        probability now, at T = 1). A probability now of 0 means the character cannot be
        drawn: top-k or top-p cut it (or T = 0, which leaves only the likeliest)."""
        now = self.distribution()
        plain = next_char_distribution(self.logits, 1.0)
        order = self.ranked()[:count]
        return [(self.vocab.chars[i], float(now[i]), float(plain[i])) for i in order]

    def emit(self) -> str:
        """Draw the next character, feed it to the cells, and return it."""
        probs = self.distribution()
        cumulative = probs.cumsum()
        index = min(int(cumulative.searchsorted(self.rng.random() * cumulative[-1], "right")),
                    len(probs) - 1)
        self.logits = self._step(index)
        return self.vocab.chars[index]

    def choose(self, rank: int) -> str | None:
        """Take the `rank`-th likeliest next character (1: the likeliest, as `candidates`
        lists them) instead of drawing one: feed it to the cells and return it; None when
        that candidate cannot be drawn (top-k or top-p cut it). The random draws are
        untouched, so what is emitted after it is still reproducible from the seed."""
        probs = self.distribution()
        order = self.ranked()
        if not 1 <= rank <= len(order) or probs[order[rank - 1]] <= 0:
            return None
        index = int(order[rank - 1])
        self.logits = self._step(index)
        return self.vocab.chars[index]


def sample_stream(model: CharRNN, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                  settings: SamplingSettings | None = None, seed: int | None = None
                  ) -> Iterator[str]:
    """Yield `length` generated characters one at a time (the prime itself is not yielded).

    `settings` is read before every character: change its temperature, top_k or top_p while the
    stream runs and the next characters follow. Same model, prime, settings and seed give the
    same text.
    """
    check_length(length)
    generation = Generation(model, vocab, prime, settings, seed)
    for _ in range(length):
        yield generation.emit()


def sample_text(model: CharRNN, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                temperature: float = 0.8, top_k: int | None = None, top_p: float | None = None,
                seed: int | None = None) -> str:
    """The prime followed by `length` generated characters, as one string."""
    settings = SamplingSettings(temperature, top_k, top_p)
    stream = sample_stream(model, vocab, prime, length, settings, seed)
    return prime + "".join(stream)
