"""Following a run another process trains, from its run log (chartui.following)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from chartui.errors import ChartuiError
from chartui.following import STALLED_AFTER_S, RunFollower, find_run_log, run_log_path
from chartui.progress import RunState
from chartui.runs import RUNS_FOLDER, RunRecord, write_run
from chartui.trainer import Trainer

from helpers import run_record, tiny_config

NOW = 1_800_000_000.0


def live_record(run_id="20261201-120000-faq-0001", **changes) -> RunRecord:
    return run_record(run_id, heartbeat=NOW, **changes)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_follower_reports_new_steps_history_and_sample_and_reads_only_on_change(tmp_path):
    record = live_record()
    path = write_run(record, tmp_path)
    follower = RunFollower(path)
    first = follower.poll(NOW + 1)
    assert first.changed and first.record.step == 0 and first.status == "training"
    assert not first.stalled and not first.ended and not first.just_ended
    assert first.eta_s == pytest.approx(300.0)

    again = follower.poll(NOW + 2)  # nothing written since: not read again
    assert not again.changed and again.record is first.record

    record.step, record.elapsed_s, record.chars_per_s = 120, 30.0, 5000.0
    record.train_history = [(1, 4.2), (60, 2.9), (120, 2.4)]
    record.val_history = [(100, 2.5)]
    record.best_val_loss = 2.5
    record.latest_sample, record.latest_sample_step = "The quick", 100
    record.heartbeat = NOW + 5
    write_run(record, tmp_path)
    later = follower.poll(NOW + 6)
    assert later.changed and later.record.step == 120
    assert later.record.train_history == [(1, 4.2), (60, 2.9), (120, 2.4)]
    assert later.record.val_history == [(100, 2.5)]
    assert (later.record.latest_sample_step, later.record.latest_sample) == (100, "The quick")
    assert later.eta_s == pytest.approx(270.0)


def test_a_silent_log_is_stalled_and_live_again_when_it_is_written(tmp_path):
    record = live_record()
    path = write_run(record, tmp_path)
    follower = RunFollower(path)
    assert not follower.poll(NOW + STALLED_AFTER_S - 1).stalled
    stalled = follower.poll(NOW + STALLED_AFTER_S + 1)
    assert stalled.stalled and stalled.status == "training" and not stalled.ended
    assert stalled.silent_s == pytest.approx(STALLED_AFTER_S + 1)

    record.heartbeat, record.step = NOW + 30, 7
    write_run(record, tmp_path)
    resumed = follower.poll(NOW + 31)
    assert not resumed.stalled and resumed.record.step == 7


def test_a_finished_run_ends_once_with_its_checkpoint(tmp_path):
    record = live_record()
    path = write_run(record, tmp_path)
    follower = RunFollower(path)
    follower.poll(NOW)
    checkpoint = tmp_path / "faq-step000200-val2.000.pt"
    checkpoint.write_bytes(b"")
    record.state, record.step = RunState.FINISHED, 200
    record.latest_checkpoint = "elsewhere/" + checkpoint.name  # relative to the trainer's cwd
    write_run(record, tmp_path)
    ended = follower.poll(NOW + 1)
    assert ended.ended and ended.just_ended and ended.status == "finished"
    assert ended.checkpoint == str(checkpoint)  # found beside runs/
    assert ended.eta_s is None and not ended.stalled
    after = follower.poll(NOW + 100)
    assert after.ended and not after.just_ended  # said once


def test_a_run_whose_process_is_gone_is_interrupted(tmp_path):
    path = write_run(live_record(pid=dead_pid()), tmp_path)
    followed = RunFollower(path).poll(NOW)
    assert followed.status == "interrupted" and followed.ended and followed.just_ended
    assert not followed.stalled


def test_an_unreadable_write_keeps_the_last_good_record(tmp_path):
    path = write_run(live_record(step=5), tmp_path)
    follower = RunFollower(path)
    follower.poll(NOW)
    path.write_text("{broken", encoding="utf-8")
    assert follower.poll(NOW + 1).record.step == 5
    path.unlink()
    assert follower.poll(NOW + 2).record.step == 5
    assert RunFollower(tmp_path / "nothing.json").poll(NOW) is None


def test_following_a_real_run_to_its_end(faq, tmp_path, one_torch_thread):
    trainer = Trainer(faq, tiny_config(iterations=90, eval_every=30, sample_every=30,
                                       sample_length=20), device="cpu", checkpoint_dir=tmp_path)
    trainer.pause()  # it waits before its first step until the follower is there
    thread = threading.Thread(target=trainer.run)
    thread.start()
    deadline = time.monotonic() + 120
    while not list((tmp_path / RUNS_FOLDER).glob("*.json")):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    path, notice = find_run_log(tmp_path)
    assert notice is None  # it is live
    follower = RunFollower(path)
    trainer.resume()
    steps = []
    while True:
        followed = follower.poll()
        if followed is not None and followed.changed:
            steps.append(followed.record.step)
        if followed is not None and followed.ended:
            break
        assert time.monotonic() < deadline, "the run never ended"
        time.sleep(0.02)
    thread.join()
    record = followed.record
    assert followed.status == "finished" and followed.just_ended and record.step == 90
    assert steps == sorted(steps) and len(set(steps)) >= 2
    assert [s for s, _ in record.val_history] == [30, 60, 90]
    assert record.latest_sample and record.latest_sample_step in (60, 90)
    assert followed.checkpoint == record.latest_checkpoint
    assert os.path.exists(followed.checkpoint)


def test_which_run_log_to_watch(tmp_path):
    finished = live_record("20261201-110000-faq-0001", state="finished")
    write_run(finished, tmp_path)
    path, notice = find_run_log(tmp_path)
    assert path == run_log_path(tmp_path, finished)
    assert "no run in" in notice and "showing the newest" in notice and "finished" in notice

    live = live_record("20261201-100000-faq-0002", started_at="2026-12-01T10:00:00+00:00")
    write_run(live, tmp_path)  # older, but live: it wins
    assert find_run_log(tmp_path) == (run_log_path(tmp_path, live), None)
    assert find_run_log(tmp_path / RUNS_FOLDER) == (run_log_path(tmp_path, live), None)
    assert find_run_log(None, tmp_path) == (run_log_path(tmp_path, live), None)
    file = run_log_path(tmp_path, finished)
    assert find_run_log(file) == (file, None)


@pytest.mark.parametrize("make, says", [
    (lambda tmp: tmp / "missing.json", "there is no"),
    (lambda tmp: (tmp / "notes.json").write_text("{}") and tmp / "notes.json",
     "is not a chartui run log"),
    (lambda tmp: tmp, "no runs logged in"),
])
def test_what_cannot_be_watched_is_said_in_one_sentence(tmp_path, make, says):
    with pytest.raises(ChartuiError, match=says) as caught:
        find_run_log(make(tmp_path))
    assert "\n" not in str(caught.value)
