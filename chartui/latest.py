"""Tickets that tell the result of the newest request from results that arrive too late.

A worker thread cannot be interrupted, only asked to stop: a corpus load, a checkpoint being
opened, a training run or a generation that was replaced may still finish and report. Each
request takes a ticket, its worker tags everything it reports with it, and whoever receives a
report drops it unless its ticket is still the current one.
"""

from __future__ import annotations


class Latest:
    """The tickets of one kind of request; only the newest is current.

    >>> loads = Latest()
    >>> first = loads.new(); second = loads.new()
    >>> loads.is_current(first), loads.is_current(second)
    (False, True)
    """

    def __init__(self) -> None:
        self._newest = 0

    def new(self) -> int:
        """A ticket for a new request; every earlier ticket is stale from now on."""
        self._newest += 1
        return self._newest

    def expire(self) -> None:
        """Make every ticket given so far stale without a new request (e.g. the corpus a
        training run brought with it replaces the loads asked for before)."""
        self._newest += 1

    def is_current(self, ticket: int) -> bool:
        return ticket == self._newest
