"""Generating text from a CharLSTM, one character at a time.

Temperature divides the logits before a max-subtracted softmax: below 1 the model plays safe,
above 1 it takes risks, and 0 means always take the most likely character (greedy argmax).
Top-k keeps only the k most likely characters before sampling.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from chartui.config import SamplingSettings, check_length
from chartui.errors import ChartuiError
from chartui.model import CharLSTM
from chartui.stepper import CellStepper
from chartui.vocab import Vocabulary

FUSED_PRIME_LENGTH = 256  # longer primes run through torch.lstm rather than step by step


def next_char_distribution(logits: np.ndarray, temperature: float, top_k: int | None = None
                           ) -> np.ndarray:
    """Probabilities of the next character from a vector of logits.

    T = 0 puts all the mass on the argmax. Softmax subtracts the maximum first, so a tiny T
    never overflows. With top-k, only the k highest logits keep any mass.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature <= 0:
        probs = np.zeros_like(logits)
        probs[int(np.argmax(logits))] = 1.0
        return probs
    probs = np.exp((logits - logits.max()) / temperature)
    if top_k is not None and top_k < probs.shape[-1]:
        probs[np.argpartition(probs, -top_k)[:-top_k]] = 0.0
    return probs / probs.sum()


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


def make_generator(seed: int | None) -> np.random.Generator:
    """The random numbers one generation draws from (fresh entropy without a seed)."""
    return np.random.default_rng(seed)


def sample_stream(model: CharLSTM, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                  settings: SamplingSettings | None = None, seed: int | None = None
                  ) -> Iterator[str]:
    """Yield `length` generated characters one at a time (the prime itself is not yielded).

    `settings` is read before every character: change its temperature or top_k while the
    stream runs and the next characters follow. Same model, prime, settings and seed give the
    same text. Each character steps a NumPy copy of the cells (`CellStepper`) taken when the
    stream starts; a long prime goes through PyTorch's fused kernel in one call instead.
    """
    settings = settings or SamplingSettings()
    settings.validate(len(vocab))
    check_length(length)
    rng = make_generator(seed)
    ids = prime_ids(vocab, prime)
    stepper = CellStepper(model)
    if len(ids) <= FUSED_PRIME_LENGTH:
        for index in ids[:-1]:
            stepper.step(index)
    else:
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                prime_tensor = torch.tensor([ids[:-1]], device=model.head.weight.device)
                stepper.set_state(model(prime_tensor)[1])
        finally:
            model.train(was_training)
    current = ids[-1]
    for _ in range(length):
        logits = stepper.step(current)
        if not np.isfinite(logits).all():
            raise ChartuiError("the model's weights are not finite numbers (did training "
                               "diverge?); sample from an earlier checkpoint")
        probs = next_char_distribution(logits, settings.temperature, settings.top_k)
        cumulative = probs.cumsum()
        current = min(int(cumulative.searchsorted(rng.random() * cumulative[-1], "right")),
                      len(probs) - 1)
        yield vocab.chars[current]


def sample_text(model: CharLSTM, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                temperature: float = 0.8, top_k: int | None = None, seed: int | None = None
                ) -> str:
    """The prime followed by `length` generated characters, as one string."""
    stream = sample_stream(model, vocab, prime, length, SamplingSettings(temperature, top_k), seed)
    return prime + "".join(stream)
