"""`chartui train --tensorboard DIR`: what it writes (read back with TensorBoard's own reader),
the one sentence when the extra is missing or DIR is a file, and a run stopped by a signal
still leaves a complete event file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from chartui.progress import Progress, RunState

from helpers import FAQ

SMALL = ["--iterations", "40", "--eval-every", "20", "--sample-every", "20", "--hidden", "32",
         "--embedding", "16", "--batch-size", "8", "--seq-len", "32", "--seed", "3",
         "--precision", "fp32"]
SCALARS = {"loss/train", "loss/val", "learning_rate", "chars_per_s"}


def command_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    return {**env, "OMP_NUM_THREADS": "1", **extra}


def chartui(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "chartui", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env=env or command_env())


def read_events(folder) -> tuple[dict[str, list[tuple[int, float]]], dict[str, list]]:
    """The scalars ({tag: [(step, value)]}) and texts ({tag: [(step, text)]}) in `folder`."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in tags["scalars"]}
    texts = {tag.removesuffix("/text_summary"):
             [(e.step, e.tensor_proto.string_val[0].decode()) for e in events.Tensors(tag)]
             for tag in tags["tensors"]}
    return scalars, texts


def assert_one_sentence(result, *words):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert result.stdout == ""  # refused before anything was set up or trained


@pytest.mark.e2e
def test_a_run_writes_its_losses_rate_speed_and_samples(tmp_path):
    pytest.importorskip("tensorboard")
    board = tmp_path / "board" / "run1"  # made if missing, parents too
    result = chartui("train", FAQ, *SMALL, "--checkpoint-dir", tmp_path / "ck", "--json",
                     "--tensorboard", board)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    done = events[-1]
    scalars, texts = read_events(board)
    assert set(scalars) == SCALARS
    # one point per progress event, at its step, with its value
    train = scalars["loss/train"]
    assert [s for s, _ in train] == [e["step"] for e in steps if e["train_loss"] is not None]
    assert [round(v, 4) for _, v in train] == [round(e["train_loss"], 4) for e in steps
                                               if e["train_loss"] is not None]
    assert len(train) >= 2 and train[-1][1] < train[0][1]  # it learned
    assert [s for s, _ in scalars["learning_rate"]] == [e["step"] for e in steps]
    assert all(v > 0 for _, v in scalars["chars_per_s"])
    # the periodic evaluation and the final one, in nats per character
    assert [s for s, _ in scalars["loss/val"]] == [20, 40]
    assert scalars["loss/val"][-1][1] == pytest.approx(done["val_loss"], abs=1e-4)
    # the samples as text, at their steps, shown as written (indented: preformatted Markdown)
    samples = texts["sample"]
    assert [s for s, _ in samples] == [e["step"] for e in steps if e["sample"]] == [20, 40]
    first = next(e["sample"] for e in steps if e["sample"])
    assert samples[0][1] == "\n".join("    " + line for line in first.split("\n"))
    assert "training in fp32" in texts["run"][0][1]


@pytest.mark.e2e
def test_a_run_stopped_by_a_signal_leaves_a_complete_event_file(tmp_path):
    """SIGTERM finishes the step, evaluates and saves; the done event's validation loss is
    the last thing written, and it is in the file (the writer was flushed and closed)."""
    pytest.importorskip("tensorboard")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chartui", "train", str(FAQ), *SMALL, "--iterations", "1000000",
         "--eval-every", "1000000", "--checkpoint-dir", str(tmp_path / "ck"), "--json",
         "--tensorboard", str(tmp_path / "board")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=command_env())
    for line in proc.stdout:  # wait until training really runs
        if json.loads(line)["event"] == "step":
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    done = json.loads(out.splitlines()[-1])
    assert done["state"] == "interrupted"
    scalars, _ = read_events(tmp_path / "board")
    assert scalars["loss/val"][-1][0] == done["step"]


def test_without_the_extra_one_sentence_says_how_to_install_it(tmp_path):
    """Simulated: a sitecustomize makes `import tensorboard` fail, as where it is missing."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['tensorboard'] = None  # as if it were not installed\n")
    path = os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = chartui("train", FAQ, *SMALL, "--checkpoint-dir", tmp_path / "ck",
                     "--tensorboard", tmp_path / "board", env=command_env(PYTHONPATH=path))
    assert_one_sentence(result, "--tensorboard", "pip install 'chartui[tensorboard]'")
    assert not (tmp_path / "ck").exists() and not (tmp_path / "board").exists()


@pytest.mark.parametrize("inside", [False, True])
def test_a_folder_that_is_a_file_gets_one_sentence(tmp_path, inside):
    pytest.importorskip("tensorboard")
    a_file = tmp_path / "board"
    a_file.write_text("not a folder")
    result = chartui("train", FAQ, *SMALL, "--checkpoint-dir", tmp_path / "ck",
                     "--tensorboard", a_file / "sub" if inside else a_file)
    assert_one_sentence(result, str(a_file), "is a file, not a folder")
    assert not (tmp_path / "ck").exists()


def test_the_listener_writes_each_event_once_and_closes(tmp_path):
    pytest.importorskip("tensorboard")
    from chartui.tensorboard_log import TensorBoardLog

    def event(kind, step, train=None, val=None, sample=None):
        return Progress(event=kind, step=step, total_steps=10, train_loss=train, val_loss=val,
                        lr=0.01, chars_per_s=1000.0, elapsed_s=1.0, eta_s=None,
                        state=RunState.TRAINING, sample=sample, message="hello")

    with TensorBoardLog(tmp_path) as board:
        board(event("start", 0))
        board(event("step", 5, train=3.0))
        board(event("step", 10, train=2.0, val=2.5, sample="Th *e*\n#x"))
        board(event("done", 10, train=2.2, val=2.5))  # the same evaluation: not twice
    board.close()  # again: nothing
    scalars, texts = read_events(tmp_path)
    assert scalars["loss/train"] == [(5, 3.0), (10, 2.0)]
    assert scalars["loss/val"] == [(10, 2.5)]
    assert texts["sample"] == [(10, "    Th *e*\n    #x")]
    assert texts["run"] == [(0, "    hello")]
