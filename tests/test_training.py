import gc
import itertools
import math
import threading
import time
import weakref

import numpy as np
import pytest
import torch

from chartui.checkpoint import load_checkpoint, load_model
from chartui.config import learning_rate, preset
from chartui.corpus import corpus_from_text
from chartui.errors import ChartuiError
from chartui.trainer import Trainer

from helpers import tiny_config


def test_batches_line_up(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(), device="cpu", checkpoint_dir=tmp_path)
    x, y = trainer.get_batch()
    assert x.shape == y.shape == (16, 32)
    assert torch.equal(x[:, 1:], y[:, :-1])
    # each row is a real window of the training text
    text = faq.text(0, len(trainer.train_data))
    for row_x, row_y in zip(x, y, strict=True):
        window = faq.vocab.decode(row_x.tolist()) + faq.vocab.decode(row_y[-1:].tolist())
        assert window in text


def test_stream_batches_continue_where_the_last_ended(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(batching="stream"), device="cpu", checkpoint_dir=tmp_path)
    x1, y1 = trainer.get_batch()
    x2, _ = trainer.get_batch()
    assert torch.equal(x2[:, 0], y1[:, -1])  # each row reads on
    assert torch.equal(x1[:, 1:], y1[:, :-1])
    starts = [faq.text(0, len(trainer.train_data)).find(faq.vocab.decode(r.tolist()))
              for r in x1]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # spread out


def test_loss_falls_well_below_uniform_within_seconds(faq, tmp_path):
    events = []
    trainer = Trainer(faq, tiny_config(iterations=150, eval_every=50, lr=1e-2),
                      device="cpu", checkpoint_dir=tmp_path)
    done = trainer.run(events.append)
    uniform = math.log(len(faq.vocab))
    assert done.state == "finished" and done.step == 150
    assert done.val_loss < 0.75 * uniform, (done.val_loss, uniform)
    vals = [e.val_loss for e in events if e.val_loss is not None]
    assert vals[-1] < vals[0]
    assert events[0].event == "start" and events[-1].event == "done"


def test_same_seed_same_numbers(faq, tmp_path):
    runs = []
    for i in range(2):
        t = Trainer(faq, tiny_config(iterations=20), device="cpu",
                    checkpoint_dir=tmp_path / str(i))
        t.run()
        runs.append(t.history.train)
    assert runs[0] == runs[1]
    other = Trainer(faq, tiny_config(iterations=20, seed=8), device="cpu",
                    checkpoint_dir=tmp_path / "x")
    other.run()
    assert other.history.train != runs[0]


def test_divergence_stops_and_keeps_last_good_checkpoint(faq, tmp_path):
    """A learning rate that warms up to far too much: the first steps are good and saved (an
    evaluation and a checkpoint every step), then the loss blows up. The run stops, names the
    last good checkpoint, and that file is kept as it was: no save after things went wrong."""
    events = []
    trainer = Trainer(faq, tiny_config(iterations=400, lr=10.0, clip=0.0, eval_every=1,
                                       warmup_steps=20),
                      device="cpu", checkpoint_dir=tmp_path)
    done = trainer.run(events.append)
    assert done.state == "diverged"
    assert "lower learning rate" in done.message
    assert done.step < 400
    saved = [e.checkpoint for e in events if e.event == "step" and e.checkpoint]
    assert saved, "the run diverged before its first checkpoint: nothing good to keep"
    assert done.checkpoint == saved[-1]  # the last file written before things went wrong
    assert f"the last good checkpoint is {done.checkpoint}" in done.message
    model, _, payload = load_model(done.checkpoint)
    assert payload["step"] < done.step
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(load_checkpoint(path)["step"] < done.step for path in tmp_path.glob("*.pt"))


def test_pause_resume_stop_from_another_thread(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(iterations=10**6, eval_every=10**6), device="cpu",
                      checkpoint_dir=tmp_path)
    seen = threading.Event()

    def listener(p):
        if p.step >= 5:
            seen.set()

    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("done", trainer.run(listener)))
    thread.start()
    assert seen.wait(30)
    trainer.pause()
    import time
    time.sleep(0.3)
    paused_at = trainer.step
    time.sleep(0.3)
    assert trainer.step == paused_at and trainer.state == "paused"
    trainer.resume()
    time.sleep(0.3)
    assert trainer.step > paused_at
    trainer.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert result["done"].state == "stopped"
    assert result["done"].checkpoint and tmp_path.joinpath(
        result["done"].checkpoint.split("/")[-1]).exists()


