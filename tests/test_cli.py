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


def test_prime_with_unknown_characters_is_explained(trained):
    _, events = trained
    result = chartui("sample", events[-1]["checkpoint"], "--prime", "Th\u20ac", "--length", "10")
    assert result.returncode == 0
    assert "never saw" in result.stderr and "Traceback" not in result.stderr


def test_corpora_lists_names_sizes_and_vocabularies():
    result = chartui("corpora")
    assert result.returncode == 0, result.stderr
    for name in ("pydocs", "docstrings", "pysource", "chartui-faq"):
        assert name in result.stdout
    assert "465," in result.stdout or "characters" in result.stdout


def test_bad_inputs_give_one_clear_line(tmp_path, trained):
    _, events = trained
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "program.bin"
    binary.write_bytes(b"\x7fELF\x00\x00\x01" * 50)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"nonsense" * 100)
    ckpt = events[-1]["checkpoint"]
    assert_clean_error(chartui("train", tmp_path / "missing.txt"), "does not exist")
    assert_clean_error(chartui("train", empty), "empty")
    assert_clean_error(chartui("train", binary), "binary")
    assert_clean_error(chartui("train", "nonesuch"), "no corpus named")
    assert_clean_error(chartui("train", FAQ, "--lr", "-1"), "lr")
    assert_clean_error(chartui("train", FAQ, "--batch-size", "0"), "batch-size")
    assert_clean_error(chartui("train", FAQ, "--seq-len", "100000"), "--seq-len")
    assert_clean_error(chartui("train", FAQ, "--preset", "huge"), "no preset")
    assert_clean_error(chartui("train", FAQ, "--iterations", "ten"), "not a whole number")
    assert_clean_error(chartui("sample", junk), "not a readable checkpoint")
    assert_clean_error(chartui("sample", ckpt, "--temperature", "-1"), "temperature")
    assert_clean_error(chartui("sample", ckpt, "--top-k", "100000"), "top-k")
    assert_clean_error(chartui("sample", ckpt, "--length", "0"), "length")
    hot = chartui("sample", ckpt, "--temperature", "50")
    assert_clean_error(hot, "temperature")
    assert hot.stdout == ""  # nothing is printed before the settings are checked
    assert_clean_error(chartui("sample", ckpt, "--seed", "9" * 30), "out of range")
    assert_clean_error(chartui("train", FAQ, "--hidden", "8192", "--layers", "16"), "too large")


def test_help_on_every_command():
    for command in ([], ["train"], ["sample"], ["corpora"]):
        result = chartui(*command, "--help")
        assert result.returncode == 0 and "usage" in result.stdout.lower()


def test_ctrl_c_stops_cleanly_and_saves(tmp_path):
    import signal
    env = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chartui", "train", str(FAQ), *SMALL[2:], "--iterations",
         "1000000", "--eval-every", "1000000", "--checkpoint-dir", str(tmp_path), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:  # wait until training really runs
        if json.loads(line)["event"] == "step":
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    done = json.loads(out.splitlines()[-1])
    assert done["event"] == "done" and done["state"] == "stopped"
    assert os.path.exists(done["checkpoint"])
    assert "Traceback" not in err


def test_the_app_needs_a_terminal():
    result = subprocess.run([sys.executable, "-m", "chartui"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert_clean_error(result, "interactive terminal")
