"""The `chartui` command end to end, as a user runs it (a real subprocess)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import FAQ

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
