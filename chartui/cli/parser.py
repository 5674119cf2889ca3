"""The command line's options: one parser per command, the train options derived from
the settings (`chartui.config.Setting`), and the types that read numbers."""

from __future__ import annotations

import argparse

from chartui import __version__
from chartui.config import TrainConfig, preset
from chartui.errors import ChartuiError
from chartui.interchange import FORMATS


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
        epilog="Commands: chartui train | sample | corpora | runs | serve | watch | export "
               "(each has --help).")
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
        "Train a character-level LSTM (or GRU, or plain RNN: --cell) on CORPUS without the TUI. "
        "Prints a progress bar, or one JSON object per line with --json. Ctrl+C stops and saves "
        "a checkpoint."))
    train.add_argument("corpus", help="corpus name (see `chartui corpora`) or path to a text file")
    train.add_argument("--preset", default=None,
                       help="default (fast on a CPU), lesson (the LSTMCell lesson) or anna "
                            "(the Anna Karenina tutorial); options below override it. Without "
                            "it: the [train] table of your config file, if any (see the README)")
    _add_setting_options(train)
    train.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    train.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    train.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint")
    train.add_argument("--encoding", help="text encoding of the corpus file (default UTF-8)")
    train.add_argument("--corpora-dir", action="append", metavar="DIR")
    train.add_argument("--json", action="store_true", help="one JSON object per line")
    train.add_argument("--tensorboard", metavar="DIR",
                       help="also write the losses, learning rate, speed and samples to DIR for "
                            "TensorBoard (needs pip install 'chartui[tensorboard]')")

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
    watch = _Parser(prog="chartui watch", description=(
        "Open the app read-only on a run another process is training (chartui train under "
        "nohup or tmux, rank 0 of a torchrun job), following its run log: status line, chart, "
        "latest sample. A log that stops changing is shown as stalled; when the run ends, o "
        "opens its final checkpoint to generate from. Quitting leaves the run alone."))
    watch.add_argument("path", nargs="?", default=None, metavar="RUN_LOG|CHECKPOINT_DIR",
                       help="a run log (<checkpoint folder>/runs/<run id>.json), or a "
                            "checkpoint folder: its newest live run (else its newest run). "
                            "Default: the newest live run in --checkpoint-dir")
    watch.add_argument("--checkpoint-dir", default="checkpoints", metavar="DIR")
    watch.add_argument("--device", default="auto",
                       help="for training once a checkpoint is opened: auto, cpu, cuda, mps")
    export = _Parser(prog="chartui export", description=(
        "Write a checkpoint's model for use outside chartui: its weights as safetensors (with "
        "the vocabulary and model settings as metadata), or one generation step as ONNX "
        "(ids and state in, logits and state out) for other runtimes. Needs the export extra: "
        "pip install 'chartui[export]'."))
    export.add_argument("checkpoint", help="checkpoint file (or a folder: its newest *.pt)")
    export.add_argument("--format", required=True, choices=FORMATS,
                        help="safetensors (weights) or onnx (a generation step)")
    export.add_argument("--output", metavar="PATH",
                        help="the file to write (default: the checkpoint's name with .safetensors "
                             "or .onnx, in the current folder); an existing file is never "
                             "replaced")
    return {"app": app, "train": train, "sample": sample, "corpora": corpora, "runs": runs,
            "serve": serve, "watch": watch, "export": export}


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
    else:  # without --preset, the user's [train] defaults (chartui.user_config)
        from chartui.user_config import train_defaults
        config = (preset(args.preset) if args.preset else train_defaults()).override(**overrides)
    config.validate()
    return config
