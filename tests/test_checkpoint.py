import pickle
import zipfile

import pytest
import torch

from chartui import checkpoint as checkpoint_module
from chartui import files as files_module
from chartui.checkpoint import load_checkpoint, load_model, save_checkpoint
from chartui.corpus import corpus_from_text
from chartui.errors import ChartuiError
from chartui.resume import corpus_of_checkpoint, resume_config
from chartui.trainer import Trainer

from helpers import (
    TRAINED_STEPS,
    MaliciousPickle,
    needs_bf16,
    tiny_config,
    write_malicious_checkpoint,
)


def test_checkpoint_round_trips_exactly(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(iterations=10), device="cpu", checkpoint_dir=tmp_path)
    done = trainer.run()
    model, vocab, payload = load_model(done.checkpoint)
    assert vocab == faq.vocab
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, model.state_dict()[name]), name
    assert payload["step"] == 10
    assert payload["corpus"]["fingerprint"] == faq.fingerprint
    assert payload["history"]["train"].shape == (10,)
    name = done.checkpoint.split("/")[-1]
    assert name.startswith("chartui-faq-step000010-val") and name.endswith(".pt")


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=needs_bf16)])
def test_resume_continues_exactly(faq, tmp_path, precision):
    """A run stopped half-way and resumed matches the same run done in one go (in the same
    precision: a bf16 run resumes in bf16 and gives the same numbers)."""
    config = tiny_config(iterations=30, eval_every=10, precision=precision)
    straight = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path / "a")
    straight.run()

    first = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path / "b")
    done = first.run(lambda p: p.step >= 15 and first.stop(), report_interval=0)
    assert done.state == "stopped" and done.step == 15
    payload = load_checkpoint(done.checkpoint)
    second = Trainer(faq, resume_config(payload, {}), device="cpu",
                     checkpoint_dir=tmp_path / "b", resume=done.checkpoint)
    assert second.step == 15 and second.precision.name == precision
    second.run()
    assert second.step == 30
    assert second.history.train == straight.history.train
    assert second.history.val[-1] == straight.history.val[-1]
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name


def test_resume_on_another_vocabulary_is_refused(trained_run, tmp_path):
    other = corpus_from_text("xyz " * 500)
    config = resume_config(load_checkpoint(trained_run.path), {})
    with pytest.raises(ChartuiError, match="different vocabulary"):
        Trainer(other, config, device="cpu", checkpoint_dir=tmp_path, resume=trained_run.path)


def test_resume_cannot_change_model_shape(trained_run):
    with pytest.raises(ChartuiError, match="hidden_size cannot change"):
        resume_config(load_checkpoint(trained_run.path), {"hidden_size": 999})


def test_only_latest_and_best_are_kept(faq, tmp_path):
    trainer = Trainer(faq, tiny_config(iterations=60, eval_every=10), device="cpu",
                      checkpoint_dir=tmp_path)
    trainer.run()
    files = sorted(tmp_path.glob("*.pt"))
    assert 1 <= len(files) <= 2
    assert trainer.checkpoints.latest in files and trainer.checkpoints.best in files


@pytest.fixture
def saved(trained_checkpoint):
    return trained_checkpoint.path


def test_truncated_and_random_files_are_refused(saved, tmp_path):
    data = open(saved, "rb").read()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    noise = tmp_path / "noise.pt"
    noise.write_bytes(bytes(range(256)) * 40)
    for path in (truncated, noise):
        with pytest.raises(ChartuiError, match="not a readable checkpoint"):
            load_checkpoint(path)


def test_foreign_files_are_refused(tmp_path):
    plain_zip = tmp_path / "other.pt"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("hello.txt", "not a checkpoint")
    with pytest.raises(ChartuiError, match="not a readable checkpoint"):
        load_checkpoint(plain_zip)
    torch_file = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, torch_file)
    with pytest.raises(ChartuiError, match="not a chartui checkpoint"):
        load_checkpoint(torch_file)


def test_a_pickle_that_runs_code_is_not_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = write_malicious_checkpoint(tmp_path / "evil.pt", marker)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(MaliciousPickle(marker)))
    for path in (evil, raw):
        with pytest.raises(ChartuiError):
            load_checkpoint(path)
    assert not marker.exists()


