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
def _logged_config(checkpoint_dir) -> dict:
    """The settings the one run in `checkpoint_dir` trained with, from its run log (written
    when it starts, so there even when the time ran out before a checkpoint)."""
    (record,), _ = list_runs(checkpoint_dir)
    return record.config


def test_a_time_budget_sizes_the_model_and_explicit_options_win(tmp_path):
    planned = chartui("train", FAQ, "--max-time", "8", "--eval-every", "1000000", "--json",
                      "--checkpoint-dir", tmp_path / "a", "--embedding", "16")
    assert planned.returncode == 0, planned.stderr
    start = json.loads(planned.stdout.splitlines()[0])
    assert "model sized for 8 s: hidden" in start["message"]
    config = _logged_config(tmp_path / "a")  # a loaded machine may leave no time for a step
    assert config["hidden_size"] and config["batch_size"] and config["dropout"] is not None
    fixed = chartui("train", FAQ, "--max-time", "8", "--eval-every", "1000000", "--json",
                    "--checkpoint-dir", tmp_path / "b", "--embedding", "16", "--hidden", "40",
                    "--batch-size", "4", "--dropout", "0.1")
    assert fixed.returncode == 0, fixed.stderr
    assert "sized" not in json.loads(fixed.stdout.splitlines()[0])["message"]
    config = _logged_config(tmp_path / "b")
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


# --- chartui sample: top-p, beam, several samples, a prime file ----------------------------------

def _sections(stdout):
    """The labelled samples of one run: {label: text}."""
    found, label = {}, None
    for line in stdout.splitlines(keepends=True):
        if line.startswith("--- ") and line.rstrip("\n").endswith(" ---"):
            label = line.strip()
            found[label] = ""
        else:
            found[label] += line
    return found


def test_a_temperature_sweep_prints_one_labelled_sample_each_as_single_runs_would(trained_run):
    ckpt = trained_run.path
    common = ["--prime", "The ", "--length", "40", "--seed", "7"]
    sweep = chartui("sample", ckpt, *common, "--temperature", "0.5,1.2", "--num-samples", "2")
    assert sweep.returncode == 0, sweep.stderr
    sections = _sections(sweep.stdout)
    assert list(sections) == ["--- temperature 0.5, sample 1 (seed 7) ---",
                              "--- temperature 0.5, sample 2 (seed 8) ---",
                              "--- temperature 1.2, sample 1 (seed 7) ---",
                              "--- temperature 1.2, sample 2 (seed 8) ---"]
    for temperature, seed in (("0.5", "7"), ("1.2", "8")):
        single = chartui("sample", ckpt, "--prime", "The ", "--length", "40", "--seed", seed,
                         "--temperature", temperature)
        assert single.returncode == 0, single.stderr
        number = 1 if seed == "7" else 2
        label = f"--- temperature {temperature}, sample {number} (seed {seed}) ---"
        assert sections[label] == single.stdout
    assert sections["--- temperature 0.5, sample 1 (seed 7) ---"] != \
        sections["--- temperature 1.2, sample 1 (seed 7) ---"]


def test_num_samples_without_a_seed_says_each_seed_so_any_sample_can_be_redone(trained_run):
    result = chartui("sample", trained_run.path, "--length", "30", "--num-samples", "2")
    assert result.returncode == 0, result.stderr
    first, second = _sections(result.stdout).items()
    seed = int(first[0].split("(seed ")[1].rstrip(") -"))
    assert second[0] == f"--- sample 2 (seed {seed + 1}) ---"
    again = chartui("sample", trained_run.path, "--length", "30", "--seed", seed + 1)
    assert again.stdout == second[1]


