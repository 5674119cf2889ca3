"""Checkpoints: written atomically, named and kept by `CheckpointFiles`, loaded safely,
checked before use.

A checkpoint is a plain dict of tensors and Python values (never pickled objects), so it loads
with `torch.load(weights_only=True)`: a file that tries to run code is refused, not run.
"""

from __future__ import annotations

import errno
import itertools
import pickle
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from chartui import __version__
from chartui.errors import ChartuiError
from chartui.files import file_name_slug, not_a_folder, user_path, write_atomically
from chartui.model import CharRNN, ModelConfig
from chartui.progress import LossHistory
from chartui.vocab import Vocabulary

FORMAT = "chartui-checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("model_config", "vocabulary", "model_state", "step")


class CheckpointWriteError(ChartuiError):
    """A checkpoint could not be written: `path`, `reason` (why) and `hint` (what to do)."""

    def __init__(self, path: Path, reason: str, hint: str):
        super().__init__(f"could not write the checkpoint '{path}' ({reason}); {hint}")
        self.path, self.reason, self.hint = path, reason, hint


def _write_problem(folder: Path, exc: OSError) -> tuple[str, str]:
    """Why a checkpoint could not be written to `folder`, and what to do, in a few words."""
    blocked = not_a_folder(folder)
    if blocked:
        return blocked, "choose another --checkpoint-dir"
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return reason, "make the folder writable or choose another --checkpoint-dir"
    return reason, "free some space or choose another --checkpoint-dir"


def save_checkpoint(payload: dict, path: str | Path, new_file: bool = False) -> Path:
    """Write `payload` to `path` atomically (`chartui.files.write_atomically`).

    An interrupted write leaves any earlier file at `path` untouched. With `new_file` a file
    already at `path` (even one another process made a moment ago) is never replaced:
    FileExistsError is raised if that name is taken. Any other failure raises
    CheckpointWriteError.
    """
    path = Path(path)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION,
               "chartui_version": __version__, **payload}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_atomically(path, lambda f: torch.save(payload, f), replace=not new_file)
    except FileExistsError:
        raise
    except OSError as exc:
        raise CheckpointWriteError(path, *_write_problem(path.parent, exc)) from None


class CheckpointFiles:
    """The checkpoint files of one run, in its folder: how they are named, and which are kept.

    A file is named after the corpus, the step and the validation loss
    (`notes-step000120-val1.234.pt`). A name taken by a file that is not this run's is skipped
    (`-2`, `-3`, ...), also when another process takes it during the write (two runs sharing a
    folder). Only the latest file and the best one (by validation loss) are kept: each save
    removes this run's others.
    """

    def __init__(self, folder: str | Path, corpus_name: str) -> None:
        self.folder = Path(folder)
        self.prefix = file_name_slug(corpus_name)
        self.latest: Path | None = None
        self.latest_step: int | None = None  # the step the latest file holds
        self.best: Path | None = None
        self._written: list[Path] = []  # this run's files still on disk

    def save(self, payload: dict, step: int, val_loss: float | None, best: bool) -> Path:
        """Write `payload` (the model at `step`) as a new file, the latest and, with `best`, the
        best; remove this run's files that are now neither. Raises CheckpointWriteError."""
        loss_part = f"-val{val_loss:.3f}" if val_loss is not None else ""
        base = f"{self.prefix}-step{step:06d}{loss_part}"
        for n in itertools.count(1):
            path = self.folder / (f"{base}.pt" if n == 1 else f"{base}-{n}.pt")
            ours = path in self._written
            if not ours and path.exists():
                continue
            try:
                save_checkpoint(payload, path, new_file=not ours)
                break
            except FileExistsError:  # another process took that name a moment ago
                continue
        if path not in self._written:
            self._written.append(path)
        self.latest, self.latest_step = path, step
        if best:
            self.best = path
        for old in list(self._written):
            if old not in (self.latest, self.best):
                try:
                    old.unlink(missing_ok=True)
                except OSError:  # left behind, harmless: the new file is already written
                    pass
                self._written.remove(old)
        return path


CHECKPOINT_NAME = re.compile(r"^(?P<corpus>.+)-step(?P<step>\d+)(?:-val(?P<val>\d+\.\d+))?"
                             r"(?:-\d+)?\.pt$")


def list_checkpoints(folder: str | Path) -> list[tuple[Path, str]]:
    """Checkpoint files in `folder`, newest first, each with a label read from its name."""
    folder = Path(folder)
    try:
        files = [p for p in folder.glob("*.pt") if p.is_file()]
        files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return []
    rows = []
    for path in files:
        match = CHECKPOINT_NAME.match(path.name)
        if match:
            val = f"val {match['val']}" if match["val"] else "no val loss"
            label = f"{match['corpus']} · step {int(match['step']):,} · {val}"
        else:
            label = path.name
        rows.append((path, label))
    return rows


