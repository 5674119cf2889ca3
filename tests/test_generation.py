"""The generation session without a UI: knobs, the quick start, the stream's loop, stale
reports, stepping."""

import pytest
import torch

from chartui import generation as generation_module
from chartui.config import TEMPERATURE_KEY_MAX
from chartui.errors import ChartuiError
from chartui.generation import CANDIDATES, QUICK_START_PRIME, Chunk, GenerationSession, Stream
from chartui.latest import Latest
from chartui.model import CharRNN, ModelConfig
from chartui.sampling import sample_text
from chartui.vocab import Vocabulary

VOCAB = Vocabulary.from_text("abcdefghij \n")
LONG_PRIME = "abc def ghij " * 4


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return CharRNN(ModelConfig(len(VOCAB), 8, 16, 1)).eval()


def streamed(session: GenerationSession, stream: Stream, cancel_after: int | None = None):
    """Run `stream` here, as a worker thread would; every chunk it reports, taken in."""
    chunks: list[Chunk] = []

    def report(chunk: Chunk) -> None:
        chunks.append(chunk)
        assert session.take(chunk)

    session.run(stream, report, lambda: cancel_after is not None and len(chunks) >= cancel_after)
    return chunks


def test_tickets_only_the_newest_is_current():
    loads = Latest()
    first = loads.new()
    assert loads.is_current(first)
    second = loads.new()
    assert not loads.is_current(first) and loads.is_current(second)
    loads.expire()
    assert not loads.is_current(second)


def test_temperature_keys_step_from_greedy_to_their_maximum():
    session = GenerationSession()
    session.change_temperature(1)
    assert session.settings.temperature == pytest.approx(0.9)
    for _ in range(30):
        session.change_temperature(-1)
    assert session.settings.temperature == 0.0
    for _ in range(30):
        session.change_temperature(1)
    assert session.settings.temperature == TEMPERATURE_KEY_MAX


def test_top_k_keys_step_below_the_vocabulary_size_then_all():
    session = GenerationSession()
    session.change_top_k(1, 12)
    assert session.settings.top_k is None  # already "all"
    session.change_top_k(-1, 12)
    assert session.settings.top_k == 10  # 20 and 40 are not below 12 characters
    for _ in range(10):
        session.change_top_k(-1, 12)
    assert session.settings.top_k == 1
    session.change_top_k(-1, None)  # no vocabulary known: every step is there
    assert session.settings.top_k == 1


def test_a_short_prime_gives_its_first_character_at_once_and_streams_the_rest(model):
    session = GenerationSession(pace=0)
    first, stream = session.begin(model, VOCAB, "ab", 40, seed=4)
    assert "ab" + first == sample_text(model, VOCAB, "ab", 1, temperature=0.8, seed=4)
    assert session.streaming and stream.length == 39 and session.current is not None
    chunks = streamed(session, stream)
    text = "ab" + first + "".join(chunk.text for chunk in chunks)
    assert text == sample_text(model, VOCAB, "ab", 40, temperature=0.8, seed=4)
    assert chunks[-1].finished and not session.streaming
    assert len(chunks[0].text) == 1  # the first report comes at once
    assert len(chunks) < 10  # unpaced, the rest come together, not one report a character
    assert [c for c, _, _ in chunks[-1].candidates] == [c for c, _, _ in session.candidates()]
    assert len(session.candidates()) == CANDIDATES


def test_a_long_prime_is_read_by_the_stream_which_hands_over_the_generation(model):
    assert len(LONG_PRIME) > QUICK_START_PRIME
    session = GenerationSession(pace=0)
    first, stream = session.begin(model, VOCAB, LONG_PRIME, 30, seed=2)
    assert first == "" and session.current is None and stream.length == 30
    chunks = streamed(session, stream)
    assert chunks[0].generation is session.current is not None
    assert LONG_PRIME + "".join(c.text for c in chunks) == sample_text(
        model, VOCAB, LONG_PRIME, 30, temperature=0.8, seed=2)


def test_stepping_draws_one_character_at_a_time(model):
    session = GenerationSession(pace=0)
    first, stream = session.begin(model, VOCAB, "ab", 2000, seed=7, stepping=True)
    assert stream is None and not session.streaming
    text = "ab" + first + "".join(session.step() for _ in range(4))
    assert text == sample_text(model, VOCAB, "ab", 5, temperature=0.8, seed=7)
    _, stream = session.begin(model, VOCAB, LONG_PRIME, 2000, seed=7, stepping=True)
    assert stream.length == 1  # a long prime: the stream reads it and draws one


def test_a_cancelled_stream_stops_and_still_reports_its_end(model):
    session = GenerationSession(pace=0)
    _, stream = session.begin(model, VOCAB, "ab", 100_000)
    chunks = streamed(session, stream, cancel_after=1)
    assert chunks[-1].finished and not session.streaming
    assert sum(len(c.text) for c in chunks) < 100_000


def test_reports_of_a_replaced_stream_are_dropped(model):
    session = GenerationSession(pace=0)
    _, old = session.begin(model, VOCAB, "ab", 50)
    _, new = session.begin(model, VOCAB, "cd", 50)
    late: list[Chunk] = []
    session.run(old, late.append, lambda: False)
    assert late and not any(session.take(chunk) for chunk in late)
    assert session.streaming  # the new stream is still to run
    assert not session.failed(old.ticket) and session.streaming
    assert session.failed(new.ticket) and not session.streaming


def test_the_pace_spreads_the_characters_over_time(model, monkeypatch):
    slept = []
    monkeypatch.setattr(generation_module.time, "sleep", slept.append)
    session = GenerationSession(pace=100)
    _, stream = session.begin(model, VOCAB, "ab", 21)
    streamed(session, stream)
    # with no time passing while it "sleeps", each wait reaches to its character's moment:
    # the 20th streamed character (after the one drawn at once) is due 0.2 s after the start
    assert len(slept) == 20 and max(slept) == pytest.approx(0.2, abs=0.02)


def test_weights_that_are_not_finite_are_refused_at_the_start(model):
    broken = CharRNN(model.config)
    with torch.no_grad():
        broken.cells[0].bias_ih.fill_(float("nan"))
    session = GenerationSession()
    with pytest.raises(ChartuiError, match="not finite"):
        session.begin(broken, VOCAB, "ab", 10)
    assert not session.streaming and session.current is None


def test_choosing_a_candidate_by_hand_walks_the_text_down_that_path(model):
    """1-8 in the app: the chosen candidate is the next character, and the model then expects
    what it would after a prime ending in it; a candidate that top-k rules out cannot be
    chosen."""
    from chartui.config import SamplingSettings
    from chartui.sampling import Generation
    session = GenerationSession(pace=0)
    first, _ = session.begin(model, VOCAB, "ab", 2000, seed=7, stepping=True)
    third = session.candidates()[2][0]
    assert session.choose(3) == third
    after = Generation(model, VOCAB, "ab" + first + third, SamplingSettings(0.8))
    steered, expected = session.candidates(), after.candidates(CANDIDATES)
    assert [c for c, _, _ in steered] == [c for c, _, _ in expected]
    assert [p for _, p, _ in steered] == pytest.approx([p for _, p, _ in expected], abs=1e-5)
    session.settings.top_k = 2
    assert session.choose(3) is None and session.choose(2) is not None
