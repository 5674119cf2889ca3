"""The parts the training loop leans on, each on its own: batches, the time budget, the
divergence rule and the best score, quiet saves, the controls and where a run starts."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from chartui.batches import Batches, held_out_chars, held_out_loss
from chartui.budget import RunTiming, TimeBudget
from chartui.checkpoint import CheckpointFiles, CheckpointWriteError
from chartui.config import preset
from chartui.controls import ControlledRun
from chartui.corpus import corpus_from_text
from chartui.errors import ChartuiError
from chartui.judging import BestScore, diverged, model_problem
from chartui.model import CharRNN, ModelConfig
from chartui.progress import RunState
from chartui.resume import StartPoint
from chartui.saving import QuietSaves

CPU = torch.device("cpu")
TEXT = np.arange(1000, dtype=np.int64) % 50  # a text of 1000 characters from 50 ids


def batches(**changes) -> Batches:
    config = preset("default").override(batch_size=4, seq_len=8, seed=3, **changes)
    return Batches(TEXT, config, CPU)


def test_streams_read_on_and_a_restored_copy_reads_the_same():
    streams = batches(batching="stream")
    x1, y1 = streams.next()
    x2, _ = streams.next()
    assert torch.equal(x2[:, 0], y1[:, -1]) and torch.equal(x1[:, 1:], y1[:, :-1])
    copy = batches(batching="stream")
    copy.restore({"batches": streams.generator.get_state()}, streams.stream_payload())
    assert torch.equal(copy.next()[0], streams.next()[0])


def test_random_windows_follow_their_generator_through_a_checkpoint():
    windows = batches(batching="random")
    windows.next()
    saved = windows.generator.get_state()
    again = batches(batching="random")
    again.restore({"batches": saved}, {})
    assert torch.equal(again.next()[0], windows.next()[0])


def test_only_streams_carry_their_state_and_only_to_a_batch_of_their_size():
    state = (torch.ones(1, 4, 3, dtype=torch.bfloat16), torch.ones(1, 4, 3))
    random = batches(batching="random")
    random.carry(state)
    assert random.carried_state is None and random.state_for(4) is None
    streams = batches(batching="stream")
    streams.carry(state)
    assert streams.carried_state[0].dtype == torch.float32  # carried (and saved) in float32
    assert streams.state_for(4) is streams.carried_state
    assert streams.state_for(5) is None  # another batch size: the streams start afresh
    kept = streams.stream_payload()
    assert kept["position"] == 0 and torch.equal(kept["h"], torch.ones(1, 4, 3))


def test_the_held_out_loss_reads_a_spread_subset_and_leaves_training_mode_on():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(50, 8, 16)).train()
    read = []
    forward = model.forward
    model.forward = lambda ids, state=None, engine="fast": (read.append(ids.numel()),
                                                            forward(ids, state, engine))[1]
    whole = held_out_loss(model, TEXT, 8, 10**6, CPU)
    assert held_out_chars(TEXT, 10**6) == 999
    assert 0.95 * 999 <= sum(read) <= 999  # whole streams: all but a remainder
    read.clear()
    subset = held_out_loss(model, TEXT, 8, 200, CPU)
    assert sum(read) <= 200 and model.training
    assert math.isfinite(whole) and math.isfinite(subset)
    assert held_out_loss(model, TEXT[:1], 8, 100, CPU) is None  # nothing to predict


def test_a_time_budget_goes_on_where_it_was_or_starts_a_new_leg():
    assert TimeBudget.of_run(10.0, 4.0, spent=False).used == 4.0
    assert TimeBudget.of_run(10.0, 4.0, spent=True).used == 0.0  # its time ran out: a new leg
    assert TimeBudget.of_run(10.0, 12.0, spent=False).used == 0.0
    budget = TimeBudget(10.0, used=4.0)
    assert not budget.spent(3.0, reserve=2.0) and budget.spent(4.0, reserve=2.0)
    assert budget.fraction(2.0, reserve=2.0) == pytest.approx(6.0 / 8.0)
    assert budget.remaining(7.0) == 0.0
    unlimited = TimeBudget(None)
    assert not unlimited.spent(1e9, 0.0) and unlimited.fraction(5.0, 0.0) == 0.0
    assert unlimited.remaining(5.0) is None


def test_the_reserve_follows_what_the_run_took_and_the_eta_the_sooner_end():
    timing = RunTiming(start_step=10, final_eval_chars=1000, step_chars=100)
    assert timing.reserve() == 0.5  # nothing timed yet: only the margin
    timing.took_step(0.2)
    timing.took_step(0.4)
    assert timing.seconds_to_score(1000) == pytest.approx(3.0)  # the steps' average pace
    assert not timing.took_eval(0.1, max_chars=500)  # a subset
    assert timing.took_eval(0.5, max_chars=None)  # the whole text
    assert timing.reserve() == pytest.approx(1.5 * 0.5 + 0.4 + 0.5)
    assert timing.eta(step=20, iterations=30, elapsed=5.0, remaining=None) == 5.0
    assert timing.eta(step=20, iterations=30, elapsed=5.0, remaining=2.0) == 2.0
    assert timing.restarted(20).steps == 0


def test_a_loss_diverges_past_three_times_the_first_and_bad_weights_are_named():
    assert not diverged(3.0, first_loss=1.0) and diverged(3.1, first_loss=1.0)
    assert diverged(math.nan, first_loss=None) and not diverged(100.0, first_loss=None)
    model = CharRNN(ModelConfig(5, 4, 4))
    assert model_problem(model, 1.0, first_loss=1.0) is None
    assert "validation loss became inf" in model_problem(model, math.inf, first_loss=1.0)
    with torch.no_grad():
        next(model.parameters()).fill_(math.nan)
    assert model_problem(model, None, first_loss=None) == \
        "the weights are no longer finite numbers"


def test_the_best_score_is_the_lowest_finite_one_and_shows_its_figure():
    best = BestScore(2.0)
    assert not best.improves(2.5) and not best.improves(math.nan) and not best.improves(None)
    assert best.improves(1.5, shown=1.7)
    assert (best.score, best.val_loss) == (1.5, 1.7)


def test_a_failed_save_is_told_once_until_one_succeeds(tmp_path):
    outcomes = [CheckpointWriteError(tmp_path / "a.pt", "disk full", "free some space")] * 2
    outcomes.append(tmp_path / "b.pt")
    finite = [True]

    def save(val_loss, best):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    saves = QuietSaves(CheckpointFiles(tmp_path, "notes"), None, save, lambda: finite[0])
    assert saves.save(1.0) is None and "disk full" in saves.take_error()
    assert saves.save(1.0) is None and saves.take_error() is None  # told once
    assert saves.save(1.0) == str(tmp_path / "b.pt") and saves.take_error() is None
    finite[0] = False
    assert saves.save(1.0) is None and "no longer finite" in saves.take_error()
    assert saves.kept("nothing") == "nothing"
    assert "last good checkpoint is old.pt" in QuietSaves(
        CheckpointFiles(tmp_path, "notes"), "old.pt", save, lambda: True).divergence(7, "x", 0.1)


def test_the_first_stop_reason_stands_and_pausing_waits_for_training():
    controls = ControlledRun()
    controls.pause()
    assert controls.state is RunState.IDLE  # not training yet: nothing to pause
    controls.state = RunState.TRAINING
    controls.pause()
    assert controls.state is RunState.PAUSED
    controls.resume()
    assert controls.state is RunState.TRAINING
    controls.stop("hangup")
    controls.stop("stopped")
    assert controls.stop_requested and controls.stop_reason is RunState.HANGUP


def test_a_start_point_is_refused_on_other_characters_and_notes_a_changed_text():
    corpus = corpus_from_text("abcabc " * 50, "notes")
    model = CharRNN(ModelConfig(len(corpus.vocab), 4, 4))
    payload = {"model_config": model.config.to_dict(), "vocabulary": corpus.vocab.to_string(),
               "model_state": model.state_dict(), "step": 12,
               "corpus": {"name": "notes", "fingerprint": "an older text"}}
    point = StartPoint.of(payload, Path("c.pt"), corpus)
    assert point.step == 12 and point.best_val_loss is None and point.rng == {}
    assert "has changed since that checkpoint" in point.note
    other = corpus_from_text("xyz " * 50, "other")
    with pytest.raises(ChartuiError, match="different vocabulary"):
        StartPoint.of(payload, Path("c.pt"), other)
