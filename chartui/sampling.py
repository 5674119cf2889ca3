"""Generating text from a CharLSTM, one character at a time.

Temperature divides the logits before a max-subtracted softmax: below 1 the model plays safe,
above 1 it takes risks, and 0 means always take the most likely character (greedy argmax).
Top-k keeps only the k most likely characters before sampling.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch

from chartui.config import SamplingSettings, check_length
from chartui.model import CharLSTM
from chartui.vocab import Vocabulary

def next_char_distribution(logits: torch.Tensor, temperature: float, top_k: int | None = None
                           ) -> torch.Tensor:
    """Probabilities of the next character from logits (..., vocab).

    T = 0 puts all the mass on the argmax. Softmax subtracts the maximum first, so a tiny T
    never overflows.
    """
    logits = logits.float()
    if temperature <= 0:
        probs = torch.zeros_like(logits)
        probs.scatter_(-1, logits.argmax(-1, keepdim=True), 1.0)
        return probs
    scaled = logits / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled - scaled.max(-1, keepdim=True).values, dim=-1)


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


def make_generator(seed: int | None, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else int.from_bytes(os.urandom(8), "little")
                          & 0x7FFF_FFFF_FFFF_FFFF)
    return generator


def sample_stream(model: CharLSTM, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                  settings: SamplingSettings | None = None, seed: int | None = None
                  ) -> Iterator[str]:
    """Yield `length` generated characters one at a time (the prime itself is not yielded).

    `settings` is read before every character: change its temperature or top_k while the
    stream runs and the next characters follow. Same model, prime, settings and seed give the
    same text.
    """
    settings = settings or SamplingSettings()
    settings.validate(len(vocab))
    check_length(length)
    device = model.head.weight.device
    generator = make_generator(seed, device)
    ids = torch.tensor(prime_ids(vocab, prime), dtype=torch.long, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            state = model.init_state(1)
            if len(ids) > 1:  # the prime's bulk goes through the fused kernel in one call
                _, state = model(ids[None, :-1], state)
            current = ids[-1:]
        for _ in range(length):
            with torch.inference_mode():
                logits, state = model.step(current, state)
                probs = next_char_distribution(logits[0], settings.temperature, settings.top_k)
                current = torch.multinomial(probs, 1, generator=generator)
            yield vocab.chars[int(current)]
    finally:
        model.train(was_training)


def sample_text(model: CharLSTM, vocab: Vocabulary, prime: str = "Th", length: int = 200,
                temperature: float = 0.8, top_k: int | None = None, seed: int | None = None
                ) -> str:
    """The prime followed by `length` generated characters, as one string."""
    stream = sample_stream(model, vocab, prime, length, SamplingSettings(temperature, top_k), seed)
    return prime + "".join(stream)
