import math

import numpy as np
import pytest
import torch

from chartui.beam import beam_search
from chartui.errors import ChartuiError
from chartui.model import CharRNN, ModelConfig
from chartui.sampling import (
    Generation,
    SamplingSettings,
    next_char_distribution,
    sample_stream,
    sample_text,
)
from chartui.vocab import Vocabulary

VOCAB = Vocabulary.from_text("abcdefghij \n")


def _model(seed=0):
    torch.manual_seed(seed)
    return CharRNN(ModelConfig(len(VOCAB), 8, 16, 1)).eval()


def _greedy(model, prime, n):
    """Greedy decoding through the model's own cells, one character per forward call."""
    ids = VOCAB.encode(prime).tolist()
    out = []
    with torch.no_grad():
        _, state = model(torch.tensor([ids[:-1]]), engine="cell")
        current = ids[-1]
        for _ in range(n):
            logits, state = model(torch.tensor([[current]]), state, engine="cell")
            current = int(logits[0, -1].argmax())
            out.append(VOCAB.chars[current])
    return "".join(out)


def test_temperature_zero_is_argmax():
    model = _model()
    assert sample_text(model, VOCAB, "abc", 50, temperature=0.0, seed=1)[3:] == \
        _greedy(model, "abc", 50)


def test_tiny_temperature_never_overflows():
    import numpy as np
    probs = next_char_distribution(np.array([1000.0, 999.0, -1000.0]), 1e-6)
    assert np.isfinite(probs).all() and probs[0] == 1.0
    assert next_char_distribution(np.array([0.0, 0.0]), 1e-9).sum() == 1.0
    flat = next_char_distribution(np.array([2.0, 1.0, 0.0]), 1e6)
    assert np.allclose(flat, 1 / 3)


def test_top_k_never_emits_outside_the_top_k():
    import numpy as np
    logits = np.array([0.0, 5.0, 1.0, 4.0, 3.0, 2.0])
    probs = next_char_distribution(logits, 5.0, top_k=2)
    assert set(np.flatnonzero(probs)) == {1, 3} and abs(probs.sum() - 1) < 1e-12
    model = _model(3)
    settings = SamplingSettings(temperature=3.0, top_k=1)
    text = "".join(sample_stream(model, VOCAB, "ab", 40, settings, seed=0))
    assert text == _greedy(model, "ab", 40)  # top-1 is greedy whatever the temperature


def test_same_seed_same_text_and_other_seed_other_text():
    model = _model()
    a = sample_text(model, VOCAB, "a", 200, temperature=1.0, seed=42)
    b = sample_text(model, VOCAB, "a", 200, temperature=1.0, seed=42)
    c = sample_text(model, VOCAB, "a", 200, temperature=1.0, seed=43)
    assert a == b and a != c


def test_temperature_can_change_while_the_stream_runs():
    model = _model(5)
    settings = SamplingSettings(temperature=1.5)
    stream = sample_stream(model, VOCAB, "ab", 60, settings, seed=9)
    first = "".join(next(stream) for _ in range(20))
    settings.temperature = 0.0
    rest = "".join(stream)
    assert len(rest) == 40
    assert rest == _greedy(model, "ab" + first, 40)


def test_stream_yields_one_character_at_a_time_and_skips_unknown_prime_chars():
    model = _model()
    stream = sample_stream(model, VOCAB, "aZb", 5, seed=0)
    chars = list(stream)
    assert len(chars) == 5 and all(len(c) == 1 and c in VOCAB for c in chars)
    same = list(sample_stream(model, VOCAB, "ab", 5, seed=0))
    assert chars == same
    assert len(list(sample_stream(model, VOCAB, "", 5, seed=0))) == 5


def test_long_prime_through_the_fused_kernel_matches_stepping(monkeypatch):
    import chartui.sampling as sampling
    model = _model(3)
    prime = "abcdefghij \n" * 30
    monkeypatch.setattr(sampling, "FUSED_PRIME_LENGTH", 10**6)
    stepped = sample_text(model, VOCAB, prime, 40, temperature=0.0)
    monkeypatch.setattr(sampling, "FUSED_PRIME_LENGTH", 10)
    fused = sample_text(model, VOCAB, prime, 40, temperature=0.0)
    assert fused == stepped and fused[len(prime):] == _greedy(model, prime, 40)


# --- nucleus (top-p) sampling ---------------------------------------------------------------------

