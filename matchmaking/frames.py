"""Every frame the queue socket sends (besides the house ``error`` frame,
``games.frames.error``), built here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from games.frames import Frame, Ref
from matchmaking.services import SeekView


class QueueFrameType(StrEnum):
    SEEKING = "seeking"
    PAIRED = "paired"
    WITHDRAWN = "withdrawn"


def seeking(seek: SeekView, waiting: int, ref: Ref = None) -> Frame:
    """The seek waits; ``waiting`` seeks (this one included) wait in its pool."""
    frame: Frame = {"type": QueueFrameType.SEEKING, "seek": seek, "waiting": waiting}
    if ref is not None:
        frame["ref"] = ref
    return frame


def paired(seek: SeekView, ref: Ref = None) -> Frame:
    """The seek's match started: open ``/ws/matches/<match>/`` and play in ``seat``."""
    frame: Frame = {
        "type": QueueFrameType.PAIRED,
        "match": seek["match"],
        "seat": seek["seat"],
        "opponent": seek["opponent"],
        "seek": seek,
    }
    if ref is not None:
        frame["ref"] = ref
    return frame


def withdrawn(seek: SeekView, ref: Ref = None) -> Frame:
    """The seek stopped waiting without a match: ``reason`` is ``cancelled``,
    ``closed`` (its last queue socket closed) or ``expired`` (nobody held it)."""
    frame: Frame = {"type": QueueFrameType.WITHDRAWN, "reason": seek["reason"], "seek": seek}
    if ref is not None:
        frame["ref"] = ref
    return frame


def outcome(seek: SeekView, ref: Ref = None) -> Frame | None:
    """The frame announcing what became of a seek that stopped waiting."""
    if seek["status"] == "paired":
        return paired(seek, ref)
    if seek["status"] == "withdrawn":
        return withdrawn(seek, ref)
    return None
