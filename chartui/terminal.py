"""When the terminal goes away: signals that end a run, and writing into a terminal that is gone.

An SSH connection that drops (or a killed tmux session) sends the terminal's processes SIGHUP,
and from then on every write to the terminal fails (EIO; EPIPE for a pipe whose reader is
gone). chartui then finishes the current step, saves a checkpoint and its run log, and exits:
first it points its standard streams at /dev/null, so that nothing it prints afterwards can
fail, block or delay the save.
"""

from __future__ import annotations

import os
import signal
import stat

# How a run ends after each signal (the run log's state and the last progress event's).
# SIGHUP exists only on POSIX systems.
HANGUP = getattr(signal, "SIGHUP", None)
ENDINGS = {signal.SIGINT: "stopped", signal.SIGTERM: "interrupted",
           **({HANGUP: "hangup"} if HANGUP is not None else {})}


def served() -> bool:
    """True in a browser tab of `chartui serve` (textual-serve runs the app with its driver)."""
    return os.environ.get("TEXTUAL_DRIVER", "").endswith("WebDriver")


def hangup_signals() -> list:
    """SIGHUP, unless there is none (Windows) or this process was started with it ignored
    (`nohup`), which should stay so."""
    if HANGUP is None or signal.getsignal(HANGUP) is signal.SIG_IGN:
        return []
    return [HANGUP]


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null, unless they are regular files (a log that
    still works). Python's own `sys.stdout` and `sys.stderr` keep working: they write into
    the null device from now on."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    try:
        for fd in (0, 1, 2):
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
            except OSError:
                pass  # closed or unusable: replace it all the same
            try:
                os.dup2(null, fd)
            except OSError:
                pass
    finally:
        os.close(null)
