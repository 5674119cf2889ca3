"""The `chartui` command end to end, as a user runs it (a real subprocess)."""

import json
import os
import subprocess
import sys

import pytest

from chartui.checkpoint import load_checkpoint
from chartui.runs import list_runs

from helpers import FAQ

pytestmark = pytest.mark.e2e

SMALL = ["--iterations", "40", "--eval-every", "20", "--sample-every", "20", "--hidden", "32",
         "--embedding", "16", "--batch-size", "8", "--seq-len", "32", "--seed", "3"]


def chartui(*args, cwd=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    return subprocess.run([sys.executable, "-m", "chartui", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def assert_clean_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    result = chartui("train", FAQ, *SMALL, "--checkpoint-dir", folder / "ck", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return folder, events


def test_train_json_log(trained):
    _, events = trained
    assert events[0]["event"] == "start"
    steps = [e for e in events if e["event"] == "step"]
    assert any(e["val_loss"] is not None for e in steps)
    assert any(e["sample"] for e in steps)
    done = events[-1]
    assert done["event"] == "done" and done["step"] == 40
    assert sum(e["event"] == "done" for e in events) == 1
    for key in ("train_loss", "val_loss", "chars_per_s", "elapsed_s", "checkpoint"):
        assert done[key] is not None, key
    assert os.path.exists(done["checkpoint"])
    # the precision auto chose, and why, is said in the first line, and recorded everywhere
    precision = done["precision"]
    assert precision in ("fp32", "bf16")
    assert {e["precision"] for e in events} == {precision}
    assert events[0]["message"].startswith(f"training in {precision} (")
    assert load_checkpoint(done["checkpoint"])["precision"] == precision
    (log,) = list_runs(os.path.dirname(done["checkpoint"]))[0]
    assert log.precision == precision


@pytest.mark.slow
def test_a_time_budget_sizes_the_model_and_explicit_options_win(tmp_path):
    planned = chartui("train", FAQ, "--max-time", "8", "--eval-every", "1000000", "--json",
                      "--checkpoint-dir", tmp_path / "a", "--embedding", "16")
    assert planned.returncode == 0, planned.stderr
    start = json.loads(planned.stdout.splitlines()[0])
    assert "model sized for 8 s: hidden" in start["message"]
    config = load_checkpoint(json.loads(planned.stdout.splitlines()[-1])["checkpoint"]
                             )["train_config"]
    assert config["hidden_size"] and config["batch_size"] and config["dropout"] is not None
    fixed = chartui("train", FAQ, "--max-time", "8", "--eval-every", "1000000", "--json",
                    "--checkpoint-dir", tmp_path / "b", "--embedding", "16", "--hidden", "40",
                    "--batch-size", "4", "--dropout", "0.1")
    assert fixed.returncode == 0, fixed.stderr
    assert "sized" not in json.loads(fixed.stdout.splitlines()[0])["message"]
    config = load_checkpoint(json.loads(fixed.stdout.splitlines()[-1])["checkpoint"]
                             )["train_config"]
    assert (config["hidden_size"], config["batch_size"], config["dropout"]) == (40, 4, 0.1)


def test_train_human_output(tmp_path):
    result = chartui("train", FAQ, *SMALL, "--checkpoint-dir", tmp_path, "--sample-top-k", "500")
    assert result.returncode == 0, result.stderr
    assert "val" in result.stdout and "bits/char" in result.stdout and "sample:" in result.stdout
    assert "checkpoint:" in result.stdout


def test_resume_continues_step_count(trained, tmp_path):
    _, events = trained
    result = chartui("train", FAQ, "--resume", events[-1]["checkpoint"], "--iterations", "50",
                     "--checkpoint-dir", tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["step"] == 50


@pytest.mark.slow
def test_sample_streams_and_is_deterministic(trained):
    _, events = trained
    ckpt = events[-1]["checkpoint"]
    a = chartui("sample", ckpt, "--prime", "The", "--length", "80", "--seed", "5")
    b = chartui("sample", ckpt, "--prime", "The", "--length", "80", "--seed", "5")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout and a.stdout.startswith("The")
    assert len(a.stdout.rstrip("\n")) >= 83 - 1
    greedy = chartui("sample", ckpt, "--prime", "The", "--length", "30", "--temperature", "0")
    assert greedy.returncode == 0


def test_sample_from_a_folder_uses_the_newest(trained):
    folder, _ = trained
    result = chartui("sample", folder / "ck", "--length", "10", "--seed", "1")
    assert result.returncode == 0, result.stderr


def test_corpora_lists_names_sizes_and_vocabularies():
    result = chartui("corpora")
    assert result.returncode == 0, result.stderr
    for name in ("pydocs", "docstrings", "pysource", "chartui-faq"):
        assert name in result.stdout
    assert "465," in result.stdout or "characters" in result.stdout


def test_help_on_every_command():
    for command in ([], ["train"], ["sample"], ["corpora"]):
        result = chartui(*command, "--help")
        assert result.returncode == 0 and "usage" in result.stdout.lower()


def test_the_app_needs_a_terminal():
    result = subprocess.run([sys.executable, "-m", "chartui"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert_clean_error(result, "interactive terminal")


def test_importing_chartui_sets_thread_defaults_before_numpy_and_torch_but_keeps_the_users():
    """Short OpenMP spins: two training processes on two cores would otherwise starve each other
    (40 bf16 steps of two runs at once took 63 s instead of 7 s on a 2-core machine)."""
    code = ("import chartui, os; "
            "print(os.environ['GOMP_SPINCOUNT'], os.environ['OPENBLAS_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS")}
    ours = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert ours.stdout.split() == ["1000", "1"]
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**env, "GOMP_SPINCOUNT": "5", "OPENBLAS_NUM_THREADS": "2"})
    assert theirs.stdout.split() == ["5", "2"]
