"""The `chartui` command: the TUI by default, and headless `train`, `sample` and `corpora`.

Every problem a user can fix ends as one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

STARTED_AT = time.perf_counter()  # --max-time counts from here: start-up is part of the budget

from chartui import __version__
from chartui.config import MAX_SEED, TrainConfig, preset
from chartui.corpus import DEFAULT_CORPUS
from chartui.errors import ChartuiError, is_out_of_memory
from chartui.files import not_a_folder, user_path
from chartui.terminal import ENDINGS, detach_from_terminal, hangup_signals, served
from chartui.units import format_count, format_duration

COMMANDS = ("train", "sample", "corpora", "runs", "serve")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class UsageError(ChartuiError):
    """A refused request that the user can rephrase; exits with status 2, like a bad option."""


# --- argument parsing ---------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"'{text}' is out of range (0 to 2**63 - 1)")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {text} is out of range (1 to 65535)")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _whole_number(text: str) -> int:
    """A whole number of either sign: the command says in one sentence what range it takes."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _numbers(text: str) -> list[float]:
    """One number, or several separated by commas."""
    return [_number(part.strip()) for part in text.split(",")]


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"chartui: error: {message} (see `{self.prog} --help`)\n")


_OPTION_TYPES = {"whole": _positive_int, "real": _number, "choice": str, "text": str}


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig setting, named, typed and explained by its `Setting`: its
    flag, or the field's name with dashes (--hidden, --seq-len), sets the field."""
    for name, setting in TrainConfig.settings().items():
        parser.add_argument(f"--{setting.flag or name.replace('_', '-')}", dest=name,
                            type=_OPTION_TYPES[setting.kind], metavar=setting.metavar,
                            help=setting.help)


def build_parser() -> dict[str, argparse.ArgumentParser]:
    app = _Parser(prog="chartui", description=(
        "A terminal playground for character-level language models. With no command, opens the "
        "app on CORPUS (default: pydocs, the Python docs that ship with Python)."),
        epilog="Commands: chartui train | sample | corpora | runs | serve (each has --help).")
    app.add_argument("corpus", nargs="?", default=None,
                     help="corpus name (see `chartui corpora`) or path to a text file")
    app.add_argument("--checkpoint", metavar="CKPT", help="open a trained model")
    app.add_argument("--resume", metavar="CKPT", help="continue training from a checkpoint")
    app.add_argument("--encoding", help="text encoding of a corpus file (default UTF-8)")
    app.add_argument("--corpora-dir", action="append", metavar="DIR",
                     help="another folder of *.txt corpora")
    app.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    app.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    app.add_argument("--version", action="version", version=f"chartui {__version__}")

    train = _Parser(prog="chartui train", description=(
        "Train a character-level LSTM on CORPUS without the TUI. Prints a progress bar, or one "
        "JSON object per line with --json. Ctrl+C stops and saves a checkpoint."))
    train.add_argument("corpus", help="corpus name (see `chartui corpora`) or path to a text file")
    train.add_argument("--preset", default=None,
                       help="default (fast on a CPU), lesson (the LSTMCell lesson) or anna "
                            "(the Anna Karenina tutorial); options below override it")
    _add_setting_options(train)
    train.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    train.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    train.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint")
    train.add_argument("--encoding", help="text encoding of the corpus file (default UTF-8)")
    train.add_argument("--corpora-dir", action="append", metavar="DIR")
    train.add_argument("--json", action="store_true", help="one JSON object per line")

    sample = _Parser(prog="chartui sample", description=(
        "Stream text from a trained model to stdout. Temperature: low is conservative, high is "
        "adventurous, 0 always takes the most likely character. Several samples (--num-samples, "
        "or a list of temperatures) are printed one after another, each under a label."))
    sample.add_argument("checkpoint", help="checkpoint file (or a folder: its newest *.pt)")
    sample.add_argument("--prime", default=None, help="text to start from (default: the "
                                                      "training run's sample prime)")
    sample.add_argument("--prime-file", metavar="PATH",
                        help="start from the text of this UTF-8 file (instead of --prime)")
    sample.add_argument("--length", type=_positive_int, default=500)
    sample.add_argument("--temperature", type=_numbers, default=None, metavar="T[,T...]",
                        help="one temperature, or several separated by commas: one sample "
                             "each, all with the same seed (a temperature sweep)")
    sample.add_argument("--top-k", type=_positive_int, default=None, metavar="K",
                        help="draw from the K likeliest characters only")
    sample.add_argument("--top-p", type=_number, default=None, metavar="P",
                        help="nucleus sampling: draw from the fewest likeliest characters whose "
                             "probabilities add up to P (0 < P <= 1)")
    sample.add_argument("--num-samples", type=_whole_number, default=None, metavar="N",
                        help="N samples (per temperature), the seeds counting up from --seed")
    sample.add_argument("--beam", type=_whole_number, default=None, metavar="N",
                        help="no sampling: beam search keeps the N likeliest continuations "
                             "and prints the best (deterministic; it tends to repeat itself)")
    sample.add_argument("--seed", type=_positive_int, default=None)
    sample.add_argument("--skip-unknown", action="store_true",
                        help="leave out characters of the prime that the model never saw "
                             "(without it they are refused)")
    sample.add_argument("--device", default="cpu")

    corpora = _Parser(prog="chartui corpora",
                      description="List the corpora that can be named, with size and vocabulary.")
    corpora.add_argument("--corpora-dir", action="append", metavar="DIR")

    runs = _Parser(prog="chartui runs", description=(
        "List the training runs logged in a checkpoint folder, newest first: when, corpus, "
        "model, steps, best validation loss, state and latest checkpoint. A run whose process "
        "died without a word (kill -9, out of memory, power loss) shows as interrupted."))
    runs.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    runs.add_argument("--json", action="store_true",
                      help="one JSON object per run (the run log, with its judged status)")

    serve = _Parser(prog="chartui serve", description=(
        "Serve the app to a web browser (textual-serve). Each browser tab runs its own chartui, "
        "with its own training run. Listens on this machine only unless --host says otherwise."))
    serve.add_argument("corpus", nargs="?", default=None,
                       help="corpus the app opens on (name or path)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; "
                            "0.0.0.0 lets anyone who can reach the port in)")
    serve.add_argument("--port", type=_port, default=8000, help="default 8000")
    serve.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    serve.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    serve.add_argument("--corpora-dir", action="append", metavar="DIR")
    return {"app": app, "train": train, "sample": sample, "corpora": corpora, "runs": runs,
            "serve": serve}


