"""`chartui corpora` and `chartui runs`: what there is to train on, and what was trained."""

from __future__ import annotations

import argparse
import json
import sys

from chartui.errors import ChartuiError
from chartui.files import not_a_folder, user_path


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
                 f"{run.cell} {run.config.get('num_layers', '?')}x"
                 f"{run.config.get('hidden_size', '?')}",
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
