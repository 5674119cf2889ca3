"""Corpora: find text by name or path, read it safely, encode it as an integer array.

A corpus is held only once, as a NumPy array of character ids (one or two bytes per character
for ordinary vocabularies); the text itself is decoded again on demand for previews. Files are
read in chunks, twice: once to learn the vocabulary, size and character counts, once to encode.
Plain-ASCII chunks skip decoding (the fast path for big English text), and an id array larger
than `IN_MEMORY_BYTES` lives in an unnamed file in the cache folder, mapped into memory, so a
gigabyte of text does not take a gigabyte of RAM.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import os
import sysconfig
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chartui.errors import ChartuiError
from chartui.files import user_path
from chartui.vocab import Vocabulary

DEFAULT_CORPUS = "pydocs"
CHUNK_BYTES = 8 * 1024 * 1024
IN_MEMORY_BYTES = 256 * 1024 * 1024
PEEK_BYTES = 64 * 1024
ASCII_CODECS = ("utf-8", "utf-8-sig", "ascii")
MAX_CODEPOINT = 0x110000


@dataclass
class Corpus:
    """Encoded text plus what it is and where it came from."""

    name: str
    source: str
    vocab: Vocabulary
    data: np.ndarray
    fingerprint: str
    counts: np.ndarray  # how often each vocabulary id occurs (counted while reading)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def text(self, start: int = 0, stop: int | None = None) -> str:
        """Decode a slice of the corpus back into text (for previews)."""
        return self.vocab.decode(self.data[start:stop])


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
    dirs = [user_path(d) for d in (extra or [])]
    dirs += [user_path(d) for d in os.environ.get("CHARTUI_CORPORA", "").split(os.pathsep)
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
            codec = codecs.lookup(name).name
            check_nul = codec not in ("utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "utf-32-le", "utf-32-be")
            offset = 0
            while True:
                raw = f.read(CHUNK_BYTES)
                if check_nul and b"\x00" in raw:
                    raise ChartuiError(f"'{path}' contains NUL bytes, so it looks like a binary "
                                       "file rather than text; give a plain text file (for "
                                       "UTF-16 text without a BOM, pass --encoding utf-16-le)")
                if raw and codec in ASCII_CODECS and raw.isascii() and not decoder.getstate()[0]:
                    offset += len(raw)
                    yield raw  # ASCII is its own decoding: the bytes are the characters
                    continue
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


def _normalised(chunks: Iterator[str | bytes], ascii_fold: bool) -> Iterator[str | bytes]:
    """Unix newlines (\\r\\n and \\r become \\n), optionally folded to ASCII; chunk-safe.

    ASCII chunks given as bytes stay bytes unless they hold a carriage return.
    """
    pending_cr = False
    for chunk in chunks:
        if isinstance(chunk, bytes):
            if not pending_cr and b"\r" not in chunk:
                yield chunk
                continue
            chunk = chunk.decode("ascii")
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


def _codepoints(chunk: str | bytes) -> np.ndarray:
    if isinstance(chunk, bytes):
        return np.frombuffer(chunk, dtype=np.uint8)
    return np.frombuffer(chunk.encode("utf-32-le"), dtype=np.uint32)


def cache_dir() -> Path:
    """Where chartui keeps scratch files: $XDG_CACHE_HOME/chartui or ~/.cache/chartui."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chartui"


def _id_array(length: int, dtype: type) -> np.ndarray:
    """An array for the ids: in memory, or, when large, in an unnamed file mapped into memory
    (the operating system reclaims it when the array is dropped or the program ends)."""
    if length * np.dtype(dtype).itemsize <= IN_MEMORY_BYTES:
        return np.empty(length, dtype=dtype)
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as scratch:
            return np.memmap(scratch, dtype=dtype, mode="w+", shape=(length,))
    except OSError:
        return np.empty(length, dtype=dtype)  # no room on disk: memory will have to do


def _id_dtype(vocab_size: int) -> type:
    if vocab_size <= 256:
        return np.uint8
    return np.uint16 if vocab_size <= 65536 else np.int32


