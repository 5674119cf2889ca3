"""`chartui train`: a run with progress lines (or JSON), stopped and saved on Ctrl+C,
SIGTERM or a hang-up. Under torchrun, one of several processes training one model
(`chartui.distributed`): rank 0 prints, the others are quiet but for errors."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from chartui.cli.parser import UsageError, train_config_from_args
from chartui.cli.started import STARTED_AT
from chartui.errors import ChartuiError, is_out_of_memory
from chartui.terminal import ENDINGS, detach_from_terminal, hangup_signals
from chartui.units import format_count, format_duration


class ProgressPrinter:
    """The human-readable listener: a progress line, evaluations and samples."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, p) -> None:
        total = f"/{p.total_steps}" if p.total_steps else ""
        line = f"step {p.step}{total}"
        if p.train_loss is not None:
            line += f"  loss {p.train_loss:.3f}"
        line += (f"  {format_count(p.chars_per_s)} chars/s  {format_duration(p.elapsed_s)}"
                 f" elapsed  ETA {format_duration(p.eta_s)}")
        if p.event == "start":
            self._say(p.message or "training…")
        elif p.event == "done":
            pass  # cmd_train says how it ended; warnings and errors go to stderr
        elif p.val_loss is not None or p.sample:
            if p.val_loss is not None:
                line += f"  | val {p.val_loss:.4f} nats ({p.val_bpc:.3f} bits/char)"
            self._say(line)
            if p.sample:
                self._say("  sample: " + p.sample.replace("\n", "\n          "))
        elif self.live:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()

    def _say(self, text: str) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()


def cmd_train(args: argparse.Namespace) -> int:
    # Settings and the corpus are checked before torch is imported, so mistakes show at once.
    if args.tensorboard:
        from chartui.tensorboard_log import folder_problem, missing_extra
        problem = missing_extra() or folder_problem(args.tensorboard)
        if problem:
            raise UsageError(problem)
    payload = None
    if args.resume:
        from chartui.checkpoint import load_checkpoint
        payload = load_checkpoint(args.resume)
    config = train_config_from_args(args, payload)
    from chartui.corpus import load_corpus
    corpus = load_corpus(args.corpus, encoding=args.encoding, vocabulary=config.vocabulary,
                         extra_dirs=args.corpora_dir)
    from chartui.distributed import joined

    with joined(args.device) as (world, device):
        boards: list = []  # rank 0's; an error opening it stops every rank with its sentence
        if args.tensorboard:
            world.decided_by_main(lambda: boards.append(_open_tensorboard(args.tensorboard)))
        board = boards[0] if boards else None
        try:
            return _train(args, config, corpus, payload, world, device, board)
        finally:  # every way out, a stop by signal and a second Ctrl+C included
            if board is not None:
                try:
                    board.close()
                except OSError as exc:
                    print(f"chartui: warning: the TensorBoard files may be incomplete ({exc})",
                          file=sys.stderr, flush=True)


def _open_tensorboard(folder: str):
    """The TensorBoard listener for --tensorboard DIR."""
    from chartui.tensorboard_log import TensorBoardLog
    return TensorBoardLog(folder)


def _train(args: argparse.Namespace, config, corpus, payload, world, device: str,
           board) -> int:
    from chartui.progress import RunState
    from chartui.trainer import Trainer

    trainer = Trainer(corpus, config, device=device, checkpoint_dir=args.checkpoint_dir,
                      resume=args.resume, resume_payload=payload, started_at=STARTED_AT,
                      world=world)
    if not world.main:  # rank 0 says how the run goes; the others only their errors
        def show(p):
            pass
    elif args.json:
        def show(p):
            if p.event != "done":  # the done line below has its own, documented shape
                print(json.dumps(p.to_json()), flush=True)
    else:
        show = ProgressPrinter()
        print(f"corpus {corpus.name}: {len(corpus):,} characters, {len(corpus.vocab)} distinct; "
              f"model {trainer.model.num_parameters():,} parameters on {trainer.device} "
              f"({trainer.precision.name}); preset {config.preset}")

    def listener(p):
        nonlocal board
        if board is not None:
            try:
                board(p)
            except OSError as exc:  # a full disk, say: training goes on without it
                board = None
                print(f"chartui: warning: stopped writing TensorBoard files ({exc})",
                      file=sys.stderr, flush=True)
        try:
            show(p)
            if p.event == "step" and p.message and world.main:  # a save failed: go on
                if getattr(show, "live", False):
                    sys.stdout.write("\r\x1b[2K")  # not in the middle of the progress line
                    sys.stdout.flush()
                print(f"chartui: warning: {p.message}", file=sys.stderr, flush=True)
        except OSError:  # the terminal (or the pipe's reader) is gone: save, as on a hang-up
            detach_from_terminal()
            trainer.stop("hangup")

    def stop(signum, frame):
        if signum == signal.SIGINT and trainer.stop_requested:  # a second Ctrl+C: give up
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            raise KeyboardInterrupt
        if ENDINGS[signum] == "hangup":
            detach_from_terminal()  # writes to a hung-up terminal fail: none may stop the save
        trainer.stop(ENDINGS[signum])

    signals = [signal.SIGINT, signal.SIGTERM, *hangup_signals()]
    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        done = trainer.run(listener)
    except (RuntimeError, MemoryError) as exc:
        if not is_out_of_memory(exc):
            raise
        kept = trainer.kept_checkpoint_phrase("no checkpoint had been saved yet")
        raise ChartuiError(f"ran out of memory at step {trainer.step + 1}; {kept}; use a smaller "
                           "--batch-size, --seq-len, --hidden or corpus") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not world.main:
        failed = done.state is RunState.DIVERGED or trainer.final_save_error
        return 1 if failed else 0
    if args.json:
        print(json.dumps({"event": "done", "step": done.step, "train_loss": done.train_loss,
                          "val_loss": done.val_loss, "chars_per_s": done.chars_per_s,
                          "elapsed_s": done.elapsed_s, "checkpoint": done.checkpoint,
                          "state": done.state.value, "message": done.message,
                          "precision": done.precision}), flush=True)
    elif done.checkpoint and not trainer.final_save_error:
        print(f"{done.state.label} at step {done.step}; checkpoint: {done.checkpoint}")
    if done.state is RunState.DIVERGED:
        print(f"chartui: {done.message}", file=sys.stderr)
        return 1
    if trainer.final_save_error:
        print(f"chartui: error: {trainer.final_save_error}", file=sys.stderr)
        return 1
    return 0
