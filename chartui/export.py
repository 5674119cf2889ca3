"""Saving a run's loss history (CSV or JSON) and a generated text to files.

Files are written atomically and never over an existing file: a name that is taken is refused
with one sentence, as is a path that cannot be written.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from chartui.errors import ChartuiError
from chartui.files import file_name_slug, not_a_folder, user_path, write_text_atomically

LOSS_CSV, LOSS_JSON, TEXT = "loss-csv", "loss-json", "text"
SUFFIXES = {LOSS_CSV: "-loss.csv", LOSS_JSON: "-loss.json", TEXT: "-text.txt"}
LOSS_FORMAT = "chartui-loss-history"


def default_path(corpus_name: str, kind: str) -> Path:
    """`chartui-<corpus>-loss.csv` (or `-loss.json`, `-text.txt`) in the current folder."""
    return Path(f"chartui-{file_name_slug(corpus_name, 40)}{SUFFIXES[kind]}")


def loss_rows(train: list[tuple[int, float]], val: list[tuple[int, float]]
              ) -> list[tuple[int, float | None, float | None]]:
    """(step, training loss, validation loss) for every step that has either, in step order."""
    train_at, val_at = dict(train), dict(val)
    return [(step, train_at.get(step), val_at.get(step)) for step in sorted({*train_at, *val_at})]


def loss_history_csv(train: list[tuple[int, float]], val: list[tuple[int, float]]) -> str:
    """A header `step,train_loss,val_loss`, then one row per step; a missing loss is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "train_loss", "val_loss"])
    for step, train_loss, val_loss in loss_rows(train, val):
        writer.writerow([step, "" if train_loss is None else repr(train_loss),
                         "" if val_loss is None else repr(val_loss)])
    return out.getvalue()


def loss_history_json(train: list[tuple[int, float]], val: list[tuple[int, float]],
                      corpus_name: str) -> str:
    """The two histories as [step, loss] pairs, losses in nats per character."""
    return json.dumps({"format": LOSS_FORMAT, "corpus": corpus_name, "unit": "nats/char",
                       "train_loss": [[s, v] for s, v in train],
                       "val_loss": [[s, v] for s, v in val]}, indent=1) + "\n"


def export(kind: str, path: str | Path, *, train: list[tuple[int, float]] | None = None,
           val: list[tuple[int, float]] | None = None, text: str | None = None,
           corpus_name: str = "") -> Path:
    """Write a loss history (`loss-csv`, `loss-json`) or a text (`text`) to a new file at
    `path`; returns the path. Raises ChartuiError with one sentence when it cannot (an unknown
    `kind` too)."""
    if kind not in SUFFIXES:
        raise ChartuiError(f"'{kind}' is not a kind of export; use one of: {', '.join(SUFFIXES)}")
    if kind == TEXT:
        if not text:
            raise ChartuiError("there is no generated text to save yet: generate some first (g)")
        content = text
    else:
        if not train and not val:
            raise ChartuiError("there is no loss history to save yet: train (t) or open a "
                               "checkpoint (o) first")
        train, val = train or [], val or []
        content = (loss_history_csv(train, val) if kind == LOSS_CSV
                   else loss_history_json(train, val, corpus_name))
    return write_new_file(path, content)


def write_new_file(path: str | Path, content: str) -> Path:
    """Write `content` to `path` atomically, refusing a path that already exists."""
    path = user_path(path)
    if not path.name:
        raise ChartuiError("type a file name to save to")
    exists = ChartuiError(f"'{path}' already exists and was left as it is; choose another name")
    try:
        if path.exists() or path.is_symlink():
            raise exists
        return write_text_atomically(path, content, replace=False)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        raise ChartuiError(f"could not write '{path}' ({_reason(path, exc)}); choose another "
                           "folder or name") from None


def _reason(path: Path, exc: OSError) -> str:
    blocked = not_a_folder(path.parent)
    if blocked:
        return blocked
    try:
        if not path.parent.exists():
            return f"the folder '{path.parent}' does not exist"
    except OSError:  # a folder on the way cannot be looked into: the error itself says so
        pass
    return exc.strerror or str(exc)