def encode_chunks(make_chunks: Callable[[], Iterator[str]], vocabulary: str | Vocabulary,
                  what: str) -> tuple[Vocabulary, np.ndarray, str]:
    """Two passes over the text: learn size and vocabulary, then fill one compact id array.

    `vocabulary` is "corpus" (the corpus's own sorted characters), "printable" (the lesson's
    fixed string.printable; text is folded to ASCII and other characters dropped) or a
    Vocabulary to reuse. Returns the vocabulary, the ids, a fingerprint of the text and how
    often each vocabulary character occurs.
    """
    fixed = Vocabulary.printable() if vocabulary == "printable" else (
        vocabulary if isinstance(vocabulary, Vocabulary) else None)
    ascii_fold = vocabulary == "printable"
    counts = np.zeros(MAX_CODEPOINT, dtype=np.int64)
    digest = hashlib.sha256()
    n_chars = 0
    all_space = True
    for chunk in _normalised(make_chunks(), ascii_fold):
        digest.update(chunk if isinstance(chunk, bytes)
                      else chunk.encode("utf-8", "surrogatepass"))
        cps = _codepoints(chunk)
        chunk_counts = np.bincount(cps)
        counts[:len(chunk_counts)] += chunk_counts
        all_space = all_space and chunk.isspace()
        n_chars += len(cps)
    seen = counts > 0
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
        # Only characters of the fixed vocabulary are kept.
        n_chars = int(counts[[ord(c) for c in vocab.chars]].sum())
        if n_chars == 0:
            raise ChartuiError(f"{what} has no characters from the chosen vocabulary")
    data = _id_array(n_chars, _id_dtype(len(vocab)))
    pos = 0
    for chunk in _normalised(make_chunks(), ascii_fold):
        ids = table[_codepoints(chunk)]
        if fixed is not None:
            ids = ids[ids >= 0]
        elif len(ids) and ids.min() < 0:  # a character the first read never saw
            pos = -1
            break
        if pos + len(ids) > n_chars:  # more text than the first read found
            pos = -1
            break
        data[pos:pos + len(ids)] = ids
        pos += len(ids)
    if pos != n_chars:
        raise ChartuiError(f"{what} changed while it was being read; try again")
    char_counts = counts[[ord(c) for c in vocab.chars]]
    return vocab, data, digest.hexdigest()[:16], char_counts


def looks_like_path(name: str) -> bool:
    return os.sep in name or (os.altsep or "\0") in name or name.endswith(".txt") \
        or name.startswith((".", "~"))


def find_corpus(name_or_path: str, extra_dirs: list[str | Path] | None = None) -> CorpusEntry:
    """The corpus a name (`chartui corpora` lists them) or a path to a text file refers to."""
    if not name_or_path or not name_or_path.strip():
        raise ChartuiError("no corpus given; name one (see `chartui corpora`) or give a path")
    entries = {e.name: e for e in available_corpora(extra_dirs)}
    path = user_path(name_or_path)
    if name_or_path in entries and not (looks_like_path(name_or_path) and path.exists()):
        return entries[name_or_path]
    if looks_like_path(name_or_path) or path.exists():
        return CorpusEntry(path.stem, str(path), path=path)
    names = ", ".join(sorted(entries))
    raise ChartuiError(f"there is no corpus named '{name_or_path}'; use one of: {names}, "
                       "or give a path to a text file")


def load_corpus(name_or_path: str, encoding: str | None = None,
                vocabulary: str | Vocabulary = "corpus",
                extra_dirs: list[str | Path] | None = None) -> Corpus:
    """Load a corpus by name (`chartui corpora` lists them) or by path to a text file."""
    entry = find_corpus(name_or_path, extra_dirs)
    if entry.builtin is not None:  # built from many files: build once, read twice
        built = list(entry.chunks())
        chunks = lambda: iter(built)  # noqa: E731
    else:
        chunks = lambda: entry.chunks(encoding)  # noqa: E731
    what = f"'{entry.path}'" if entry.description == str(entry.path) else f"corpus '{entry.name}'"
    encoded = encode_chunks(chunks, vocabulary, what)
    return Corpus(entry.name, entry.description, *encoded)


@dataclass(frozen=True)
class CorpusPeek:
    """The start of a corpus file and its size: what can be shown while the whole file loads."""

    name: str
    source: str
    size_bytes: int
    head: str


def peek_corpus(name_or_path: str, encoding: str | None = None,
                extra_dirs: list[str | Path] | None = None) -> CorpusPeek | None:
    """Read only the first `PEEK_BYTES` of a corpus file (None for built-ins or on any problem:
    loading the corpus reports problems properly)."""
    try:
        entry = find_corpus(name_or_path, extra_dirs)
        if entry.path is None:
            return None
        size = entry.path.stat().st_size
        with open(entry.path, "rb") as f:
            head = f.read(PEEK_BYTES)
        name = _detect_encoding(head[:4], encoding)
        text = codecs.getincrementaldecoder(name)(errors="replace").decode(head)
    except (ChartuiError, OSError, LookupError):
        return None
    return CorpusPeek(entry.name, entry.description, size,
                      text.replace("\r\n", "\n").replace("\r", "\n"))


def corpus_from_text(text: str, name: str = "text", vocabulary: str | Vocabulary = "corpus"
                     ) -> Corpus:
    """A corpus made from a string (handy for tests and scripts)."""
    encoded = encode_chunks(lambda: iter([text]), vocabulary, f"'{name}'")
    return Corpus(name, "text given in memory", *encoded)