def test_corpus_too_small_for_window_is_refused(tmp_path):
    tiny = corpus_from_text("just a few characters here")
    with pytest.raises(ChartuiError, match="use --seq-len"):
        Trainer(tiny, tiny_config(seq_len=100), device="cpu", checkpoint_dir=tmp_path)


def test_tiny_corpus_with_tiny_validation_split_still_trains(tmp_path):
    tiny = corpus_from_text("abcabcabd" * 8)
    trainer = Trainer(tiny, tiny_config(seq_len=8, iterations=5, eval_every=5, batch_size=2),
                      device="cpu", checkpoint_dir=tmp_path)
    done = trainer.run()
    assert done.state == "finished" and done.val_loss is not None


@pytest.mark.parametrize("field, value", [
    ("hidden_size", 0), ("batch_size", -3), ("lr", float("nan")), ("lr", 0.0),
    ("dropout", 1.5), ("val_fraction", 0.9), ("iterations", 0), ("seq_len", -1),
])
def test_silly_hyperparameters_are_refused(faq, tmp_path, field, value):
    with pytest.raises(ChartuiError, match="not allowed"):
        Trainer(faq, tiny_config(**{field: value}), device="cpu", checkpoint_dir=tmp_path)


def test_schedule_warms_up_then_decays_to_floor():
    c = preset("default").override(iterations=1000, warmup_steps=100, lr=1e-2,
                                   min_lr_ratio=0.1)
    lrs = [learning_rate(c, s) for s in range(1000)]
    assert lrs[0] < lrs[50] < lrs[99] <= 1e-2
    assert all(a >= b for a, b in itertools.pairwise(lrs[100:]))
    assert lrs[-1] == pytest.approx(1e-3, rel=1e-2)
    timed = preset("default").override(max_time=60.0, warmup_steps=0, lr=1e-2,
                                       min_lr_ratio=0.1)
    timed = timed.__class__.from_dict({**timed.to_dict(), "iterations": None})
    assert learning_rate(timed, 10, 0.5) == pytest.approx(5.5e-3)
    assert learning_rate(timed, 10, 1.0) == pytest.approx(1e-3)


def test_lesson_preset_trains_with_batch_one(tmp_path):
    from chartui.corpus import load_corpus

    from helpers import FAQ
    corpus = load_corpus(str(FAQ), vocabulary="printable")
    config = preset("lesson").override(iterations=20, eval_every=10, sample_every=10,
                                       eval_max_chars=2000)
    trainer = Trainer(corpus, config, device="cpu", checkpoint_dir=tmp_path)
    samples = []
    done = trainer.run(lambda p: p.sample and samples.append(p.sample))
    assert done.state == "finished" and len(corpus.vocab) == 100
    assert samples and all(s.startswith("Th") and len(s) == 202 for s in samples)
    assert np.isfinite(trainer.history.train).all()


def test_snapshot_does_not_wait_for_a_running_step(faq, tmp_path):
    unasked = Trainer(faq, tiny_config(iterations=3, eval_every=10**6), device="cpu",
                      checkpoint_dir=tmp_path / "a")
    unasked.run()
    assert unasked._published is None  # nobody asked: no copies made
    trainer = Trainer(faq, tiny_config(iterations=3, eval_every=10**6), device="cpu",
                      checkpoint_dir=tmp_path / "b")
    trainer.publish_snapshots = True
    trainer.run()
    taken = []
    with trainer._lock:  # as if a training step were running right now
        thread = threading.Thread(target=lambda: taken.append(trainer.snapshot_model()))
        thread.start()
        thread.join(timeout=10)
        assert taken, "snapshot_model waited for the step"
    published = dict(trainer._published.named_parameters())
    for name, value in taken[0].named_parameters():
        assert torch.equal(value, published[name]) and not taken[0].training


