"""Reliability: bad input, faults and interruptions never crash chartui or lose work.

The matrix runs the real `chartui` command (a subprocess, as a user would) on each bad input
and checks the same four things every time: a non-zero exit status, exactly one short line on
stderr that says what is wrong and what to do, no traceback anywhere, and every checkpoint that
existed before byte-identical afterwards. The faults (divergence, running out of memory,
signals, an unwritable checkpoint folder, `kill -9` during a save, a corpus that changes) have
their own tests below, each checking the same promises. The app's cases are in
test_tui_reliability.py.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import queue
import random
import signal
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from chartui import checkpoint as checkpoint_module
from chartui.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    load_model,
    resolve_checkpoint_path,
    save_checkpoint,
)
from chartui.corpus import corpus_from_text, encode_chunks
from chartui.errors import ChartuiError

from helpers import FAQ, MaliciousPickle, copy_run, write_malicious_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = ["--iterations", "40", "--eval-every", "20", "--sample-every", "0", "--hidden", "32",
         "--embedding", "16", "--batch-size", "8", "--seq-len", "32", "--seed", "3",
         "--eval-chars", "2048", "--precision", "fp32"]


def command_env() -> dict[str, str]:
    # One thread for torch: these models are tiny, and on a busy 2-core machine threads that
    # spin waiting for each other make a run many times slower.
    env = {k: v for k, v in os.environ.items() if k != "CHARTUI_DEBUG"}
    return {**env, "OMP_NUM_THREADS": "1"}


def chartui(*args, cwd=None, timeout=120):
    env = command_env()
    return subprocess.run([sys.executable, "-m", "chartui", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def popen_chartui(*args):
    env = command_env()
    return subprocess.Popen([sys.executable, "-m", "chartui", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_one_clear_line(result, *words, status=None) -> str:
    """Non-zero exit (or exactly `status`), no traceback, one short line naming `words`."""
    assert result.returncode != 0, result.stdout[-500:]
    if status is not None:
        assert result.returncode == status
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("chartui: ") and len(line) <= 400, line
    assert ";" in line or ": use " in line or "(see `" in line, line  # wrong; what to do
    for word in words:
        assert word in line, (word, line)
    return line


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: what "nothing lost or overwritten" compares."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run(trained_run, tmp_path_factory):
    """The session's small trained model in a folder of this module's own; the cases must leave
    that folder untouched."""
    folder = tmp_path_factory.mktemp("reliability")
    copied = copy_run(trained_run, folder / "ck")
    return SimpleNamespace(folder=folder, ck_dir=folder / "ck", ckpt=Path(copied.path))


# --- bad files, made on the spot ------------------------------------------------------------------

def write(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def png_bytes() -> bytes:
    """A real 4x4 red PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def checkpoint_variant(run, tmp: Path, name: str, **changes) -> Path:
    """The run's checkpoint with some fields changed, written as a chartui checkpoint."""
    payload = torch.load(run.ckpt, weights_only=True)
    payload.update(changes)
    path = tmp / name
    torch.save(payload, path)
    return path


def other_vocabulary_corpus(tmp: Path) -> Path:
    return write(tmp / "other.txt", "xyz zyx yxz\n" * 400)


# Each case: name -> (make the arguments from (tmp folder, run), words the line must contain,
# exit status if it must be exactly one). Files are made in the test's own folder.
CASES: dict[str, tuple] = {}


def case(name: str, *words: str, status: int | None = None, marks=()):
    def register(make):
        CASES[name] = (make, words, status, marks)
        return make
    return register


# corpora
case("corpus-missing", "does not exist")(lambda t, r: ["train", t / "missing.txt"])
case("corpus-directory", "is a folder")(lambda t, r: ["train", f"{t}{os.sep}"])
case("corpus-unknown-name", "no corpus named")(lambda t, r: ["train", "nonesuch"])
case("corpus-unknown-user", "a user this machine does not know")(
    lambda t, r: ["train", "~nosuchuser-chartui/book.txt"])
