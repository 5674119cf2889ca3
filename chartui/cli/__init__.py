"""The `chartui` command: the TUI by default, and headless `train`, `sample`, `corpora`, `runs`,
`serve` and `export`; `watch` opens the TUI read-only on a run another process trains.

Every problem a user can fix ends as one line on stderr and a non-zero exit status.
"""

import os
import sys
from collections.abc import Sequence

from chartui.cli.export import cmd_export
from chartui.cli.interactive import cmd_app, cmd_serve
from chartui.cli.listing import cmd_corpora, cmd_runs
from chartui.cli.parser import UsageError, build_parser, train_config_from_args
from chartui.cli.sample import cmd_sample
from chartui.cli.started import STARTED_AT  # set as chartui.cli loads: --max-time counts it
from chartui.cli.train import cmd_train
from chartui.cli.watch import cmd_watch
from chartui.errors import ChartuiError, is_out_of_memory

__all__ = ["STARTED_AT", "build_parser", "main", "train_config_from_args"]

COMMANDS = ("train", "sample", "corpora", "runs", "serve", "watch", "export")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parsers = build_parser()
    command = argv[0] if argv and argv[0] in COMMANDS else "app"
    args = parsers[command].parse_args(argv[1:] if command != "app" else argv)
    handler = {"app": cmd_app, "train": cmd_train, "sample": cmd_sample,
               "corpora": cmd_corpora, "runs": cmd_runs, "serve": cmd_serve,
               "watch": cmd_watch, "export": cmd_export}[command]
    try:
        under_torchrun = os.environ.get("WORLD_SIZE", "1") not in ("", "0", "1")
        if command in ("app", "serve", "watch") and under_torchrun:
            raise UsageError("the app cannot run under torchrun (one model over several "
                             "processes is for `chartui train`); start it without torchrun")
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