def test_top_p_on_the_command_line(trained_run):
    ckpt = trained_run.path
    plain = chartui("sample", ckpt, "--length", "60", "--seed", "3", "--temperature", "1.5")
    whole = chartui("sample", ckpt, "--length", "60", "--seed", "3", "--temperature", "1.5",
                    "--top-p", "1")
    assert plain.returncode == whole.returncode == 0 and whole.stdout == plain.stdout
    tiny = chartui("sample", ckpt, "--length", "60", "--seed", "3", "--temperature", "1.5",
                   "--top-p", "0.000001")  # only the likeliest character is left: greedy
    greedy = chartui("sample", ckpt, "--length", "60", "--temperature", "0")
    assert tiny.returncode == 0 and tiny.stdout == greedy.stdout != plain.stdout


def test_beam_prints_the_best_continuation(trained_run):
    from chartui.beam import beam_search
    result = chartui("sample", trained_run.path, "--prime", "The ", "--length", "50",
                     "--beam", "4")
    assert result.returncode == 0, result.stderr
    expected = beam_search(trained_run.model, trained_run.vocab, "The ", 50, width=4).text
    assert result.stdout == "The " + expected + "\n"


def test_the_prime_can_come_from_a_file(trained_run, tmp_path):
    prime_file = tmp_path / "prime.txt"
    prime_file.write_text("\ufeffThe model ", encoding="utf-8")  # a byte-order mark is dropped
    from_file = chartui("sample", trained_run.path, "--prime-file", prime_file, "--length", "30",
                        "--seed", "2")
    typed = chartui("sample", trained_run.path, "--prime", "The model ", "--length", "30",
                    "--seed", "2")
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == typed.stdout and from_file.stdout.startswith("The model ")


BAD_SAMPLE_OPTIONS = {
    "top-p 0": (["--top-p", "0"], "top-p 0.0 is out of range"),
    "top-p above 1": (["--top-p", "1.5"], "top-p 1.5 is out of range"),
    "beam 0": (["--beam", "0"], "beam width 0 is out of range"),
    "negative beam": (["--beam", "-2"], "beam width -2 is out of range"),
    "beam with a temperature": (["--beam", "3", "--temperature", "0.7"],
                                "so --temperature would change nothing"),
    "beam with top-k, top-p and a seed": (
        ["--beam", "3", "--top-k", "5", "--top-p", "0.9", "--seed", "1"],
        "so --top-k and --top-p and --seed would change nothing"),
    "beam with several samples": (["--beam", "3", "--num-samples", "2"],
                                  "so --num-samples would change nothing"),
    "no samples": (["--num-samples", "0"], "--num-samples 0 is out of range"),
    "a temperature of the sweep": (["--temperature", "0.5,12"], "temperature 12.0 is out of"),
    "prime and prime file": (["--prime", "x", "--prime-file", "p.txt"],
                             "--prime or --prime-file, not both"),
    "missing prime file": (["--prime-file", "missing.txt"], "does not exist"),
    "prime file a folder": (["--prime-file", "."], "is a folder"),
    "binary prime file": (["--prime-file", "binary.bin"], "looks like a binary file"),
    "prime file not UTF-8": (["--prime-file", "latin1.txt"], "is not UTF-8 text"),
    "empty prime file": (["--prime-file", "empty.txt"], "is empty"),
}


@pytest.mark.parametrize("case", BAD_SAMPLE_OPTIONS)
def test_a_bad_sample_option_gets_one_sentence(case, trained_run, tmp_path):
    (tmp_path / "binary.bin").write_bytes(b"The\x00\x01\x02")
    (tmp_path / "latin1.txt").write_bytes("Café".encode("latin-1"))
    (tmp_path / "empty.txt").write_bytes(b"")
    options, words = BAD_SAMPLE_OPTIONS[case]
    result = chartui("sample", trained_run.path, *options, cwd=tmp_path)
    assert_clean_error(result, words)
    assert result.returncode == 1 and result.stdout == ""


def test_an_unreadable_prime_file_gets_one_sentence(trained_run, tmp_path, monkeypatch, capsys):
    """In-process, as root reads every file whatever its mode; the file is read before the
    model is loaded."""
    from pathlib import Path

    from chartui.cli import main

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert main(["sample", trained_run.path, "--prime-file", str(tmp_path / "secret.txt")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot read the prime file" in error
    assert "(Permission denied)" in error