def test_top_p_keeps_exactly_the_nucleus_renormalised():
    probs = np.array([0.5, 0.05, 0.3, 0.15])
    logits = np.log(probs)
    kept = next_char_distribution(logits, 1.0, top_p=0.8)  # 0.5 + 0.3 reaches 0.8
    assert np.allclose(kept, [0.625, 0.0, 0.375, 0.0])
    assert set(np.flatnonzero(next_char_distribution(logits, 1.0, top_p=0.81))) == {0, 2, 3}
    assert set(np.flatnonzero(next_char_distribution(logits, 1.0, top_p=0.5))) == {0}
    assert set(np.flatnonzero(next_char_distribution(logits, 1.0, top_p=0.2))) == {0}
    # after top-k (two kept: 0.625 and 0.375), 0.9 needs both of them
    assert np.allclose(next_char_distribution(logits, 1.0, top_k=2, top_p=0.9),
                       [0.625, 0.0, 0.375, 0.0])
    # after temperature: a very high one makes all four equal, and p = 0.5 keeps two of them
    flat = next_char_distribution(logits, 1e6, top_p=0.5)
    assert np.allclose(flat, [0.5, 0.0, 0.5, 0.0], atol=1e-5)
    # four equal characters and p = 0.5: two, though rounding may leave the sum a hair short
    assert np.count_nonzero(next_char_distribution(np.zeros(4), 1.0, top_p=0.5)) == 2


def test_top_p_of_one_is_no_top_p():
    logits = np.array([0.3, -1.0, 2.0, 0.7, 0.0])
    assert np.array_equal(next_char_distribution(logits, 0.9, top_p=1.0),
                          next_char_distribution(logits, 0.9))
    model = _model(2)
    assert sample_text(model, VOCAB, "ab", 80, 1.0, top_p=1.0, seed=4) == \
        sample_text(model, VOCAB, "ab", 80, 1.0, seed=4)


def test_a_tiny_top_p_is_greedy_and_a_stream_follows_top_p():
    model = _model(3)
    settings = SamplingSettings(temperature=3.0, top_p=1e-6)
    assert "".join(sample_stream(model, VOCAB, "ab", 40, settings, seed=0)) == \
        _greedy(model, "ab", 40)
    generation = Generation(model, VOCAB, "ab", SamplingSettings(temperature=1.0, top_p=0.5))
    nucleus = next_char_distribution(generation.logits, 1.0, top_p=0.5)
    shown = {char: now for char, now, _ in generation.candidates(len(VOCAB))}
    assert all(shown[char] == nucleus[VOCAB.index[char]] for char in shown)
    assert 0 < np.count_nonzero(nucleus) < len(VOCAB)


@pytest.mark.parametrize("top_p", [0, -0.1, 1.5, float("nan"), float("inf")])
def test_top_p_outside_zero_to_one_is_refused(top_p):
    with pytest.raises(ChartuiError, match="top-p .* is out of range"):
        SamplingSettings(top_p=top_p).validate(len(VOCAB))
    SamplingSettings(top_p=1.0).validate(len(VOCAB))
    SamplingSettings(top_p=0.01).validate(len(VOCAB))


# --- beam search ----------------------------------------------------------------------------------

def _log_probability(model, vocab, prime, continuation):
    """The continuation's total log-probability after the prime, by the model's own forward."""
    ids = vocab.encode(prime + continuation).tolist()
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids[:-1]]))
    log_probs = torch.log_softmax(logits[0].double(), dim=-1)
    targets = torch.tensor(ids[len(prime):])
    return float(log_probs[len(prime) - 1:].gather(1, targets[:, None]).sum())


def test_beam_of_one_is_greedy():
    model = _model(3)
    found = beam_search(model, VOCAB, "ab", 40, width=1)
    assert found.text == _greedy(model, "ab", 40)


def test_beam_is_deterministic_and_beats_or_equals_greedy(trained_run):
    model, vocab = trained_run.model, trained_run.vocab
    prime, length = "The ", 60
    found = beam_search(model, vocab, prime, length, width=5)
    assert beam_search(model, vocab, prime, length, width=5) == found
    assert len(found.text) == length
    # the score it reports is the text's own (the beams' states never mix)
    assert math.isclose(found.log_probability, _log_probability(model, vocab, prime, found.text),
                        rel_tol=1e-4)
    greedy = sample_text(model, vocab, prime, length, temperature=0.0)[len(prime):]
    assert found.log_probability >= _log_probability(model, vocab, prime, greedy) - 1e-6


def test_a_wider_beam_finds_a_likelier_text_where_greedy_is_not_the_best():
    model = _model(2)  # greedy's first choices lead to a less likely text here
    greedy = beam_search(model, VOCAB, "a", 30, width=1)
    wide = beam_search(model, VOCAB, "a", 30, width=8)
    assert wide.text != greedy.text and wide.log_probability > greedy.log_probability + 1
    assert math.isclose(wide.log_probability, _log_probability(model, VOCAB, "a", wide.text),
                        rel_tol=1e-4)


@pytest.mark.parametrize("width", [0, -1, 65])
def test_a_beam_width_out_of_range_is_refused(width):
    with pytest.raises(ChartuiError, match=f"beam width {width} is out of range"):
        beam_search(_model(), VOCAB, "ab", 10, width=width)