def resolve_checkpoint_path(path: str | Path) -> Path:
    """A checkpoint file, or the newest `*.pt` in a folder."""
    path = user_path(path)
    if path.is_dir():
        files = sorted(path.glob("*.pt"), key=lambda p: p.stat().st_mtime)
        if not files:
            raise ChartuiError(f"'{path}' holds no checkpoints (*.pt); train one first with "
                               "`chartui train`")
        return files[-1]
    if not path.exists():
        raise ChartuiError(f"the checkpoint '{path}' does not exist; check the path (checkpoints "
                           "are saved in checkpoints/ by default)")
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load and check a chartui checkpoint; every problem becomes one clear ChartuiError."""
    path = resolve_checkpoint_path(path)
    what = f"'{path}'"
    unreadable = ChartuiError(f"{what} is not a readable checkpoint (truncated or corrupt?); use "
                              "another file, e.g. the previous checkpoint in the same folder")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles; we say it in one line
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except PermissionError:
        raise ChartuiError(f"{what} cannot be read (permission denied); fix its permissions"
                           ) from None
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # it names code to import and run: refused unrun
            raise ChartuiError(f"{what} contains Python objects that cannot be loaded safely, so "
                               "it was not loaded; chartui only opens checkpoints it wrote itself"
                               ) from None
        raise unreadable from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, IndexError, UnicodeDecodeError):
        raise unreadable from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ChartuiError(f"{what} is a PyTorch file but not a chartui checkpoint; give a file "
                           "written by `chartui train`")
    version = payload.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ChartuiError(f"{what} has no valid checkpoint format version (damaged or edited?); "
                           "use another file")
    if version > FORMAT_VERSION:
        raise ChartuiError(f"{what} was written by a newer chartui (checkpoint format {version}, "
                           f"this is {__version__} reading format {FORMAT_VERSION}); upgrade "
                           "chartui to load it")
    if version < FORMAT_VERSION:
        raise ChartuiError(f"{what} uses the old checkpoint format {version}, which this chartui "
                           f"{__version__} (format {FORMAT_VERSION}) cannot read; sample it with "
                           "the chartui that wrote it, or train a new model")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ChartuiError(f"{what} is incomplete (no {', '.join(missing)}); use another file")
    return payload


def model_from_checkpoint(payload: dict, path: str | Path = "checkpoint"
                          ) -> tuple[CharRNN, Vocabulary]:
    """Rebuild the model and vocabulary a checkpoint describes."""
    try:
        vocab = Vocabulary.from_string(payload["vocabulary"])
        config = ModelConfig.from_dict(payload["model_config"])
        if config.vocab_size != len(vocab):
            raise ValueError("vocabulary size mismatch")
        model = CharRNN(config)
        model.load_state_dict(payload["model_state"])
    except (ChartuiError, KeyError, TypeError, ValueError, RuntimeError):
        raise ChartuiError(f"'{path}' does not match the model it describes (damaged or edited "
                           "checkpoint); use another file") from None
    return model, vocab


def load_model(path: str | Path, device: torch.device | str = "cpu"
               ) -> tuple[CharRNN, Vocabulary, dict]:
    """Model (on `device`, in eval mode), vocabulary and the whole checkpoint payload."""
    payload = load_checkpoint(path, map_location="cpu")
    model, vocab = model_from_checkpoint(payload, path)
    return model.to(device).eval(), vocab, payload


@dataclass(frozen=True)
class CheckpointSummary:
    """What the UI shows of an opened checkpoint, read from its payload once."""

    path: str
    corpus_name: str | None
    parameters: int
    step: int
    total_steps: int | None
    best_val_loss: float | None
    elapsed_s: float | None
    history: LossHistory
    cell: str = "lstm"  # the model's recurrent cell: lstm, gru or rnn

    @classmethod
    def of(cls, payload: dict, path: str | Path, model: CharRNN) -> CheckpointSummary:
        return cls(path=str(path), corpus_name=(payload.get("corpus") or {}).get("name"),
                   parameters=model.num_parameters(), cell=model.config.cell,
                   step=int(payload["step"]),
                   total_steps=(payload.get("train_config") or {}).get("iterations"),
                   best_val_loss=payload.get("best_val_loss"),
                   elapsed_s=payload.get("elapsed_s"),
                   history=LossHistory.from_payload(payload.get("history")))