case("corpus-empty", "empty")(lambda t, r: ["train", write(t / "empty.txt", b"")])
case("corpus-whitespace", "only whitespace")(
    lambda t, r: ["train", write(t / "blank.txt", " \n\t\n  \r\n" * 50)])
case("corpus-executable", "binary")(lambda t, r: ["train", os.path.realpath(sys.executable)])
case("corpus-png", "binary")(lambda t, r: ["train", write(t / "picture.png", png_bytes())])
case("corpus-latin-1", "--encoding")(
    lambda t, r: ["train", write(t / "latin.txt", "café crème brûlée\n".encode("latin-1") * 50)])
case("corpus-utf-16-without-bom", "utf-16-le")(
    lambda t, r: ["train", write(t / "wide.txt", "hello wide world\n".encode("utf-16-le") * 50)])
case("corpus-nul-bytes", "NUL")(
    lambda t, r: ["train", write(t / "nul.txt", b"plain text\n" * 50 + b"\x00" + b"more\n")])
case("corpus-unknown-encoding", "not an encoding")(
    lambda t, r: ["train", FAQ, "--encoding", "klingon"])
case("corpus-unreadable", "permission denied", marks=pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads any file, so a permission test means nothing"))(
    lambda t, r: ["train", _unreadable(t)])
case("corpus-smaller-than-one-window", "--seq-len")(
    lambda t, r: ["train", write(t / "tiny.txt", "hello world\n" * 3)])


def _unreadable(tmp: Path) -> Path:
    path = write(tmp / "secret.txt", "hidden text\n" * 50)
    path.chmod(0)
    return path