def test_newer_format_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "future.pt"
    monkeypatch.setattr(checkpoint_module, "FORMAT_VERSION", 99)
    save_checkpoint({"model_config": {}, "vocabulary": "ab", "model_state": {}, "step": 0}, path)
    monkeypatch.undo()
    with pytest.raises(ChartuiError, match="newer chartui"):
        load_checkpoint(path)


def test_failed_write_leaves_the_previous_file_intact(saved, monkeypatch):
    before = open(saved, "rb").read()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.torch, "save", broken_save)
    with pytest.raises(ChartuiError, match="No space left"):
        save_checkpoint({"step": 1}, saved)
    monkeypatch.undo()
    assert open(saved, "rb").read() == before
    load_checkpoint(saved)
    leftovers = [p for p in __import__("pathlib").Path(saved).parent.iterdir()
                 if p.name.endswith(".tmp")]
    assert leftovers == []


def test_missing_checkpoint_and_empty_folder(tmp_path):
    with pytest.raises(ChartuiError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(ChartuiError, match="holds no checkpoints"):
        load_checkpoint(tmp_path)


def test_a_name_another_process_takes_during_the_save_is_left_alone(faq, tmp_path, monkeypatch):
    """Two runs sharing a folder (two browser tabs) can reach the same name at the same moment:
    the file that got there first stays, and this run saves under the next free name."""
    trainer = Trainer(faq, tiny_config(iterations=4, eval_every=10**6), device="cpu",
                      checkpoint_dir=tmp_path)
    trainer.run()
    real_link = files_module.os.link
    taken = []

    def link_after_someone_else(source, target):
        if not taken:
            taken.append(target)
            with open(target, "wb") as f:
                f.write(b"theirs")
        return real_link(source, target)
    monkeypatch.setattr(files_module.os, "link", link_after_someone_else)
    trainer.step += 1
    saved = trainer.save(None)
    assert taken and open(taken[0], "rb").read() == b"theirs"
    assert saved.name.endswith("-2.pt") and load_checkpoint(saved)["step"] == trainer.step


def test_save_checkpoint_as_a_new_file_never_replaces_one(tmp_path):
    path = tmp_path / "ck.pt"
    path.write_bytes(b"already here")
    with pytest.raises(FileExistsError):
        save_checkpoint({"x": 1}, path, new_file=True)
    assert path.read_bytes() == b"already here"
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_a_checkpoint_from_the_slower_optimizer_path_resumes_on_the_fused_one(faq, trained_run,
                                                                              tmp_path):
    """On a CPU the trainer uses PyTorch's fused Adam (0.3 ms a step here against 1.4 ms);
    resuming a checkpoint written by the per-tensor Adam (earlier versions) keeps the state
    and still steps fused."""
    payload = load_checkpoint(trained_run.path)
    for group in payload["optimizer_state"]["param_groups"]:
        assert group["fused"] is True
        group["fused"] = None  # as written before
    resumed = Trainer(faq, resume_config(payload, {"iterations": TRAINED_STEPS + 2}),
                      device="cpu", checkpoint_dir=tmp_path, resume=trained_run.path,
                      resume_payload=payload)
    assert all(group["fused"] is True for group in resumed.optimizer.param_groups)
    saved = payload["optimizer_state"]["state"]
    for index, state in resumed.optimizer.state_dict()["state"].items():
        assert torch.equal(state["exp_avg"], saved[index]["exp_avg"])
    assert resumed.run().step == TRAINED_STEPS + 2


def test_a_run_resumes_on_the_corpus_its_checkpoint_was_trained_on(trained_run, faq):
    """The corpus in hand when it is the same text; else the checkpoint's own, read again."""
    payload = load_checkpoint(trained_run.path)
    assert corpus_of_checkpoint(payload, faq) is faq
    other = corpus_from_text("a different text " * 50, name="other")
    again = corpus_of_checkpoint(payload, other)
    assert again is not other and again.fingerprint == faq.fingerprint
    assert corpus_of_checkpoint(payload, None).fingerprint == faq.fingerprint
