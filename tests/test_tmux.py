"""End to end: the real `chartui` command in a real terminal (tmux), driven by keys."""

import shutil
import subprocess
import sys
import time
import uuid

import pytest

from helpers import FAQ

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("tmux") is None,
                                                  reason="tmux is not installed")]


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)


def screen(session):
    return tmux("capture-pane", "-p", "-t", session).stdout


def wait_for_screen(session, predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = screen(session)
        if predicate(text):
            return text
        time.sleep(0.3)
    raise AssertionError("the screen never showed what was expected:\n" + screen(session))


def test_chartui_trains_in_a_real_terminal(tmp_path):
    session = f"chartui-{uuid.uuid4().hex[:8]}"
    command = (f"{sys.executable} -m chartui {FAQ} --checkpoint-dir {tmp_path} --device cpu; "
               f"echo EXITED-$?; sleep 30")
    result = tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    assert result.returncode == 0, result.stderr
    try:
        wait_for_screen(session, lambda s: "IDLE" in s and "chartui-faq" in s)
        tmux("send-keys", "-t", session, "t")
        text = wait_for_screen(session, lambda s: "TRAINING" in s and "step 0 " not in s
                               and "ch/s" in s and "-- ch/s" not in s)
        assert "Loss (nats/char)" in text
        tmux("send-keys", "-t", session, "q")
        text = wait_for_screen(session, lambda s: "EXITED-" in s, timeout=60)
        assert "EXITED-0" in text and "Traceback" not in text
        assert list(tmp_path.glob("chartui-faq-step*.pt"))
    finally:
        tmux("kill-session", "-t", session)


@pytest.mark.slow
def test_watching_a_run_another_process_trains(tmp_path):
    """`chartui train` in the background (as under nohup), `chartui watch` in a terminal:
    the watcher follows it live, says how it ended, and o opens its final checkpoint."""
    import signal
    trainer = subprocess.Popen(
        [sys.executable, "-m", "chartui", "train", str(FAQ), "--checkpoint-dir", str(tmp_path),
         "--device", "cpu", "--precision", "fp32", "--embedding", "16", "--hidden", "32",
         "--batch-size", "8", "--seq-len", "32", "--iterations", "1000000",
         "--eval-every", "40", "--sample-every", "40", "--sample-length", "40"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    session = f"chartui-{uuid.uuid4().hex[:8]}"
    try:
        deadline = time.monotonic() + 90
        while not list(tmp_path.glob("runs/*.json")):
            assert time.monotonic() < deadline, "the run never logged itself"
            time.sleep(0.2)
        command = (f"{sys.executable} -m chartui watch {tmp_path}; echo EXITED-$?; sleep 30")
        assert tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    command).returncode == 0
        wait_for_screen(session, lambda s: "read-only" in s)  # the notice shows
        wait_for_screen(session, lambda s: "WATCHING" in s and "TRAINING" in s
                        and "Sample at step" in s)
        text = screen(session)
        assert " t Train" not in text and "o Open" in text  # read-only
        trainer.send_signal(signal.SIGINT)  # Ctrl+C: it saves and ends as stopped
        assert trainer.wait(timeout=60) == 0
        wait_for_screen(session, lambda s: "STOPPED" in s and "press o" in s)
        tmux("send-keys", "-t", session, "o")
        text = wait_for_screen(session, lambda s: "from chartui-faq-step" in s)
        assert "WATCHING" not in text and "t Train" in text
        tmux("send-keys", "-t", session, "q")
        text = wait_for_screen(session, lambda s: "EXITED-" in s, timeout=60)
        assert "EXITED-0" in text and "Traceback" not in text
    finally:
        tmux("kill-session", "-t", session)
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
