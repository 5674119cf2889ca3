"""Corpora: find text by name or path, read it safely, encode it as an integer array.

A corpus is held in memory only once, as a NumPy array of character ids (one or two bytes per
character for ordinary vocabularies); the text itself is decoded again on demand for previews.
Files are read in chunks, twice: once to learn the vocabulary and size, once to encode.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import os
import sysconfig
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chartui.errors import ChartuiError
from chartui.vocab import Vocabulary

DEFAULT_CORPUS = "pydocs"
CHUNK_BYTES = 8 * 1024 * 1024
MAX_CODEPOINT = 0x110000


@dataclass
class Corpus:
    """Encoded text plus what it is and where it came from."""

    name: str
    source: str
    vocab: Vocabulary
    data: np.ndarray
    fingerprint: str

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def text(self, start: int = 0, stop: int | None = None) -> str:
        """Decode a slice of the corpus back into text (for previews)."""
        return self.vocab.decode(self.data[start:stop])

    def char_counts(self) -> np.ndarray:
        """How often each vocabulary id occurs."""
        return np.bincount(self.data, minlength=len(self.vocab))

    def split(self, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation parts: the last `val_fraction` of the text is held out."""
        n_val = int(round(len(self) * val_fraction))
        return self.data[: len(self) - n_val], self.data[len(self) - n_val:]


@dataclass(frozen=True)
class CorpusEntry:
    """A corpus that can be loaded by name: a built-in text, or a `*.txt` file in a folder."""

    name: str
    description: str
    builtin: Callable[[], Iterator[str]] | None = None
    path: Path | None = None

    def chunks(self, encoding: str | None = None) -> Iterator[str]:
        if self.builtin is not None:
            return self.builtin()
        return _file_chunks(self.path, encoding)


# ---------------------------------------------------------------------------------------------
# Built-in corpora: text that every CPython install already has.

def _pydocs_chunks() -> Iterator[str]:
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some distributions strip pydoc_data
        raise ChartuiError("this Python has no pydoc_data module, so the built-in 'pydocs' corpus "
                           "is missing; name another corpus or give a path to a text file") from exc
    for key in sorted(topics):
        yield topics[key].rstrip() + "\n\n"


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "test", "tests", "idle_test", "idlelib",
            "lib2to3", "__pycache__", "turtledemo"}
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("test"))
        files.extend(Path(folder) / n for n in sorted(names)
                     if n.endswith(".py") and not n.startswith("test_"))
    return files


def _docstring_chunks() -> Iterator[str]:
    for path in _stdlib_files():
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        docs = [ast.get_docstring(node) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef))]
        text = "\n\n".join(d for d in docs if d)
        if text:
            yield text + "\n\n"


def _pysource_chunks() -> Iterator[str]:
    for path in _stdlib_files():
        try:
            yield path.read_text(encoding="utf-8") + "\n"
        except (OSError, UnicodeDecodeError):
            continue


BUILTIN_CORPORA = (
    CorpusEntry("pydocs", "Python documentation topics from the standard library (pydoc_data)",
                builtin=_pydocs_chunks),
    CorpusEntry("docstrings", "docstrings of the Python standard library (English prose)",
                builtin=_docstring_chunks),
    CorpusEntry("pysource", "Python source code of the standard library, without tests",
                builtin=_pysource_chunks),
)


# ---------------------------------------------------------------------------------------------
# Corpus folders.

def shipped_corpora_dir() -> Path | None:
    """The `corpora/` folder that ships with chartui (source checkout or installed copy)."""
    checkout = Path(__file__).resolve().parent.parent / "corpora"
    if checkout.is_dir():
        return checkout
    installed = Path(__file__).resolve().parent / "shipped_corpora"
    return installed if installed.is_dir() else None


def corpus_dirs(extra: list[str | Path] | None = None) -> list[Path]:
    """Folders whose `*.txt` files are corpora, in search order.

    `extra` (e.g. --corpora-dir), then $CHARTUI_CORPORA (os.pathsep-separated), then the
    `corpora/` folder shipped with chartui.
    """
    dirs = [Path(d).expanduser() for d in (extra or [])]
    dirs += [Path(d).expanduser() for d in os.environ.get("CHARTUI_CORPORA", "").split(os.pathsep)
             if d]
    shipped = shipped_corpora_dir()
    if shipped is not None:
        dirs.append(shipped)
    return dirs


