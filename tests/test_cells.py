"""Cell types: a GRU or a plain RNN in place of the LSTM, through a whole run: training,
checkpoints, resuming, sampling, beam search, the app's summaries and the command line."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from chartui.beam import beam_search
from chartui.checkpoint import CheckpointSummary, load_checkpoint, load_model, save_checkpoint
from chartui.errors import ChartuiError
from chartui.model import CharRNN, ModelConfig
from chartui.resume import resume_config
from chartui.runs import list_runs
from chartui.sampling import FUSED_PRIME_LENGTH, Generation, sample_text
from chartui.stepper import CellStepper
from chartui.trainer import Trainer
from chartui.vocab import Vocabulary

from helpers import FAQ, tiny_config


@pytest.fixture(scope="module")
def gru_run(faq, tmp_path_factory):
    """A two-layer GRU trained for 60 steps: its trainer, its loss before training, the end."""
    folder = tmp_path_factory.mktemp("gru")
    trainer = Trainer(faq, tiny_config(cell="gru", num_layers=2), device="cpu",
                      checkpoint_dir=folder)
    before = trainer.evaluate()
    messages = []
    done = trainer.run(lambda p: messages.append(p.message) if p.event == "start" else None)
    return trainer, before, done, messages[0]


def test_a_gru_run_learns_and_its_checkpoint_records_the_cell(gru_run, faq):
    trainer, before, done, start_message = gru_run
    assert done.state == "finished" and done.val_loss < before - 0.5, (before, done.val_loss)
    assert start_message.startswith("training GRU cells in fp32")
    assert trainer.summary().cell == "gru"
    payload = load_checkpoint(done.checkpoint)
    assert payload["model_config"]["cell"] == payload["train_config"]["cell"] == "gru"
    model, vocab, _ = load_model(done.checkpoint)
    assert all(isinstance(cell, torch.nn.GRUCell) for cell in model.cells)
    assert not model.has_cell_state
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, model.state_dict()[name]), name
    assert CheckpointSummary.of(payload, done.checkpoint, model).cell == "gru"
    (log,), _ = list_runs(os.path.dirname(done.checkpoint))
    assert log.cell == "gru" and log.config["cell"] == "gru"
    # it samples (the same seed, the same text) and searches
    text = sample_text(model, vocab, "Th", 80, seed=3)
    assert len(text) == 82 and text == sample_text(model, vocab, "Th", 80, seed=3)
    assert len(beam_search(model, vocab, "The ", 20, width=3).text) == 20


def test_a_resumed_run_keeps_its_cell_and_refuses_another(gru_run, faq, tmp_path):
    _, _, done, _ = gru_run
    payload = load_checkpoint(done.checkpoint)
    config = resume_config(payload, {"iterations": done.step + 5})
    assert config.cell == "gru"
    resumed = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path,
                      resume=done.checkpoint, resume_payload=payload)
    assert all(isinstance(cell, torch.nn.GRUCell) for cell in resumed.model.cells)
    assert resumed.run().step == done.step + 5
    assert resume_config(payload, {"cell": "gru"}).cell == "gru"  # the same cell is fine
    with pytest.raises(ChartuiError, match="keeps its model's shape, so cell cannot change"):
        resume_config(payload, {"cell": "lstm"})


def test_an_old_checkpoint_without_a_cell_loads_and_resumes_as_an_lstm(trained_run, faq,
                                                                      tmp_path):
    payload = load_checkpoint(trained_run.path)
    for key in ("model_config", "train_config"):  # as chartui wrote them before cells
        payload[key] = {k: v for k, v in payload[key].items() if k != "cell"}
    old = save_checkpoint({k: v for k, v in payload.items()
                           if k not in ("format", "format_version", "chartui_version")},
                          tmp_path / "old.pt")
    model, _, loaded = load_model(old)
    assert "cell" not in loaded["model_config"] and model.config.cell == "lstm"
    assert all(isinstance(cell, torch.nn.LSTMCell) for cell in model.cells)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        assert torch.equal(model(ids)[0], trained_run.model(ids)[0])
    config = resume_config(loaded, {"iterations": int(loaded["step"]) + 2})
    assert config.cell == "lstm"
    resumed = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path / "run", resume=old)
    assert resumed.run().state == "finished"


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_a_long_prime_through_the_fused_kernel_ends_where_stepping_it_does(cell):
    """A prime longer than FUSED_PRIME_LENGTH runs through torch.gru or torch.rnn_tanh in one
    call: the state it leaves, and so the next character's logits, are the stepper's."""
    vocab = Vocabulary.from_text("abcdefgh \n")
    torch.manual_seed(2)
    model = CharRNN(ModelConfig(len(vocab), 6, 12, num_layers=2, cell=cell)).eval()
    prime = ("abc defg\nh" * 40)[:FUSED_PRIME_LENGTH + 30]
    generation = Generation(model, vocab, prime)
    stepper = CellStepper(model)
    for index in vocab.encode(prime):
        logits = stepper.step(int(index))
    assert np.allclose(generation.logits, logits, atol=1e-5)
    assert np.allclose(np.stack(generation.stepper.c), 0)  # no cell state: c stays zeros


def chartui(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    return subprocess.run([sys.executable, "-m", "chartui", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


SMALL = ["--iterations", "30", "--eval-every", "30", "--sample-every", "0", "--hidden", "32",
         "--embedding", "16", "--batch-size", "8", "--seq-len", "32", "--seed", "3"]


@pytest.mark.e2e
@pytest.mark.slow
def test_chartui_train_with_a_gru_and_a_bad_cell(tmp_path):
    result = chartui("train", FAQ, "--cell", "gru", *SMALL, "--checkpoint-dir", tmp_path,
                     "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["message"].startswith("training GRU cells in ")
    checkpoint = events[-1]["checkpoint"]
    assert load_checkpoint(checkpoint)["model_config"]["cell"] == "gru"
    sample = chartui("sample", checkpoint, "--length", "40", "--seed", "1")
    assert sample.returncode == 0 and len(sample.stdout) >= 40, sample.stderr
    listing = chartui("runs", "--checkpoint-dir", tmp_path)
    assert "gru 1x32" in listing.stdout

    for args in (["train", FAQ, "--cell", "foo", *SMALL],
                 ["train", FAQ, "--resume", checkpoint, "--cell", "rnn"]):
        refused = chartui(*args, "--checkpoint-dir", tmp_path / "refused")
        assert refused.returncode == 1 and "Traceback" not in refused.stderr + refused.stdout
        (line,) = [line for line in refused.stderr.splitlines() if line.strip()]
        assert ("cell 'foo' is not allowed: use one of: lstm, gru, rnn" in line
                if "foo" in args else "cell cannot change" in line), line


async def test_the_app_names_a_gru_it_opens_and_an_rnn_it_trains(gru_run, tmp_path):
    from tui_helpers import (
        app_for,
        press,
        record_notifications,
        settle,
        small_config,
        start_training,
        wait_for,
    )
    _, _, done, _ = gru_run
    app = app_for(tmp_path, checkpoint=done.checkpoint)
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="opened")
        assert "· GRU " in str(main.status.render()) and "params" in str(main.status.render())

    app = app_for(tmp_path / "rnn", config=small_config(cell="rnn"))
    main = app.main
    async with app.run_test(size=(100, 32)) as pilot:
        notes = record_notifications(app)
        await settle(pilot, app)
        assert "· RNN " in str(main.status.render())  # the size the settings would build
        await start_training(pilot, app)
        assert "· RNN " in str(main.status.render())
        assert ("information", "training RNN cells in fp32 (as asked)") in notes
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
    lstm = app_for(tmp_path / "lstm")
    async with lstm.run_test(size=(100, 32)) as pilot:
        await start_training(pilot, lstm)
        assert "LSTM" not in str(lstm.main.status.render())  # the default cell goes unnamed
        await press(pilot, "x")
        await wait_for(pilot, lambda: lstm.main.train_state == "stopped", what="stop")
