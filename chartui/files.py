"""Paths typed by a user, and writing small text files atomically (run logs, exports)."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from chartui.errors import ChartuiError


def user_path(text: str | Path) -> Path:
    """`text` as a path, with a leading `~` or `~user` expanded; an unknown user is refused
    with one sentence (pathlib raises RuntimeError)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise ChartuiError(f"'{text}' starts with a user this machine does not know; write the "
                           "path out in full") from None


def _new_file_mode() -> int:
    mask = os.umask(0)  # reading the umask means setting it; done once, at import
    os.umask(mask)
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()  # what open() gives a new file; mkstemp's own is 0o600
# what link() says on a file system without hard links (FAT, some network mounts)
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def write_text_atomically(path: str | Path, text: str, replace: bool = True) -> Path:
    """Write `text` to `path` through a temporary file beside it, flushed, then renamed.

    Readers see the old file or the new one, never half of one. The folder must exist. With
    `replace=False` an existing file is never touched: the temporary file is linked into place,
    which fails with FileExistsError if something is there, even one created a moment ago
    (where the file system has no hard links, the file is created exclusively and written).
    The file gets the usual mode for a new file. Raises OSError.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), NEW_FILE_MODE)
        if replace:
            os.replace(tmp_name, path)
        else:
            try:
                os.link(tmp_name, path)
            except OSError as exc:
                if exc.errno not in NO_HARD_LINKS:
                    raise
                with open(path, "x", encoding="utf-8", newline="") as f:  # still never over one
                    f.write(text)
            os.unlink(tmp_name)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    return path
