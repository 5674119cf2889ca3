"""Writing small text files atomically (run logs, exports)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: str | Path, text: str, replace: bool = True) -> Path:
    """Write `text` to `path` through a temporary file beside it, flushed, then renamed.

    Readers see the old file or the new one, never half of one. The folder must exist. With
    `replace=False` an existing file is never touched: the temporary file is linked into place,
    which fails with FileExistsError if something is there, even one created a moment ago.
    Raises OSError.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp_name, path)
        else:
            os.link(tmp_name, path)
            os.unlink(tmp_name)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    return path
