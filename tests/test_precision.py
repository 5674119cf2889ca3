"""Mixed precision: bf16 autocast steps, float32 master weights, and the choice `auto` makes."""

import itertools
import json
import os
import subprocess
import sys
import time

import pytest
import torch
from torch.nn import functional as F

from chartui import precision as precision_module
from chartui.checkpoint import load_checkpoint, load_model
from chartui.errors import ChartuiError
from chartui.model import CharRNN, ModelConfig
from chartui.precision import Precision, choose_precision, cpu_bf16_flags
from chartui.sampling import sample_text
from chartui.trainer import Trainer

from helpers import FAQ, needs_bf16, tiny_config

CPU = torch.device("cpu")
# oneDNN limited to AVX2 has no bf16 LSTM: a machine without bf16, simulated.
NO_BF16_ENV = {"ONEDNN_MAX_CPU_ISA": "AVX2"}


def chartui(*args, env=None, timeout=300):
    environment = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "chartui", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=environment)


def loss_of(model, ids, precision: Precision) -> torch.Tensor:
    with precision.autocast(CPU):
        logits, _ = model(ids[:, :-1])
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


@needs_bf16
def test_bf16_and_fp32_losses_agree_on_the_same_weights(faq):
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(len(faq.vocab), 32, 128)).eval()
    ids = torch.from_numpy(faq.data[:16 * 65].astype("int64")).reshape(16, 65)
    with torch.no_grad():
        full = loss_of(model, ids, Precision("fp32", ""))
        half = loss_of(model, ids, Precision("bf16", ""))
    # bf16 keeps 8 bits of mantissa: the mean loss over 1,024 characters moves by < 1 %
    assert abs(full.item() - half.item()) < 0.01 * full.item(), (full.item(), half.item())
    assert half.dtype == torch.float32  # the loss itself is computed in float32


@needs_bf16
def test_bf16_steps_learn_and_keep_float32_weights(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(iterations=80, eval_every=40, precision="bf16"),
                      device="cpu", checkpoint_dir=tmp_path)
    assert trainer.precision.name == "bf16"
    before = trainer.evaluate()
    x, y = trainer.get_batch()
    with trainer.precision.autocast(CPU):
        logits, _ = trainer.model(x)
    F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
    grads = [p.grad for p in trainer.model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    trainer.model.zero_grad(set_to_none=True)
    done = trainer.run()
    assert done.precision == "bf16" and done.val_loss < before - 0.5, (before, done.val_loss)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    payload = load_checkpoint(done.checkpoint)
    assert payload["precision"] == "bf16"
    assert all(t.dtype == torch.float32 for t in payload["model_state"].values())
    assert payload["stream"]["h"].dtype == torch.float32


@needs_bf16
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_bf16_steps_of_gru_and_rnn_cells(faq, tmp_path, cell):
    """Mixed precision applies to every cell: the same loss as float32 within bf16's
    rounding, finite gradients on both engines, and a run that learns and saves float32."""
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(len(faq.vocab), 32, 64, num_layers=2, cell=cell))
    ids = torch.from_numpy(faq.data[:16 * 65].astype("int64")).reshape(16, 65)
    with torch.no_grad():
        model.eval()
        full = loss_of(model, ids, Precision("fp32", ""))
        half = loss_of(model, ids, Precision("bf16", ""))
    assert abs(full.item() - half.item()) < 0.01 * full.item(), (full.item(), half.item())
    with Precision("bf16", "").autocast(CPU):  # the fused kernel itself runs in bf16
        _, (h, _) = model(ids[:4, :-1], engine="fast")
    assert h.dtype == torch.bfloat16, cell
    model.train()
    for engine in ("fast", "cell"):
        with Precision("bf16", "").autocast(CPU):
            logits, _ = model(ids[:4, :-1], engine=engine)
        F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                        ids[:4, 1:].reshape(-1)).backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for p in model.parameters()), engine
        model.zero_grad(set_to_none=True)
    trainer = Trainer(faq, tiny_config(iterations=40, eval_every=40, precision="bf16",
                                       num_layers=2, cell=cell),
                      device="cpu", checkpoint_dir=tmp_path)
    before = trainer.evaluate()
    done = trainer.run()
    assert done.precision == "bf16" and done.val_loss < before - 0.3, (before, done.val_loss)
    payload = load_checkpoint(done.checkpoint)
    assert payload["model_config"]["cell"] == cell
    assert all(t.dtype == torch.float32 for t in payload["model_state"].values())
    assert payload["stream"]["h"].dtype == torch.float32


def test_the_precision_trial_and_the_planner_time_the_runs_own_cell(faq, monkeypatch):
    """`auto` and the planner time a trial model of the run's cell, not an LSTM."""
    from chartui.run_setup import RunSetup
    timed = []

    def trial_step(model, batch_size, seq_len, engine, device):
        timed.append((type(model.cells[0]).__name__, model.config.hidden_size))
        return lambda: None

    monkeypatch.setattr(precision_module, "trial_step", trial_step)
    monkeypatch.setattr(precision_module, "_timed", lambda step, precision, device: 0.01)
    config = tiny_config(cell="gru", hidden_size=None, batch_size=None, iterations=None,
                         max_time=30.0, precision="auto")
    monkeypatch.setattr(precision_module, "cpu_bf16_flags", lambda: ["AVX512_BF16"])
    setup = RunSetup.choose(config, faq, len(faq.data), CPU, started_at=time.perf_counter())
    assert setup.plan_note is not None  # the planner sized the model from these trials
    assert timed and {name for name, _ in timed} == {"GRUCell"}


