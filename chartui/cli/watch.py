"""`chartui watch [RUN_LOG|CHECKPOINT_DIR]`: the app, read-only, on a run another process
trains (`chartui train` under nohup or tmux, rank 0 of a torchrun job), following its run log."""

from __future__ import annotations

import argparse
import sys

from chartui.errors import ChartuiError
from chartui.runs import RUNS_FOLDER


def cmd_watch(args: argparse.Namespace) -> int:
    from chartui.following import corpus_to_load, find_run_log
    from chartui.runs import read_run

    path, notice = find_run_log(args.path, args.checkpoint_dir)  # refusals: one sentence
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ChartuiError("watching needs an interactive terminal; for scripts use "
                           "`chartui runs --json`")
    record = read_run(path)
    if record is None:
        raise ChartuiError(f"{path} is not a readable chartui run log")
    # the run's own folder: r lists its neighbours, o picks among its checkpoints
    folder = path.parent.parent if path.parent.name == RUNS_FOLDER else args.checkpoint_dir
    from chartui.tui.app import make_app
    app = make_app(corpus=corpus_to_load(record), watch=str(path), watch_notice=notice,
                   checkpoint_dir=folder, device=args.device)
    app.run()
    return app.return_code or 0