# --- commands -----------------------------------------------------------------------------------

def train_config_from_args(args: argparse.Namespace, resume_payload: dict | None):
    """The preset (or the resumed run's settings) with the options given on the command line."""
    overrides = {name: getattr(args, name) for name in TrainConfig.settings()
                 if getattr(args, name) is not None}
    if resume_payload is not None:
        from chartui.resume import resume_config
        if args.preset:
            raise ChartuiError("--preset cannot be combined with --resume, as a resumed run "
                               "keeps its settings; leave out --preset (single options such as "
                               "--lr can still be changed)")
        config = resume_config(resume_payload, overrides)
    else:
        config = preset(args.preset or "default").override(**overrides)
    config.validate()
    return config


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
    payload = None
    if args.resume:
        from chartui.checkpoint import load_checkpoint
        payload = load_checkpoint(args.resume)
    config = train_config_from_args(args, payload)
    from chartui.corpus import load_corpus
    corpus = load_corpus(args.corpus, encoding=args.encoding, vocabulary=config.vocabulary,
                         extra_dirs=args.corpora_dir)
    from chartui.progress import RunState
    from chartui.trainer import Trainer

    trainer = Trainer(corpus, config, device=args.device, checkpoint_dir=args.checkpoint_dir,
                      resume=args.resume, resume_payload=payload, started_at=STARTED_AT)
    if args.json:
        def show(p):
            if p.event != "done":  # the done line below has its own, documented shape
                print(json.dumps(p.to_json()), flush=True)
    else:
        show = ProgressPrinter()
        print(f"corpus {corpus.name}: {len(corpus):,} characters, {len(corpus.vocab)} distinct; "
              f"model {trainer.model.num_parameters():,} parameters on {trainer.device} "
              f"({trainer.precision.name}); preset {config.preset}")

    def listener(p):
        try:
            show(p)
            if p.event == "step" and p.message:  # a checkpoint could not be written: go on
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


MAX_SAMPLES = 1000  # --num-samples


def read_prime_file(text: str) -> str:
    """The text of a --prime-file: UTF-8 (a byte-order mark is dropped), neither empty nor
    binary; anything else is refused with one sentence."""
    path = user_path(text)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ChartuiError(f"the prime file '{path}' does not exist") from None
    except IsADirectoryError:
        raise ChartuiError(f"the prime file '{path}' is a folder; give a text file") from None
    except OSError as exc:
        raise ChartuiError(f"cannot read the prime file '{path}' "
                           f"({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise ChartuiError(f"the prime file '{path}' contains NUL bytes, so it looks like a "
                           "binary file; give a text file")
    try:
        prime = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChartuiError(f"the prime file '{path}' is not UTF-8 text (byte {exc.start} cannot "
                           "be read); save it as UTF-8") from None
    if not prime:
        raise ChartuiError(f"the prime file '{path}' is empty; give some text to start from, "
                           "or leave out --prime-file")
    return prime


