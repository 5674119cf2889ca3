"""The app: in this terminal (`chartui [CORPUS]`) or in browser tabs (`chartui serve`)."""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from pathlib import Path

from chartui.corpus import DEFAULT_CORPUS
from chartui.errors import ChartuiError
from chartui.files import user_path
from chartui.terminal import served

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
