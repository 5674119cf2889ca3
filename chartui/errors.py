"""The one exception type chartui shows to people."""


class ChartuiError(Exception):
    """A problem the user can fix, described in one sentence (what is wrong, what to do)."""