def test_a_run_keeps_the_collector_off_the_long_lived_objects(faq, tmp_path):
    """A full collection over torch's objects paused every thread (the UI's too) for about
    0.3 s every few seconds; a run moves what exists when it starts out of the way."""
    class Cycle:
        pass

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    trainer = Trainer(faq, tiny_config(iterations=2), device="cpu", checkpoint_dir=tmp_path)
    garbage = Cycle()
    garbage.itself = garbage  # only the cycle collector can free it
    dropped = weakref.ref(garbage)
    del garbage
    trainer.run()
    assert gc.get_freeze_count() > 0
    assert dropped() is None  # garbage made before the run was collected, not kept for good



def test_periodic_evaluations_score_a_spread_subset_and_the_last_one_all(faq, tmp_path):
    config = tiny_config(iterations=40, eval_every=20, eval_sample_chars=1024,
                         eval_max_chars=10**6)
    trainer = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path)
    scored = []  # characters read in eval mode, one entry per evaluation
    real_forward, real_evaluate = trainer.model.forward, trainer.evaluate

    def counting_forward(ids, state=None, engine="fast"):
        if not trainer.model.training:
            scored[-1] += ids.numel()
        return real_forward(ids, state, engine)

    def counting_evaluate(max_chars=None):
        scored.append(0)
        return real_evaluate(max_chars)

    trainer.model.forward, trainer.evaluate = counting_forward, counting_evaluate
    done = trainer.run()
    held_out = len(trainer.val_data) - 1
    assert [step for step, _ in trainer.history.val] == [20, 40]
    periodic, final, *compared = scored
    assert periodic <= 1024 < held_out
    assert final >= 0.95 * held_out  # the reported figure reads the whole held-out text
    assert all(n <= 1024 for n in compared)  # the final model on the subset, to pick the best
    trainer.model.forward = real_forward
    assert done.val_loss == pytest.approx(real_evaluate(), abs=1e-6)


def test_the_best_checkpoint_is_chosen_on_the_same_subset(faq, tmp_path):
    """The whole held-out text can score differently from the subset the periodic evaluations
    read: the final model is compared with them on that subset, not on the whole text."""
    config = tiny_config(iterations=60, eval_every=20, eval_sample_chars=1024,
                         eval_max_chars=10**6)
    trainer = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path)
    real_evaluate = trainer.evaluate

    def harder_whole_text(max_chars=None):  # as if the whole text were much harder
        loss = real_evaluate(max_chars)
        return loss + 1.0 if max_chars is None else loss

    trainer.evaluate = harder_whole_text
    done = trainer.run()
    periodic = [v for _, v in trainer.history.val[:-1]]
    assert done.val_loss > max(periodic)  # the whole text's figure, higher than any subset's
    assert trainer.checkpoints.best == trainer.checkpoints.latest  # still the best model
    assert done.best_val_loss == done.val_loss


def test_a_time_budget_covers_the_whole_run_and_a_resumed_run_gets_the_rest(faq, tmp_path):
    from chartui.checkpoint import load_checkpoint
    from chartui.resume import resume_config
    config = tiny_config(eval_every=10**6).override(max_time=4.0)
    assert config.iterations is None  # the time alone decides
    first = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path)
    events = []
    half = first.run(lambda p: (events.append(p), p.elapsed_s > 1.5 and first.stop("hangup")))
    assert half.state == "hangup"
    last_lr = [e.lr for e in events if e.event == "step"][-1]
    assert last_lr < 0.9 * config.lr  # well into the cosine

    payload = load_checkpoint(half.checkpoint)
    resumed = Trainer(faq, resume_config(payload, {}), device="cpu", checkpoint_dir=tmp_path,
                      resume=half.checkpoint)
    events = []
    began = time.perf_counter()
    done = resumed.run(events.append)
    steps = [e for e in events if e.event == "step"]
    assert steps[0].lr <= last_lr * 1.02  # the schedule goes on: not back at its peak
    assert done.state == "time_limit"
    assert done.elapsed_s <= config.max_time + 1.0  # both legs together
    assert time.perf_counter() - began < config.max_time - 1.0  # the second leg: what was left
    assert load_checkpoint(done.checkpoint)["time_budget_spent"] is True
    # a run whose budget is used up starts a new one when resumed
    again = Trainer(faq, resume_config(load_checkpoint(done.checkpoint), {}), device="cpu",
                    checkpoint_dir=tmp_path, resume=done.checkpoint)
    assert again.budget_used == 0.0
