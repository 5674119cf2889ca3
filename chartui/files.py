"""Paths typed by a user, names made from user text, and the one way chartui writes a file
(checkpoints, run logs, exports): atomically."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from chartui.errors import ChartuiError


def user_path(text: str | Path) -> Path:
    """`text` as a path, with a leading `~` or `~user` expanded; an unknown user is refused
    with one sentence (pathlib raises RuntimeError)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise ChartuiError(f"'{text}' starts with a user this machine does not know; write the "
                           "path out in full") from None


def file_name_slug(name: str, max_length: int | None = None) -> str:
    """`name` (a corpus's) as a safe part of a file name: letters, digits, `.`, `_` and `-`
    only, other runs of characters as one `_`, at most `max_length` long; `corpus` if nothing
    is left."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:max_length] or "corpus"


def not_a_folder(folder: Path) -> str | None:
    """"'X' is a file, not a folder" when `folder`, or the nearest of its parents that exists,
    is a file (so nothing can be written in it); None otherwise, or when that cannot be told."""
    try:
        for part in (folder, *folder.parents):
            if part.exists():
                return None if part.is_dir() else f"'{part}' is a file, not a folder"
    except OSError:  # a folder on the way cannot be looked into: the caller's error says so
        pass
    return None


def _new_file_mode() -> int:
    mask = os.umask(0)  # reading the umask means setting it; done once, at import
    os.umask(mask)
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()  # what open() gives a new file; mkstemp's own is 0o600
# what link() says on a file system without hard links (FAT, some network mounts)
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None],
                     replace: bool = True, mode: int | None = None) -> Path:
    """Write a file at `path` through a temporary file beside it (`write` fills it), flushed to
    disk, then renamed into place; the folder is flushed too, so the new name survives a
    crash.

    Readers see the old file or the new one, never half of one, and a failed write leaves the
    old file as it was. The folder must exist. With `replace=False` an existing file is never
    touched: the temporary file is linked into place, which fails with FileExistsError if
    something is there, even one created a moment ago (where the file system has no hard
    links, the name is first claimed by creating an empty file exclusively, then the
    temporary file renamed over it). The file gets the usual mode for a new file, or `mode`
    (e.g. the mode of the file it replaces). Raises OSError, or whatever `write` raises.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), NEW_FILE_MODE if mode is None else mode)
        if replace:
            os.replace(tmp_name, path)
        elif _link(tmp_name, path):
            os.unlink(tmp_name)
        else:
            with open(path, "xb"):  # the name is ours now: FileExistsError if it was taken
                pass
            try:
                os.replace(tmp_name, path)
            except OSError:
                path.unlink(missing_ok=True)  # our own empty file, not someone else's
                raise
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    _fsync_folder(path.parent)
    return path


def write_text_atomically(path: str | Path, text: str, replace: bool = True) -> Path:
    """`write_atomically` for text, in UTF-8 with the line endings as they are."""
    return write_atomically(path, lambda f: f.write(text.encode("utf-8")), replace)


def _link(source: str, target: Path) -> bool:
    """Hard-link `source` to the new name `target`; False where the file system has no hard
    links."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        return False
    return True


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk, where the system allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
