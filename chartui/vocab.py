"""Vocabulary: the characters a model knows, in a stable (sorted) order."""

from __future__ import annotations

import string
from collections.abc import Iterable

import numpy as np

from chartui.errors import ChartuiError

# The lesson's fixed vocabulary: Python's string.printable (100 characters), in its own order.
PRINTABLE = string.printable


class Vocabulary:
    """Maps characters to integer ids and back.

    Characters a model never saw cannot be encoded. `encode(..., unknown="skip")` drops them
    (and `unknown_chars` tells which ones), `unknown="error"` refuses with a clear message.
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        if not chars:
            raise ChartuiError("the vocabulary is empty: the corpus has no characters to learn "
                               "from")
        if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise ChartuiError("a vocabulary must list distinct single characters")
        self.chars: tuple[str, ...] = tuple(chars)
        self.index: dict[str, int] = {c: i for i, c in enumerate(self.chars)}
        codepoints = np.array([ord(c) for c in self.chars], dtype=np.int64)
        self._lookup_size = int(codepoints.max()) + 1
        self._lookup = np.full(self._lookup_size, -1, dtype=np.int32)
        self._lookup[codepoints] = np.arange(len(self.chars), dtype=np.int32)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted set of distinct characters in `text`."""
        return cls(sorted(set(text)))

    @classmethod
    def printable(cls) -> Vocabulary:
        """Lesson A's fixed vocabulary, `string.printable`."""
        return cls(PRINTABLE)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters)"

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def unknown_chars(self, text: str) -> list[str]:
        """Distinct characters of `text` that are not in the vocabulary, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        """Ids of the characters of `text` as an int64 array.

        unknown="error" raises ChartuiError naming the unknown characters;
        unknown="skip" leaves them out.
        """
        if not text:
            return np.zeros(0, dtype=np.int64)
        codepoints = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codepoints.shape, -1, dtype=np.int64)
        inside = codepoints < self._lookup_size
        ids[inside] = self._lookup[codepoints[inside]]
        missing = ids < 0
        if missing.any():
            if unknown == "skip":
                return ids[~missing]
            shown = ", ".join(repr(c) for c in self.unknown_chars(text)[:8])
            raise ChartuiError(f"these characters are not in the model's vocabulary: {shown}; "
                               "remove them or train on a corpus that contains them")
        return ids

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The text for a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)

    def to_string(self) -> str:
        """The vocabulary as one string, the form saved in checkpoints."""
        return "".join(self.chars)

    @classmethod
    def from_string(cls, chars: str) -> Vocabulary:
        return cls(list(chars))