def available_corpora(extra_dirs: list[str | Path] | None = None) -> list[CorpusEntry]:
    """Every corpus that can be named: built-ins first, then `*.txt` files by stem."""
    entries = list(BUILTIN_CORPORA)
    seen = {e.name for e in entries}
    shipped = shipped_corpora_dir()
    for folder in corpus_dirs(extra_dirs):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.txt")):
            if path.stem not in seen:
                seen.add(path.stem)
                where = f"shipped with chartui: corpora/{path.name}" if folder == shipped \
                    else str(path)
                entries.append(CorpusEntry(path.stem, where, path=path))
    return entries


# ---------------------------------------------------------------------------------------------
# Reading files.

def _open_error(path: Path) -> ChartuiError | None:
    if not path.exists():
        return ChartuiError(f"'{path}' does not exist; check the path, or run `chartui corpora` "
                            "to see the corpora that can be named")
    if path.is_dir():
        return ChartuiError(f"'{path}' is a folder, not a text file; give the path of a .txt file "
                            "(or put it in a corpora folder, see `chartui corpora`)")
    if not path.is_file():
        return ChartuiError(f"'{path}' is not a regular file; give the path of a text file")
    if not os.access(path, os.R_OK):
        return ChartuiError(f"'{path}' cannot be read (permission denied); fix its permissions "
                            "or copy it somewhere readable")
    return None


