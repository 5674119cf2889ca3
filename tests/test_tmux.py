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