def test_auto_takes_bf16_only_when_it_is_faster(monkeypatch):
    def trial(step_seconds):
        monkeypatch.setattr(precision_module, "_timed",
                            lambda step, precision, device: step_seconds[precision.name])
        return choose_precision("auto", CPU, step=lambda: None, flags=["AVX512_BF16"])[0]

    faster = trial({"bf16": 0.05, "fp32": 0.1})
    assert faster.name == "bf16" and "2.0x" in faster.reason
    slower = trial({"bf16": 0.1, "fp32": 0.1})
    assert slower.name == "fp32" and "not faster" in slower.reason
    no_flags = choose_precision("auto", CPU, step=lambda: None, flags=[])[0]
    assert no_flags.name == "fp32" and "no bf16 instructions" in no_flags.reason
    assert choose_precision("fp32", CPU)[0].name == "fp32"


def test_the_comparison_takes_the_two_precisions_in_turns(monkeypatch):
    """A neighbour that slows the machine for a moment slows both precisions alike."""
    order = []
    monkeypatch.setattr(precision_module, "_timed",
                        lambda step, precision, device: order.append(precision.name) or 1.0)
    precision_module.compare_steps(lambda: None, CPU)
    timed = order[2:]  # after one warm-up of each
    assert len(timed) >= 6 and all(a != b for a, b in itertools.pairwise(timed))


def test_auto_falls_back_and_an_explicit_bf16_is_refused_when_bf16_fails():
    def refused():
        raise RuntimeError("could not create a primitive descriptor for the LSTM forward\nmore")

    chosen = choose_precision("auto", CPU, step=refused, flags=["AVX512_BF16"])[0]
    assert chosen.name == "fp32" and "failed" in chosen.reason
    with pytest.raises(ChartuiError, match="cannot train in bf16.*--precision fp32"):
        choose_precision("bf16", CPU, step=refused, flags=["AVX512_BF16"])


def test_cpu_flags_are_read_at_run_time():
    flags = cpu_bf16_flags()
    assert set(flags) <= {"AVX512_BF16", "AMX"}
    if "avx512_bf16" in open("/proc/cpuinfo").read():
        assert "AVX512_BF16" in flags


@pytest.mark.e2e
@pytest.mark.slow
@needs_bf16
def test_bf16_checkpoint_samples_resumes_and_is_refused_clearly_without_bf16(tmp_path):
    small = ["--iterations", "30", "--eval-every", "15", "--sample-every", "0", "--hidden", "32",
             "--embedding", "16", "--batch-size", "8", "--seq-len", "32", "--seed", "3",
             "--checkpoint-dir", tmp_path]
    trained = chartui("train", FAQ, *small, "--precision", "bf16", "--json")
    assert trained.returncode == 0, trained.stderr
    events = [json.loads(line) for line in trained.stdout.splitlines()]
    assert {e["precision"] for e in events} == {"bf16"}
    checkpoint = events[-1]["checkpoint"]

    # on a machine without bf16: sampling works, auto resumes in float32 and says why,
    # and an explicit bf16 is one sentence, with nothing saved lost
    sampled = chartui("sample", checkpoint, "--length", "40", "--seed", "1", env=NO_BF16_ENV)
    assert sampled.returncode == 0 and len(sampled.stdout.strip()) >= 40, sampled.stderr
    resumed = chartui("train", FAQ, "--resume", checkpoint, "--iterations", "40",
                      "--precision", "auto", "--json", "--checkpoint-dir", tmp_path / "r",
                      env=NO_BF16_ENV)
    assert resumed.returncode == 0, resumed.stderr
    start = json.loads(resumed.stdout.splitlines()[0])
    assert start["precision"] == "fp32" and "bf16 failed" in start["message"]
    assert json.loads(resumed.stdout.splitlines()[-1])["step"] == 40
    refused = chartui("train", FAQ, *small, "--precision", "bf16", env=NO_BF16_ENV)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--precision fp32" in lines[0], refused.stderr
    assert os.path.exists(checkpoint)


@needs_bf16
def test_a_bf16_checkpoint_opens_and_generates_in_float32(faq, tmp_path):
    done = Trainer(faq, tiny_config(iterations=10, precision="bf16"), device="cpu",
                   checkpoint_dir=tmp_path).run()
    model, vocab, payload = load_model(done.checkpoint, CPU)
    assert payload["precision"] == "bf16"
    assert next(model.parameters()).dtype == torch.float32
    assert len(sample_text(model, vocab, "Th", 30, 0.8, None, seed=1)) == 2 + 30
