"""The one exception type chartui shows to people, and the words for what it did not expect."""


class ChartuiError(Exception):
    """A problem the user can fix, described in one sentence (what is wrong, what to do)."""


def is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, torch's OutOfMemoryError, or the CPU allocator's RuntimeError."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or (
        isinstance(exc, RuntimeError) and ("allocate" in str(exc)
                                           or "out of memory" in str(exc).lower()))


def describe_failure(exc: BaseException, smaller: str = "a smaller batch size, hidden size or "
                     "corpus in settings (e)") -> str:
    """One sentence for anything a worker or a command hits: a ChartuiError's own words, running
    out of memory (`smaller` says what to shrink), or an unexpected error to report."""
    if isinstance(exc, ChartuiError):
        return str(exc)
    if is_out_of_memory(exc):
        return f"ran out of memory; choose {smaller}"
    return f"unexpected error ({type(exc).__name__}: {exc}); please report it"