def _refuse_with_beam(args: argparse.Namespace) -> None:
    """Beam search draws nothing at random and works at temperature 1: the options that shape
    or seed random draws would be silently ignored, so they are refused."""
    ignored = [flag for flag, value in (("--temperature", args.temperature),
                                        ("--top-k", args.top_k), ("--top-p", args.top_p),
                                        ("--num-samples", args.num_samples),
                                        ("--seed", args.seed)) if value is not None]
    if ignored:
        raise ChartuiError(f"--beam finds the likeliest text at temperature 1 without drawing at "
                         f"random, so {' and '.join(ignored)} would change nothing; leave "
                         f"{'it' if len(ignored) == 1 else 'them'} out")


def _sample_plan(args: argparse.Namespace, temperatures: list[float]
                 ) -> list[tuple[str | None, float, int | None]]:
    """(label, temperature, seed) of each sample to print. One sample has no label and the
    seed as given; several count their seeds up from --seed (or from one drawn at random), the
    same for every temperature, so the only difference in a sweep is the temperature."""
    count = args.num_samples or 1
    if count == 1 and len(temperatures) == 1:
        return [(None, temperatures[0], args.seed)]
    base = args.seed if args.seed is not None else secrets.randbelow(MAX_SEED + 1)
    plan = []
    for temperature in temperatures:
        for number in range(1, count + 1):
            seed = (base + number - 1) % (MAX_SEED + 1)
            parts = [f"temperature {temperature:g}"] if len(temperatures) > 1 else []
            parts += [f"sample {number}"] if count > 1 else []
            plan.append((f"--- {', '.join(parts)} (seed {seed}) ---", temperature, seed))
    return plan


def cmd_sample(args: argparse.Namespace) -> int:
    from chartui.config import check_beam_width, check_length, check_temperature, check_top_p

    # everything is checked before torch loads, so mistakes show at once
    if args.prime is not None and args.prime_file is not None:
        raise ChartuiError("give --prime or --prime-file, not both")
    if args.beam is not None:
        check_beam_width(args.beam)
        _refuse_with_beam(args)
    for temperature in args.temperature or []:
        check_temperature(temperature)
    check_top_p(args.top_p)
    if args.num_samples is not None and not 1 <= args.num_samples <= MAX_SAMPLES:
        raise ChartuiError(f"--num-samples {args.num_samples} is out of range; ask for 1 to "
                           f"{MAX_SAMPLES:,} samples")
    check_length(args.length)
    given_prime = read_prime_file(args.prime_file) if args.prime_file else args.prime
    from chartui.checkpoint import load_model
    from chartui.model import resolve_device
    from chartui.sampling import SamplingSettings, sample_stream

    device = resolve_device(args.device)
    model, vocab, payload = load_model(args.checkpoint, device)
    saved = payload.get("train_config") or {}
    prime = given_prime if given_prime is not None else saved.get("sample_prime", "Th")
    temperatures = args.temperature or [saved.get("sample_temperature", 0.8)]
    for temperature in temperatures:
        SamplingSettings(temperature, args.top_k, args.top_p).validate(len(vocab))
    unknown = vocab.unknown_chars(prime)
    if unknown and given_prime is None:  # the run's own prime (e.g. "Th" on a Chinese corpus)
        prime = "".join(c for c in prime if c in vocab)
    elif unknown:
        shown = ", ".join(repr(c) for c in unknown[:8]) + (", …" if len(unknown) > 8 else "")
        if not args.skip_unknown:
            raise UsageError(f"the prime has characters this model never saw: {shown}; remove "
                             "them or pass --skip-unknown to leave them out")
        print(f"chartui: note: the model never saw {shown}; those characters of the prime are "
              "skipped", file=sys.stderr)
    out = sys.stdout
    if args.beam is not None:
        from chartui.beam import beam_search
        out.write(prime + beam_search(model, vocab, prime, args.length, args.beam).text + "\n")
        out.flush()
        return 0
    live = out.isatty()
    for label, temperature, seed in _sample_plan(args, temperatures):
        if label:
            out.write(label + "\n")
        out.write(prime)
        settings = SamplingSettings(temperature, args.top_k, args.top_p)
        for char in sample_stream(model, vocab, prime, args.length, settings, seed):
            out.write(char)
            if live:
                out.flush()
        out.write("\n")
        out.flush()
    return 0


