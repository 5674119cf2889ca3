"""The model sized for a time budget: which shapes are measured, which is chosen, and why."""

import pytest

from chartui.config import parameter_count, preset
from chartui.planner import (
    CANDIDATES,
    MIN_CHARS_PER_PARAMETER,
    UNPLANNED,
    dropout_for,
    plan_for_budget,
)
from chartui.trainer import Trainer

VOCAB = 65


class FakeSpeed:
    """Chars/s falling with the work per character, as on a real CPU; records what it measured."""

    def __init__(self, flops_per_second: float):
        self.flops_per_second = flops_per_second
        self.asked = []

    def __call__(self, hidden: int, batch: int) -> float:
        self.asked.append((hidden, batch))
        return self.flops_per_second / (8 * hidden * (64 + hidden))


def test_a_longer_budget_gets_a_wider_model_measured_narrowest_first():
    config = preset("default").override(max_time=65.0)
    short = FakeSpeed(2e10)
    planned_short = plan_for_budget(config, 1_000_000, VOCAB, 60.0, short)
    long = FakeSpeed(2e10)
    planned_long = plan_for_budget(config, 1_000_000, VOCAB, 600.0, long)
    assert planned_short.config.hidden_size < planned_long.config.hidden_size
    # measured narrowest first, and nothing past the first shape that does not fit
    assert short.asked == list(CANDIDATES[:len(short.asked)])
    assert len(short.asked) < len(CANDIDATES)
    chosen = planned_short.config
    assert (chosen.hidden_size, chosen.batch_size) == short.asked[-2]
    weights = parameter_count(chosen, VOCAB)
    chars = short(chosen.hidden_size, chosen.batch_size) * 60.0 * 0.9
    assert chars >= MIN_CHARS_PER_PARAMETER * weights
    assert "sized for 65 s" in planned_short.summary and "hidden" in planned_short.summary


def test_a_small_corpus_keeps_the_model_small_and_gets_dropout():
    config = preset("default").override(max_time=300.0)
    plan = plan_for_budget(config, 50_000, VOCAB, 300.0, FakeSpeed(1e11))
    assert plan.config.hidden_size == CANDIDATES[0][0]  # wider ones would only memorise
    assert plan.config.dropout == pytest.approx(0.3)


def test_fields_the_user_set_are_kept():
    config = preset("default").override(max_time=170.0, hidden_size=128, dropout=0.1)
    speed = FakeSpeed(2e10)
    plan = plan_for_budget(config, 1_000_000, VOCAB, 170.0, speed)
    assert plan.config.hidden_size == 128 and plan.config.dropout == 0.1
    assert speed.asked == [(128, 32)]  # the batch planned for the nearest width
    assert plan.config.batch_size == 32
    every = config.override(batch_size=16, max_time=170.0)
    untouched = FakeSpeed(2e10)
    assert plan_for_budget(every, 1_000_000, VOCAB, 170.0, untouched).config == every
    assert untouched.asked == []


def test_without_a_time_budget_nothing_is_measured():
    config = preset("default").override(iterations=100)
    assert config.max_time is None
    speed = FakeSpeed(2e10)
    plan = plan_for_budget(config, 1_000_000, VOCAB, float("inf"), speed)
    assert speed.asked == [] and plan.summary is None
    assert {k: getattr(plan.config, k) for k in UNPLANNED} == UNPLANNED


def test_dropout_grows_with_passes_over_the_text():
    assert dropout_for(1.0) == dropout_for(3.0) == 0.0
    assert 0 < dropout_for(5.0) < dropout_for(6.0) <= dropout_for(50.0) == 0.3


def test_a_timed_trainer_sizes_its_model_and_says_so(faq, tmp_path):
    config = preset("default").override(embedding_dim=16, seq_len=32, max_time=30.0,
                                        precision="fp32", sample_every=0)
    assert config.iterations is None and config.hidden_size is None
    trainer = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path)
    chosen = trainer.config
    assert (chosen.hidden_size, chosen.batch_size) in CANDIDATES
    assert chosen.dropout is not None
    assert trainer.model.config.hidden_size == chosen.hidden_size
    assert "sized for 30 s" in trainer.start_message()
    assert trainer.start_message().startswith("training in fp32 (as asked)")
