"""A dropped connection loses no work: real processes, real signals, real pseudo-terminals.

Each test starts `chartui` as a user would (under a pseudo-terminal where a terminal is
needed), lets it train past an evaluation, then hangs it up, kills it or closes its browser
tab, and reads what it left in its checkpoint folder.
"""

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from chartui.checkpoint import load_checkpoint
from chartui.runs import list_runs
from chartui.trainer import Trainer

from helpers import FAQ, tiny_config

SMALL = ["--hidden", "32", "--embedding", "16", "--batch-size", "8", "--seq-len", "32",
         "--seed", "3", "--eval-chars", "2048", "--precision", "fp32", "--sample-every", "0"]
EVAL_EVERY = 300  # a small model runs hundreds of steps a second


def environment(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHARTUI_DEBUG", "TEXTUAL_DRIVER", "NO_COLOR")}
    env.update(TERM="xterm-256color", **extra)
    return env


def wait_until(condition, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def the_run(folder: Path):
    runs, _ = list_runs(folder)
    return runs[0] if runs else None


def past_an_evaluation(folder: Path):
    """True once the run log shows two periodic evaluations: the run trains on past them."""
    run = the_run(folder)
    return run is not None and len(run.val_history) >= 2


class PseudoTerminal:
    """A process whose controlling terminal is a fresh pty; closing it hangs the process up."""

    def __init__(self, args: list[str], cwd: Path, size=(100, 30)):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader on the pty's terminal side
            os.chdir(cwd)
            try:
                os.execvpe(sys.executable, [sys.executable, "-m", "chartui", *args],
                           environment())
            finally:
                os._exit(127)
        columns, rows = size
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):  # a terminal that is read, so the program never blocks on writing
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def type(self, text: str):
        os.write(self.fd, text.encode())

    def hang_up(self):
        """What a dropped SSH connection does: the terminal goes away (SIGHUP follows)."""
        os.close(self.fd)

    def wait(self, timeout=60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("the process did not exit after the hang-up")


def assert_saved_after_the_last_evaluation(folder: Path, state: str, evaluated_at: int):
    run = the_run(folder)
    assert run.status() == run.state == state, run
    checkpoint = load_checkpoint(run.latest_checkpoint)
    # later than the last periodic evaluation and save, seen before and logged since
    assert checkpoint["step"] > evaluated_at and checkpoint["step"] > run.val_history[-2][0]
    assert checkpoint["step"] == run.step
    assert len(checkpoint["history"]["train"]) == run.step  # the loss history is whole
    return run, checkpoint


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory, faq):
    """A small run to resume, so the app trains a small model with frequent evaluations (the
    app only reads it: its run goes to a folder of its own)."""
    config = tiny_config(iterations=10**6, eval_every=EVAL_EVERY, sample_every=0)
    trainer = Trainer(faq, config, device="cpu", checkpoint_dir=tmp_path_factory.mktemp("seed"))
    trainer.run(lambda p: p.step >= 2 and trainer.stop())
    return trainer.checkpoints.latest


@pytest.mark.e2e
@pytest.mark.slow
def test_hanging_up_chartui_train_saves_and_exits(tmp_path):
    folder = tmp_path / "ck"
    terminal = PseudoTerminal(["train", str(FAQ), *SMALL, "--iterations", "1000000",
                               "--eval-every", str(EVAL_EVERY), "--checkpoint-dir", str(folder)],
                              tmp_path)
    wait_until(lambda: past_an_evaluation(folder), what="training past an evaluation")
    evaluated_at = the_run(folder).val_history[-1][0]
    terminal.hang_up()
    assert terminal.wait() == 0
    run, checkpoint = assert_saved_after_the_last_evaluation(folder, "hangup", evaluated_at)
    assert run.pid and run.host and run.heartbeat

    # and it resumes at exactly that step, with the history intact
    resumed = subprocess.run(
        [sys.executable, "-m", "chartui", "train", str(FAQ), "--resume", run.latest_checkpoint,
         "--iterations", str(run.step + 5), "--json", "--checkpoint-dir", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=300, env=environment())
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert events[0]["step"] == run.step and events[-1]["step"] == run.step + 5
    final = load_checkpoint(events[-1]["checkpoint"])
    assert final["history"]["train"][:run.step].tolist() == \
        checkpoint["history"]["train"].tolist()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("ending", ["hangup", "interrupted"])
def test_hanging_up_or_terminating_the_app_saves_and_exits(tmp_path, small_checkpoint, ending):
    folder = tmp_path / "ck"
    terminal = PseudoTerminal([str(FAQ), "--resume", str(small_checkpoint),
                               "--checkpoint-dir", str(folder)], tmp_path)
    wait_until(lambda: past_an_evaluation(folder), what="the app training past an evaluation")
    evaluated_at = the_run(folder).val_history[-1][0]
    if ending == "hangup":
        terminal.hang_up()
    else:
        os.kill(terminal.pid, signal.SIGTERM)
    assert terminal.wait() == 0
    run, _ = assert_saved_after_the_last_evaluation(folder, ending, evaluated_at)
    assert run.resumed_from == str(small_checkpoint)
    if ending != "hangup":
        terminal.hang_up()


def web_packet(kind: bytes, payload: dict) -> bytes:
    data = json.dumps(payload).encode()
    return kind + len(data).to_bytes(4, "big") + data


@pytest.mark.e2e
@pytest.mark.slow
def test_closing_a_browser_tab_saves_its_run(tmp_path, small_checkpoint):
    """textual-serve runs one app process per tab and, when the tab closes, sends it a quit
    packet on stdin (it never signals or kills it): that app saves as on a hang-up."""
    folder = tmp_path / "ck"
    app = subprocess.Popen(
        [sys.executable, "-m", "chartui", str(FAQ), "--resume", str(small_checkpoint),
         "--checkpoint-dir", str(folder)], cwd=tmp_path, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=environment(TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver", COLUMNS="100",
                        ROWS="30"))
    threading.Thread(target=app.stdout.read, daemon=True).start()  # the server reads it all
    try:
        wait_until(lambda: past_an_evaluation(folder), what="the tab training past an evaluation")
        evaluated_at = the_run(folder).val_history[-1][0]
        app.stdin.write(web_packet(b"M", {"type": "quit"}))
        app.stdin.flush()
        assert app.wait(timeout=60) == 0
    finally:
        if app.poll() is None:
            app.kill()
    assert_saved_after_the_last_evaluation(folder, "hangup", evaluated_at)


@pytest.mark.e2e
@pytest.mark.slow
def test_a_killed_run_shows_as_interrupted_with_its_last_checkpoint(tmp_path):
    folder = tmp_path / "ck"
    process = subprocess.Popen(
        [sys.executable, "-m", "chartui", "train", str(FAQ), *SMALL, "--iterations", "1000000",
         "--eval-every", str(EVAL_EVERY), "--checkpoint-dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment())
    try:
        wait_until(lambda: past_an_evaluation(folder), what="training past an evaluation")
        assert the_run(folder).status() == "training"  # alive: not judged interrupted
    finally:
        process.kill()  # kill -9: no word from it
        process.wait()
    listing = subprocess.run([sys.executable, "-m", "chartui", "runs", "--checkpoint-dir",
                              str(folder), "--json"], capture_output=True, text=True,
                             timeout=60, env=environment())
    assert listing.returncode == 0, listing.stderr
    (run,) = [json.loads(line) for line in listing.stdout.splitlines()]
    assert run["state"] == "training" and run["status"] == "interrupted"
    assert Path(run["latest_checkpoint"]).is_file()
    table = subprocess.run([sys.executable, "-m", "chartui", "runs", "--checkpoint-dir",
                            str(folder)], capture_output=True, text=True, timeout=60,
                           env=environment())
    assert "interrupted" in table.stdout and run["latest_checkpoint"] in table.stdout


def test_a_run_on_another_host_is_judged_by_its_heartbeat_alone(tmp_path):
    from chartui.runs import STALE_AFTER_S, RunRecord
    record = RunRecord(id="x", started_at="2026-12-01T10:00:00.000+00:00", corpus={},
                       config={}, parameters=1, device="cpu", pid=os.getpid(),
                       host="elsewhere", heartbeat=1000.0)
    assert record.status(now=1000.0 + STALE_AFTER_S - 1) == "training"
    assert record.status(now=1000.0 + STALE_AFTER_S + 1) == "interrupted"
    here = RunRecord(**{**record.__dict__, "host": "here", "pid": 2**22 + 12345})
    assert here.status(now=1001.0, this_host="here") == "interrupted"  # no such process
    # a live process on this host is trusted even when silent (stopped with Ctrl+Z)
    alive = RunRecord(**{**record.__dict__, "host": "here"})
    assert alive.status(now=1000.0 + 10 * STALE_AFTER_S, this_host="here") == "training"


@pytest.mark.e2e
@pytest.mark.slow
def test_two_processes_sharing_a_folder_never_touch_each_others_files(tmp_path):
    """Same corpus, same seed, same settings: both want the same checkpoint names at every
    step (one evaluation and save per step). Each keeps its own latest and best files; none
    of them is replaced or removed by the other."""
    folder = tmp_path / "ck"
    runs = []
    for owner in ("0", "1000000"):  # told apart inside each file by their sample setting
        runs.append(subprocess.Popen(
            [sys.executable, "-m", "chartui", "train", str(FAQ), *SMALL[:-2],
             "--sample-every", owner, "--iterations", "40", "--eval-every", "1",
             "--checkpoint-dir", str(folder), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment()))
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    logs, skipped = list_runs(folder)
    assert len(logs) == 2 and not skipped
    kept = set()
    for log in logs:
        owner = log.config["sample_every"]
        assert log.state == "finished" and log.step == 40
        for name in {log.latest_checkpoint, log.best_checkpoint}:
            assert Path(name).is_file(), name
            assert load_checkpoint(name)["train_config"]["sample_every"] == owner
            kept.add(name)
    assert len(kept) >= 2 and sorted(str(p) for p in folder.glob("*.pt")) == sorted(kept)
    finals = [json.loads(out.splitlines()[-1])["checkpoint"] for out, _ in outputs]
    assert finals[0] != finals[1] and all(Path(f).is_file() for f in finals)
