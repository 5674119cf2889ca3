"""Run logs: every training run keeps its settings and loss history under checkpoints/runs/."""

import json

import pytest

from chartui import runs as runs_module
from chartui.config import TrainConfig
from chartui.runs import RUNS_FOLDER, list_runs, read_run
from chartui.trainer import Trainer

from helpers import tiny_config


def run_logs(folder):
    return sorted((folder / RUNS_FOLDER).glob("*.json"))


def test_a_run_writes_its_log_at_start_evaluations_and_end_not_every_step(faq, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(runs_module, "WRITE_EVERY_S", 1e9)  # no writes just because time passed
    writes = []
    real_write = runs_module.write_run

    def counting_write(record, folder):
        path = real_write(record, folder)
        writes.append(json.loads(path.read_text(encoding="utf-8")))  # valid JSON every time
        return path

    monkeypatch.setattr(runs_module, "write_run", counting_write)
    events = []
    trainer = Trainer(faq, tiny_config(iterations=60, eval_every=30), device="cpu",
                      checkpoint_dir=tmp_path)
    done = trainer.run(events.append, report_interval=0)

    assert len(events) == 62  # start, a step event for every step, done
    # the last step's evaluation is the run's final one, written once with the end
    assert [(w["state"], w["step"]) for w in writes] == [
        ("training", 0), ("training", 30), ("finished", 60)]
    assert [len(w["val_history"]) for w in writes] == [0, 1, 2]
    (path,) = run_logs(tmp_path)
    assert json.loads(path.read_text(encoding="utf-8")) == writes[-1]
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]

    record = read_run(path)
    assert path.stem == record.id and "chartui-faq" in record.id
    assert record.corpus == {"name": "chartui-faq", "source": faq.source,
                             "fingerprint": faq.fingerprint}
    assert TrainConfig.from_dict(record.config) == trainer.config
    assert record.parameters == trainer.model.num_parameters() and record.device == "cpu"
    assert record.val_history == trainer.history.val
    assert record.best_val_loss == min(v for _, v in trainer.history.val) == done.best_val_loss
    assert record.train_history == [(i + 1, v) for i, v in enumerate(trainer.history.train)]
    assert record.latest_checkpoint == done.checkpoint and record.best_checkpoint
    assert record.resumed_from is None and record.elapsed_s == done.elapsed_s
    assert record.chars_per_s > 0 and record.average_chars_per_s > 0


def test_a_long_training_history_is_kept_short(faq, tmp_path, monkeypatch):
    monkeypatch.setattr(runs_module, "MAX_TRAIN_POINTS", 25)
    trainer = Trainer(faq, tiny_config(iterations=60, eval_every=60), device="cpu",
                      checkpoint_dir=tmp_path)
    trainer.run()
    (record,), skipped = list_runs(tmp_path)
    assert skipped == [] and len(record.train_history) == 25
    assert record.train_history[-1][0] == 60
    assert min(trainer.history.train) <= min(v for _, v in record.train_history)


def test_list_runs_newest_first_across_two_runs_one_resumed(faq, tmp_path):
    first = Trainer(faq, tiny_config(iterations=30, eval_every=30), device="cpu",
                    checkpoint_dir=tmp_path).run()
    second = Trainer(faq, tiny_config(iterations=60, eval_every=30), device="cpu",
                     checkpoint_dir=tmp_path, resume=first.checkpoint).run()
    runs, skipped = list_runs(tmp_path)
    assert skipped == []
    assert [(r.step, r.state) for r in runs] == [(60, "finished"), (30, "finished")]
    newer, older = runs
    assert newer.started > older.started and newer.id != older.id
    assert newer.resumed_from == first.checkpoint and older.resumed_from is None
    assert newer.latest_checkpoint == second.checkpoint
    assert newer.val_history[0] == older.val_history[0]  # the resumed run carries its history


