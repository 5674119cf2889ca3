import torch

from chartui.model import CharLSTM, ModelConfig
from chartui.sampling import SamplingSettings, next_char_distribution, sample_stream, sample_text
from chartui.vocab import Vocabulary

VOCAB = Vocabulary.from_text("abcdefghij \n")


def _model(seed=0):
    torch.manual_seed(seed)
    return CharLSTM(ModelConfig(len(VOCAB), 8, 16, 1)).eval()


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