def _detect_encoding(head: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ChartuiError(f"'{encoding}' is not an encoding Python knows; try utf-8, "
                               "latin-1, cp1252 or utf-16") from None
        return encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _file_chunks(path: Path, encoding: str | None) -> Iterator[str]:
    """Decoded text of a file, chunk by chunk, with clear errors for anything that is not text."""
    problem = _open_error(path)
    if problem:
        raise problem
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(0)
            name = _detect_encoding(head, encoding)
            decoder = codecs.getincrementaldecoder(name)(errors="strict")
            check_nul = codecs.lookup(name).name not in ("utf-16", "utf-16-le", "utf-16-be",
                                                         "utf-32", "utf-32-le", "utf-32-be")
            offset = 0
            while True:
                raw = f.read(CHUNK_BYTES)
                if check_nul and b"\x00" in raw:
                    raise ChartuiError(f"'{path}' contains NUL bytes, so it looks like a binary "
                                       "file rather than text; give a plain text file (for "
                                       "UTF-16 text without a BOM, pass --encoding utf-16-le)")
                try:
                    text = decoder.decode(raw, final=not raw)
                except UnicodeDecodeError as exc:
                    pos = offset + exc.start
                    bad = raw[exc.start:exc.start + 1].hex() if exc.start < len(raw) else "end"
                    raise ChartuiError(
                        f"'{path}' is not valid {name} text (byte 0x{bad} at offset {pos}); "
                        "convert it to UTF-8 or pass its encoding, e.g. --encoding latin-1"
                    ) from None
                offset += len(raw)
                if text:
                    yield text
                if not raw:
                    return
    except PermissionError:
        raise ChartuiError(f"'{path}' cannot be read (permission denied); fix its permissions "
                           "or copy it somewhere readable") from None
    except IsADirectoryError:
        raise ChartuiError(f"'{path}' is a folder, not a text file") from None
    except OSError as exc:
        raise ChartuiError(f"'{path}' could not be read ({exc.strerror or exc}); check the file "
                           "and try again") from None


def _normalised(chunks: Iterator[str], ascii_fold: bool) -> Iterator[str]:
    """Unix newlines (\\r\\n and \\r become \\n), optionally folded to ASCII; chunk-safe."""
    pending_cr = False
    for chunk in chunks:
        if pending_cr:
            chunk = "\r" + chunk
        pending_cr = chunk.endswith("\r")
        if pending_cr:
            chunk = chunk[:-1]
        chunk = chunk.replace("\r\n", "\n").replace("\r", "\n")
        if ascii_fold:
            chunk = unicodedata.normalize("NFKD", chunk).encode("ascii", "ignore").decode("ascii")
        if chunk:
            yield chunk
    if pending_cr:
        yield "\n"


def _codepoints(chunk: str) -> np.ndarray:
    return np.frombuffer(chunk.encode("utf-32-le"), dtype=np.uint32)


def _id_dtype(vocab_size: int) -> type:
    if vocab_size <= 256:
        return np.uint8
    return np.uint16 if vocab_size <= 65536 else np.int32


def encode_chunks(make_chunks: Callable[[], Iterator[str]], vocabulary: str | Vocabulary,
                  what: str) -> tuple[Vocabulary, np.ndarray, str]:
    """Two passes over the text: learn size and vocabulary, then fill one compact id array.

    `vocabulary` is "corpus" (the corpus's own sorted characters), "printable" (the lesson's
    fixed string.printable; text is folded to ASCII and other characters dropped) or a
    Vocabulary to reuse. Returns the vocabulary, the ids and a fingerprint of the text.
    """
    fixed = Vocabulary.printable() if vocabulary == "printable" else (
        vocabulary if isinstance(vocabulary, Vocabulary) else None)
    ascii_fold = vocabulary == "printable"
    seen = np.zeros(MAX_CODEPOINT, dtype=bool)
    digest = hashlib.sha256()
    n_chars = 0
    all_space = True
    for chunk in _normalised(make_chunks(), ascii_fold):
        digest.update(chunk.encode("utf-8", "surrogatepass"))
        cps = _codepoints(chunk)
        seen[cps] = True
        all_space = all_space and chunk.isspace()
        n_chars += len(cps)
    if n_chars == 0:
        raise ChartuiError(f"{what} is empty; a corpus needs some text to learn from")
    if all_space:
        raise ChartuiError(f"{what} contains only whitespace; a corpus needs some text to learn "
                           "from")
    if fixed is None:
        vocab = Vocabulary(chr(c) for c in np.flatnonzero(seen))
        table = np.full(MAX_CODEPOINT, -1, dtype=np.int64)
        table[np.flatnonzero(seen)] = np.arange(len(vocab))
    else:
        vocab = fixed
        table = np.full(MAX_CODEPOINT, -1, dtype=np.int64)
        table[[ord(c) for c in vocab.chars]] = np.arange(len(vocab))
        # Only characters of the fixed vocabulary are kept: count them.
        n_chars = sum(int((table[_codepoints(c)] >= 0).sum())
                      for c in _normalised(make_chunks(), ascii_fold))
        if n_chars == 0:
            raise ChartuiError(f"{what} has no characters from the chosen vocabulary")
    data = np.empty(n_chars, dtype=_id_dtype(len(vocab)))
    pos = 0
    for chunk in _normalised(make_chunks(), ascii_fold):
        ids = table[_codepoints(chunk)]
        if fixed is not None:
            ids = ids[ids >= 0]
        data[pos:pos + len(ids)] = ids
        pos += len(ids)
    if pos != n_chars:
        raise ChartuiError(f"{what} changed while it was being read; try again")
    return vocab, data, digest.hexdigest()[:16]


def looks_like_path(name: str) -> bool:
    return os.sep in name or (os.altsep or "\0") in name or name.endswith(".txt") \
        or name.startswith((".", "~"))


def load_corpus(name_or_path: str, encoding: str | None = None,
                vocabulary: str | Vocabulary = "corpus",
                extra_dirs: list[str | Path] | None = None) -> Corpus:
    """Load a corpus by name (`chartui corpora` lists them) or by path to a text file."""
    if not name_or_path or not name_or_path.strip():
        raise ChartuiError("no corpus given; name one (see `chartui corpora`) or give a path")
    entries = {e.name: e for e in available_corpora(extra_dirs)}
    path = Path(name_or_path).expanduser()
    if name_or_path in entries and not (looks_like_path(name_or_path) and path.exists()):
        entry = entries[name_or_path]
        if entry.builtin is not None:  # built from many files: build once, read twice
            built = list(entry.chunks())
            chunks = lambda: iter(built)  # noqa: E731
        else:
            chunks = lambda: entry.chunks(encoding)  # noqa: E731
        vocab, data, fingerprint = encode_chunks(chunks, vocabulary, f"corpus '{entry.name}'")
        return Corpus(entry.name, entry.description, vocab, data, fingerprint)
    if looks_like_path(name_or_path) or path.exists():
        vocab, data, fingerprint = encode_chunks(lambda: _file_chunks(path, encoding), vocabulary,
                                                 f"'{path}'")
        return Corpus(path.stem, str(path), vocab, data, fingerprint)
    names = ", ".join(sorted(entries))
    raise ChartuiError(f"there is no corpus named '{name_or_path}'; use one of: {names}, "
                       "or give a path to a text file")


def corpus_from_text(text: str, name: str = "text", vocabulary: str | Vocabulary = "corpus"
                     ) -> Corpus:
    """A corpus made from a string (handy for tests and scripts)."""
    vocab, data, fingerprint = encode_chunks(lambda: iter([text]), vocabulary, f"'{name}'")
    return Corpus(name, "text given in memory", vocab, data, fingerprint)