def test_unreadable_and_foreign_files_are_skipped_and_counted(trained_checkpoint, tmp_path):
    (good,) = run_logs(tmp_path)
    folder = good.parent
    (folder / "corrupt.json").write_text('{"format": "chartui-run", "id": ')
    (folder / "foreign.json").write_text('{"name": "someone else\'s file"}')
    (folder / "list.json").write_text("[1, 2, 3]")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    newer = json.loads(good.read_text())
    (folder / "newer.json").write_text(json.dumps({**newer, "format_version": 99}))
    (folder / "no-time.json").write_text(json.dumps({**newer, "started_at": "yesterday"}))
    (folder / "folder.json").mkdir()
    (folder / "notes.txt").write_text("not a run log, not counted")
    runs, skipped = list_runs(tmp_path)
    assert [r.id for r in runs] == [good.stem] and len(skipped) == 7


def test_no_runs_folder_means_no_runs(tmp_path):
    assert list_runs(tmp_path) == ([], [])
    assert list_runs(tmp_path / "missing") == ([], [])


def test_a_run_log_that_cannot_be_written_never_stops_training(faq, tmp_path):
    (tmp_path / RUNS_FOLDER).write_text("a file where the runs folder would go")
    events = []
    done = Trainer(faq, tiny_config(iterations=30, eval_every=10), device="cpu",
                   checkpoint_dir=tmp_path).run(events.append)
    assert done.state == "finished" and done.step == 30 and done.checkpoint
    # said nothing but its start line: the checkpoints were saved
    assert not [e for e in events if e.message and e.event != "start"]
    assert list_runs(tmp_path) == ([], [])


def test_a_run_that_raises_is_logged_as_failed(faq, tmp_path, monkeypatch):
    real_step = Trainer.train_step

    def step(self, lr):
        if self.step == 12:
            raise RuntimeError("can't allocate memory")
        return real_step(self, lr)

    monkeypatch.setattr(Trainer, "train_step", step)
    trainer = Trainer(faq, tiny_config(iterations=30, eval_every=10), device="cpu",
                      checkpoint_dir=tmp_path)
    with pytest.raises(RuntimeError):
        trainer.run()
    (record,), _ = list_runs(tmp_path)
    assert record.state == "failed" and record.step == 12
    assert "can't allocate memory" in record.message
    assert record.latest_checkpoint == str(trainer.checkpoints.latest)  # the step-10 file


def test_a_paused_run_says_so_in_its_log(faq, tmp_path):
    import threading
    import time
    trainer = Trainer(faq, tiny_config(iterations=10**6, eval_every=10**6), device="cpu",
                      checkpoint_dir=tmp_path)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    while trainer.step < 3:
        time.sleep(0.01)
    trainer.pause()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runs, _ = list_runs(tmp_path)
        if runs and runs[0].state == "paused":
            break
        time.sleep(0.05)
    trainer.stop()
    thread.join()
    assert runs[0].state == "paused"
    assert list_runs(tmp_path)[0][0].state == "stopped"


def test_the_latest_sample_is_logged_and_old_logs_without_it_still_read(faq, tmp_path):
    events = []
    Trainer(faq, tiny_config(iterations=40, eval_every=20, sample_every=15, sample_length=30),
            device="cpu", checkpoint_dir=tmp_path).run(events.append, report_interval=0)
    samples = [(p.step, p.sample) for p in events if p.sample]
    assert samples  # drawn at 15 and 30
    (path,) = sorted((tmp_path / RUNS_FOLDER).glob("*.json"))
    record = read_run(path)
    assert (record.latest_sample_step, record.latest_sample) == samples[-1]

    data = json.loads(path.read_text(encoding="utf-8"))
    del data["latest_sample"], data["latest_sample_step"]  # as a log from before them
    path.write_text(json.dumps(data), encoding="utf-8")
    old = read_run(path)
    assert old is not None and old.latest_sample is None and old.latest_sample_step is None
    assert old.step == record.step and data["format_version"] == 1