# checkpoints
case("checkpoint-missing", "does not exist")(lambda t, r: ["sample", t / "nope.pt"])
case("checkpoint-empty-folder", "holds no checkpoints")(lambda t, r: ["sample", t])
case("checkpoint-truncated", "not a readable checkpoint")(
    lambda t, r: ["sample", write(t / "cut.pt", r.ckpt.read_bytes()[:r.ckpt.stat().st_size // 2])])
case("checkpoint-random-bytes", "not a readable checkpoint")(
    lambda t, r: ["sample", write(t / "noise.pt", random.Random(5).randbytes(50_000))])
case("checkpoint-foreign-zip", "not a readable checkpoint")(
    lambda t, r: ["sample", _foreign_zip(t)])
case("checkpoint-foreign-torch-file", "not a chartui checkpoint")(
    lambda t, r: ["sample", _torch_file(t)])
case("checkpoint-newer-format", "newer chartui")(
    lambda t, r: ["sample", checkpoint_variant(r, t, "new.pt", format_version=99)])
case("checkpoint-older-format", "old checkpoint format")(
    lambda t, r: ["sample", checkpoint_variant(r, t, "old.pt", format_version=0)])
case("checkpoint-edited-vocabulary", "does not match")(
    lambda t, r: ["sample", checkpoint_variant(r, t, "edited.pt", vocabulary="abc")])
case("resume-on-another-vocabulary", "different vocabulary")(
    lambda t, r: ["train", other_vocabulary_corpus(t), "--resume", r.ckpt,
                  "--checkpoint-dir", t / "ck"])
case("resume-with-another-model-shape", "cannot change")(
    lambda t, r: ["train", FAQ, "--resume", r.ckpt, "--hidden", "99", "--checkpoint-dir", t])
case("checkpoint-folder-is-a-file", "is a file, not a folder")(
    lambda t, r: ["train", FAQ, *SMALL, "--iterations", "5", "--eval-every", "1000",
                  "--checkpoint-dir", write(t / "blocker", "a file") / "ck"])


def _foreign_zip(tmp: Path) -> Path:
    path = tmp / "other.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a checkpoint")
    return path


def _torch_file(tmp: Path) -> Path:
    path = tmp / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    return path


# training settings: zero, negative, NaN, absurd, larger than the corpus
for option, value, word in [
        ("--hidden", "0", "hidden-size"), ("--embedding", "0", "embedding-dim"),
        ("--layers", "0", "num-layers"), ("--batch-size", "0", "batch-size"),
        ("--batch-size", "-3", "out of range"), ("--seq-len", "0", "seq-len"),
        ("--iterations", "0", "iterations"), ("--iterations", "ten", "not a whole number"),
        ("--lr", "0", "lr"), ("--lr", "-1", "lr"), ("--lr", "nan", "lr"), ("--lr", "1e3", "lr"),
        ("--dropout", "nan", "dropout"), ("--dropout", "1.5", "dropout"),
        ("--clip", "-1", "clip"), ("--val-fraction", "nan", "val-fraction"),
        ("--max-time", "0", "max-time"), ("--max-time", "nan", "max-time"),
        ("--max-time", "inf", "max-time"), ("--min-lr-ratio", "nan", "min-lr-ratio"),
        ("--sample-temperature", "-1", "sample-temperature"),
        ("--sample-top-k", "0", "sample-top-k"), ("--seed", "9" * 30, "out of range"),
        ("--preset", "huge", "no preset"),
        ]:
    case(f"train{option}={value[:8]}", word)(
        lambda t, r, option=option, value=value: ["train", FAQ, option, value,
                                                  "--checkpoint-dir", t / "ck"])
case("train-batch-larger-than-corpus", "--batch-size")(
    lambda t, r: ["train", write(t / "short.txt", "a short corpus of a few words\n" * 8),
                  "--seq-len", "16", "--batch-size", "500", "--checkpoint-dir", t / "ck"])
case("train-model-too-large", "too large")(
    lambda t, r: ["train", FAQ, "--hidden", "8192", "--layers", "16"])

# generation input
for option, value, word in [
        ("--temperature", "-1", "temperature"), ("--temperature", "1e9", "temperature"),
        ("--temperature", "nan", "temperature"), ("--top-k", "0", "top-k"),
        ("--top-k", "100000", "top-k"), ("--length", "0", "length"),
        ("--length", "1000000000", "length"), ("--seed", "9" * 30, "out of range")]:
    case(f"sample{option}={value[:8]}", word)(
        lambda t, r, option=option, value=value: ["sample", r.ckpt, option, value])
case("sample-prime-outside-the-vocabulary", "'\u00e9', '\u20ac'", "--skip-unknown", status=2)(
    lambda t, r: ["sample", r.ckpt, "--prime", "caf\u00e9 \u20ac5", "--length", "10"])


@pytest.mark.e2e
@pytest.mark.parametrize("name", [pytest.param(n, marks=CASES[n][3], id=n) for n in CASES])
def test_refused_with_one_clear_line(name, run, tmp_path):
    make, words, status, _ = CASES[name]
    args = make(tmp_path, run)
    before = files_in(run.folder)
    result = chartui(*args, cwd=tmp_path)
    line = assert_one_clear_line(result, *words, status=status)
    assert files_in(run.folder) == before, line
    assert not (tmp_path / "ck").exists() and not (tmp_path / "checkpoints").exists()
    if name.startswith("sample"):
        assert result.stdout == ""  # refused before anything is printed


# --- loading never runs code ------------------------------------------------------------------

@pytest.mark.e2e
def test_a_checkpoint_that_would_run_code_is_refused_unrun(run, tmp_path):
    marker = tmp_path / "code-ran"
    # The files are live: an ordinary unpickler runs them, and the marker appears.
    pickle.loads(pickle.dumps(MaliciousPickle(tmp_path / "control")))
    assert (tmp_path / "control").exists()

    payload = torch.load(run.ckpt, weights_only=True)
    zipped = write_malicious_checkpoint(tmp_path / "evil.pt", marker, payload)
    legacy = write_malicious_checkpoint(tmp_path / "legacy.pt", marker, legacy=True)
    before = files_in(run.folder)
    assert_one_clear_line(chartui("sample", zipped), "cannot be loaded safely")
    assert not marker.exists()
    assert_one_clear_line(chartui("train", FAQ, "--resume", zipped, "--checkpoint-dir",
                                  tmp_path / "ck"), "cannot be loaded safely")
    assert not marker.exists()
    assert_one_clear_line(chartui("sample", legacy), "cannot be loaded safely")
    assert not marker.exists()
    assert files_in(run.folder) == before


# --- generation input that works --------------------------------------------------------------

@pytest.mark.e2e
def test_unknown_prime_characters_can_be_skipped(run):
    result = chartui("sample", run.ckpt, "--prime", "Th\u20ac", "--length", "20", "--seed", "1",
                     "--skip-unknown")
    assert result.returncode == 0, result.stderr
    (note,) = error_lines(result.stderr)
    assert "never saw '\u20ac'" in note and "skipped" in note
    assert result.stdout.startswith("Th\u20ac") and len(result.stdout) == 3 + 20 + 1


@pytest.mark.e2e
def test_an_empty_prime_starts_after_a_newline(run):
    result = chartui("sample", run.ckpt, "--prime", "", "--length", "30", "--seed", "2")
    assert result.returncode == 0 and result.stderr == ""
    assert len(result.stdout) == 30 + 1


@pytest.mark.e2e
def test_a_100k_character_prime_goes_through(run):
    text = FAQ.read_text(encoding="utf-8")
    prime = (text * (100_000 // len(text) + 1))[:100_000]
    result = chartui("sample", run.ckpt, "--prime", prime, "--length", "25", "--seed", "3",
                     timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.startswith(prime) and len(result.stdout) == 100_000 + 25 + 1


# --- vocabularies beyond one and two bytes ------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.slow
def test_a_huge_cjk_vocabulary_trains_and_samples(tmp_path):
    """30,000 distinct CJK characters: the embedding and output layer get 30,000 rows."""
    chars = ([chr(c) for c in range(0x4E00, 0x4E00 + 20_992)]
             + [chr(c) for c in range(0x3400, 0x3400 + 6_592)]
             + [chr(c) for c in range(0xAC00, 0xAC00 + 2_416)])
    rng = random.Random(0)
    text = []
    for _ in range(2):
        order = chars[:]
        rng.shuffle(order)
        text += ["".join(order[i:i + 40]) + "\n" for i in range(0, len(order), 40)]
    corpus = write(tmp_path / "cjk.txt", "".join(text))
    result = chartui("train", corpus, *SMALL, "--iterations", "4", "--eval-every", "4",
                     "--eval-chars", "1024", "--checkpoint-dir", tmp_path / "ck", "--json")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    model, vocab, payload = load_model(done["checkpoint"])
    assert len(vocab) == 30_001  # and the newline
    assert model.embedding.weight.shape == (30_001, 16)
    assert model.head.weight.shape == (30_001, 32)
    sample = chartui("sample", done["checkpoint"], "--prime", chars[100] + chars[-1],
                     "--length", "40", "--seed", "4")
    assert sample.returncode == 0, sample.stderr
    assert len(sample.stdout) == 2 + 40 + 1 and set(sample.stdout) <= set(vocab.chars) | {"\n"}


def test_character_ids_beyond_255_and_65535_keep_their_identity():
    for size in (300, 70_000):  # one byte is not enough; then two bytes are not enough
        text = "".join(chr(0x10000 + i) for i in range(size)) * 2
        corpus = corpus_from_text(text)
        assert len(corpus.vocab) == size
        assert corpus.data.max() == size - 1 and corpus.text() == text
        assert np.iinfo(corpus.data.dtype).max >= size - 1
        assert corpus.vocab.decode(corpus.vocab.encode(text[-5:])) == text[-5:]


# --- faults during training ---------------------------------------------------------------------

@pytest.mark.e2e
def test_divergence_stops_with_a_message_and_keeps_the_last_good_checkpoint(run):
    # Resumed from a good checkpoint with a learning rate that blows the loss up: the run stops
    # by itself, names the good file, and that file is untouched (and still good).
    before = files_in(run.folder)
    result = chartui("train", FAQ, "--resume", run.ckpt, "--lr", "10", "--clip", "0",
                     "--iterations", "400", "--eval-every", "1", "--checkpoint-dir", run.ck_dir,
                     "--json")
    line = assert_one_clear_line(result, "diverged", "lower learning rate", status=1)
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["state"] == "diverged" and done["step"] < 400
    last_good = done["checkpoint"] or str(run.ckpt)
    assert f"the last good checkpoint is {last_good}" in line
    assert {k: v for k, v in files_in(run.folder).items() if k in before} == before
    model, _, _ = load_model(last_good)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_running_out_of_memory_in_a_step_is_one_line(tmp_path, monkeypatch, capsys):
    from chartui import cli
    from chartui.trainer import Trainer

    real_step = Trainer.train_step
    kept = {}

    def step(self, lr):
        if self.step == 25:  # after the checkpoint at step 20
            kept.update(files_in(tmp_path))
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't "
                               "allocate memory: you tried to allocate 3355443200 bytes.")
        return real_step(self, lr)

    monkeypatch.setattr(Trainer, "train_step", step)
    status = cli.main(["train", str(FAQ), *SMALL, "--eval-every", "10", "--checkpoint-dir",
                       str(tmp_path), "--json"])
    err = capsys.readouterr().err
    assert status == 1
    (line,) = error_lines(err)
    assert "ran out of memory at step 26" in line and "--batch-size" in line
    assert "Traceback" not in err and "step000020" in line
    checkpoints = {k: v for k, v in kept.items() if k.endswith(".pt")}
    assert checkpoints and {k: v for k, v in files_in(tmp_path).items()
                            if k.endswith(".pt")} == checkpoints  # the run log says "failed"


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_training_cleanly_and_saves(tmp_path, sig):
    proc = popen_chartui("train", FAQ, *SMALL, "--iterations", "1000000", "--eval-every",
                         "1000000", "--checkpoint-dir", tmp_path, "--json")
    for line in proc.stdout:  # wait until training really runs
        if json.loads(line)["event"] == "step":
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err  # a requested stop is a clean ending, not an error
    assert "Traceback" not in err and err == ""
    done = json.loads(out.splitlines()[-1])
    # Ctrl+C is a stop the user asked for; SIGTERM came from elsewhere
    assert done["event"] == "done"
    assert done["state"] == ("stopped" if sig == signal.SIGINT else "interrupted")
    payload = load_checkpoint(done["checkpoint"])
    assert payload["step"] == done["step"] > 0


def test_a_full_disk_keeps_the_last_good_file_and_training_goes_on(tmp_path, monkeypatch,
                                                                   capsys):
    from chartui import cli

    real_save = torch.save
    calls = []
    kept = []

    def save(obj, f, *args, **kwargs):
        calls.append(obj["step"])
        if len(calls) in (2, 3):  # the saves at steps 20 and 30 hit a full disk
            kept.append({k: v for k, v in files_in(tmp_path).items() if k.endswith(".pt")})
            f.write(b"half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    status = cli.main(["train", str(FAQ), *SMALL, "--iterations", "50", "--eval-every", "10",
                       "--checkpoint-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert status == 0
    (warning,) = error_lines(err)  # said once, though two saves failed
    assert "No space left on device" in warning and "tries again at the next save" in warning
    assert calls == [10, 20, 30, 40, 50]
    assert len(kept) == 2 and kept[0] == kept[1]  # the step-10 file, untouched by the failures
    assert len(kept[0]) == 1 and "step000010" in next(iter(kept[0]))
    done = json.loads(out.splitlines()[-1])
    assert done["step"] == 50 and load_checkpoint(done["checkpoint"])["step"] == 50
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


@pytest.mark.e2e
@pytest.mark.slow
def test_a_corpus_that_disappears_or_changes_while_training(tmp_path):
    text = FAQ.read_text(encoding="utf-8")
    corpus = write(tmp_path / "notes.txt", text)
    proc = popen_chartui("train", corpus, *SMALL, "--iterations", "60", "--checkpoint-dir",
                         tmp_path / "ck", "--json")
    for line in proc.stdout:
        if json.loads(line)["event"] == "step":
            corpus.unlink()  # gone while training: the run goes on with the text it read
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    done = json.loads(out.splitlines()[-1])
    assert done["state"] == "finished" and done["step"] == 60
    ckpt = done["checkpoint"]
    saved = files_in(tmp_path / "ck")

    # Resuming later on a file with other characters: refused clearly, nothing touched.
    write(corpus, "only a few letters here\n" * 200)
    assert_one_clear_line(chartui("train", corpus, "--resume", ckpt, "--iterations", "70",
                                  "--checkpoint-dir", tmp_path / "ck"), "different vocabulary")
    assert files_in(tmp_path / "ck") == saved

    # The same characters in another order: it resumes, and says the text has changed.
    write(corpus, "".join(reversed(text.splitlines(keepends=True))))
    result = chartui("train", corpus, "--resume", ckpt, "--iterations", "70",
                     "--checkpoint-dir", tmp_path / "ck", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert "has changed since that checkpoint" in events[0]["message"]
    assert events[-1]["step"] == 70


def test_a_file_that_changes_between_the_two_reads_is_refused():
    reads = iter(["abc " * 100, "abd " * 100])  # the second read finds a character never seen
    with pytest.raises(ChartuiError, match="changed while it was being read"):
        encode_chunks(lambda: iter([next(reads)]), "corpus", "'notes.txt'")


# --- kill -9 while a checkpoint is being written ----------------------------------------------

WRITER = r"""
import os, sys, torch
from chartui.checkpoint import save_checkpoint

def payload(version):
    return {"model_config": {}, "vocabulary": "ab", "step": version,
            "model_state": {"w": torch.full((2_000_000,), float(version))}}

for line in sys.stdin:  # one line per round: fork a writer that saves until it is killed
    first = int(line)
    pid = os.fork()
    if pid == 0:
        version = first
        while True:
            save_checkpoint(payload(version), sys.argv[1])
            os.write(1, b"saved %d\n" % version)
            version += 1
    print("pid", pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", pid, flush=True)
"""


@pytest.mark.e2e
def test_kill_9_during_checkpoint_writes_leaves_a_complete_file(tmp_path):
    path = tmp_path / "run-step000000.pt"
    save_checkpoint({"model_config": {}, "vocabulary": "ab", "step": 0,
                     "model_state": {"w": torch.full((2_000_000,), 0.0)}}, path)
    helper = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=command_env())
    pid = None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in helper.stdout], daemon=True).start()
    on_disk = 0
    delays = [0.0, 0.001, 0.003, 0.006, 0.01, 0.015, 0.02, 0.03, 0.045, 0.06, 0.08, 0.12]
    try:
        for round_, delay in enumerate(delays, start=1):
            first = round_ * 1000
            helper.stdin.write(f"{first}\n")
            helper.stdin.flush()
            pid = int(lines.get(timeout=60).split()[1])
            threading.Event().wait(delay)
            os.kill(pid, signal.SIGKILL)
            saved = []
            while (line := lines.get(timeout=60)) != f"reaped {pid}\n":
                saved.append(int(line.split()[1]))
            pid = None
            # The file is one complete version: the last one reported, or one whose rename
            # happened just before the kill (its "saved" line never written).
            allowed = {saved[-1], saved[-1] + 1} if saved else {on_disk, first}
            payload = load_checkpoint(path)
            assert payload["step"] in allowed, (payload["step"], allowed)
            assert torch.equal(payload["model_state"]["w"],
                               torch.full((2_000_000,), float(payload["step"])))
            on_disk = payload["step"]
    finally:
        if pid is not None:  # a writer still running after a failure above
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        helper.stdin.close()
        try:
            helper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            helper.kill()
            raise
    # Killed writers leave temporary files behind; they are never taken for checkpoints.
    strays = [p for p in tmp_path.iterdir() if p != path]
    assert strays and all(p.name.endswith(".tmp") for p in strays)
    assert [p for p, _ in list_checkpoints(tmp_path)] == [path]
    assert resolve_checkpoint_path(tmp_path) == path
