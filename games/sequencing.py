"""Keeping a socket's events in order, without gaps, whatever the channel
layer does (it promises neither delivery nor order).

Pure: a socket asks :meth:`Sequence.classify` what an arriving ``seq`` is to
it, and tells it what it sent. The socket then drops what is old, sends what
is next, and fills a gap from the database before anything newer.
"""

from __future__ import annotations

from enum import Enum


class Arrival(Enum):
    OLD = "old"  # already sent (or older than the snapshot): drop it
    NEXT = "next"  # exactly the next event: send it
    GAP = "gap"  # something was lost before it: resync first


class Sequence:
    """The last ``seq`` a socket sent its client (-1: nothing yet)."""

    def __init__(self) -> None:
        self.last = -1

    def classify(self, seq: int) -> Arrival:
        if seq <= self.last:
            return Arrival.OLD
        if seq > self.last + 1:
            return Arrival.GAP
        return Arrival.NEXT

    def behind(self, seq: int) -> bool:
        """Whether ``seq`` (carried by presence and chat) is ahead of what was
        sent: an event was lost on the way, so the socket should resync now
        rather than wait for a next event that may never come."""
        return seq > self.last

    def sent(self, seq: int) -> None:
        """An event with ``seq`` went out (events resent on request may be older)."""
        self.last = max(self.last, seq)

    def reset(self, seq: int) -> None:
        """A snapshot at ``seq`` went out: it replaces everything before it."""
        self.last = seq