def cmd_corpora(args: argparse.Namespace) -> int:
    from chartui.corpus import available_corpora, load_corpus

    rows = []
    for entry in available_corpora(args.corpora_dir):
        try:
            corpus = load_corpus(entry.name, extra_dirs=args.corpora_dir)
            size, vocab = f"{len(corpus):,}", str(len(corpus.vocab))
        except ChartuiError as exc:
            size, vocab = "-", f"unusable: {exc}"
        rows.append((entry.name, size, vocab, entry.description))
    widths = [max(len(r[i]) for r in rows + [("name", "characters", "vocab", "")])
              for i in range(3)]
    print(f"{'name':<{widths[0]}}  {'characters':>{widths[1]}}  {'vocab':>{widths[2]}}  source")
    for name, size, vocab, source in rows:
        print(f"{name:<{widths[0]}}  {size:>{widths[1]}}  {vocab:>{widths[2]}}  {source}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from chartui.runs import list_runs, skipped_note

    folder = user_path(args.checkpoint_dir)
    blocked = not_a_folder(folder)
    if blocked:
        raise ChartuiError(f"{blocked}; give the checkpoint folder with --checkpoint-dir")
    runs, skipped = list_runs(folder)
    if args.json:
        for run in runs:
            print(json.dumps({**run.to_json(), "status": run.status().value}))
    elif not runs:
        print(f"no runs logged in {folder}/runs")
    else:
        rows = [(f"{run.started:%Y-%m-%d %H:%M}", run.corpus_name,
                 f"{run.config.get('num_layers', '?')}x{run.config.get('hidden_size', '?')}",
                 f"{run.step:,}",
                 "-" if run.best_val_loss is None else f"{run.best_val_loss:.4f}",
                 run.status().value.replace("_", " "), run.latest_checkpoint or "-")
                for run in runs]
        header = ("started", "corpus", "model", "steps", "best val", "state", "checkpoint")
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(6)]
        for row in [header] + rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            print("  ".join(cells) + "  " + row[6])
    if skipped:
        print(f"chartui: note: {skipped_note(skipped)}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from textual_serve.server import Server

    command = [sys.executable, "-m", "chartui", "--device", args.device,
               "--checkpoint-dir", str(Path(args.checkpoint_dir).resolve())]
    for folder in args.corpora_dir or []:
        command += ["--corpora-dir", str(Path(folder).resolve())]
    if args.corpus:
        corpus = user_path(args.corpus)
        command.append(str(corpus.resolve()) if corpus.exists() else args.corpus)
    try:  # a busy port or a wrong address is said at once, before the server starts
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        socket.create_server((args.host, args.port), family=family).close()
    except OSError as exc:
        raise ChartuiError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                           "pick another --port, or check --host") from None
    if args.host not in LOOPBACK:
        print(f"chartui: warning: listening on {args.host}: anyone who can reach port "
              f"{args.port} can use chartui, and train, on this machine", file=sys.stderr)
    where = f"[{args.host}]" if ":" in args.host else args.host
    print(f"chartui: serving on http://{where}:{args.port} (each browser tab runs its own "
          "chartui; Ctrl+C stops)", file=sys.stderr)
    Server(shlex.join(command), host=args.host, port=args.port, title="chartui").serve()
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    if not served() and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ChartuiError("the app needs an interactive terminal; for scripts use "
                           "`chartui train` and `chartui sample`")
    from chartui.tui.app import make_app

    if args.checkpoint and args.resume:
        raise ChartuiError("give --checkpoint (to open a model) or --resume (to continue "
                           "training it), not both")
    app = make_app(corpus=args.corpus or DEFAULT_CORPUS, checkpoint=args.checkpoint,
                   resume=args.resume, encoding=args.encoding, corpora_dirs=args.corpora_dir,
                   device=args.device, checkpoint_dir=args.checkpoint_dir)
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parsers = build_parser()
    command = argv[0] if argv and argv[0] in COMMANDS else "app"
    args = parsers[command].parse_args(argv[1:] if command != "app" else argv)
    handler = {"app": cmd_app, "train": cmd_train, "sample": cmd_sample,
               "corpora": cmd_corpora, "runs": cmd_runs, "serve": cmd_serve}[command]
    try:
        return handler(args)
    except ChartuiError as exc:
        print(f"chartui: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        print("chartui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - out of memory, or a bug: still one line
        if not is_out_of_memory(exc):
            return _unexpected(exc)
        print("chartui: error: ran out of memory; use a smaller --batch-size, --hidden or corpus",
              file=sys.stderr)
        return 1


def _unexpected(exc: Exception) -> int:
    if os.environ.get("CHARTUI_DEBUG"):
        raise exc
    print(f"chartui: unexpected error ({type(exc).__name__}: {exc}); set CHARTUI_DEBUG=1 to "
          "see the traceback, and please report it", file=sys.stderr)
    return 1
