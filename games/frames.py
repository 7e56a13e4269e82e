"""Every frame the server sends a client over a WebSocket, built here and
nowhere else (as lila-ws's ``ClientIn``): the ``type`` values and fields of
the README's "Server to client" table.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from games.engine.clocks import parse_time
from games.engine.errors import ErrorCode
from games.engine.match import Event, MatchData, Presence
from games.match_views import event_view, match_view
from games.patches import diff

Frame = dict[str, Any]
Ref = str | int | None


class FrameType(StrEnum):
    SNAPSHOT = "snapshot"
    EVENT = "event"
    ERROR = "error"
    PRESENCE = "presence"
    CHAT = "chat"
    REMATCH = "rematch"
    LOBBY = "lobby"
    TOURNAMENT = "tournament"
    MATCH_READY = "match_ready"
    TICK = "tick"


def dumps(frame: Frame) -> str:
    """A frame as the text sent on the wire (compact JSON)."""
    return json.dumps(frame, separators=(",", ":"))


def snapshot(
    data: MatchData,
    presence: Presence,
    viewer: int | None,
    now: datetime,
    protocol: int = 1,
    realtime: dict[str, Any] | None = None,
) -> Frame:
    """The match as ``viewer`` sees it, and the protocol the socket speaks;
    for a real-time game, ``realtime``: its tick rate and the tick (and
    owner's epoch) the state is as of (see ``games.realtime.sockets``)."""
    frame: Frame = {"type": FrameType.SNAPSHOT, "match": match_view(data, presence, viewer, now), "protocol": protocol}
    if realtime is not None:
        frame["realtime"] = realtime
    return frame


def tick(
    match_id: int, number: int, epoch: int, changed: dict[str, Any], applied: list[list[Any]], since: int
) -> Frame:
    """A real-time match's frame: what changed from tick ``since`` (the
    previous frame's) up to tick ``number`` (the game's ``frame``), from the
    owner at ``epoch``; ``applied``, the inputs applied since the previous
    frame as ``[seat, input]``, only when there were any. The same for every
    viewer: a real-time game hides nothing."""
    frame: Frame = {
        "type": FrameType.TICK,
        "match": match_id,
        "tick": number,
        "since": since,
        "epoch": epoch,
        "frame": changed,
    }
    if applied:
        frame["applied"] = applied
    return frame


def event(event: Event, data: MatchData, presence: Presence, viewer: int | None, ref: Ref = None) -> Frame:
    """One logged event for one recipient, with the match as it stood right
    after it; ``ref`` echoes the sender's own message."""
    shown = event_view(data, event, viewer)
    frame: Frame = {
        "type": FrameType.EVENT,
        "seq": event["seq"],
        "event": _event_fields(shown),
        "match": match_view(data, presence, viewer, parse_time(event["at"])),
    }
    if ref is not None:
        frame["ref"] = ref
    return frame


def event_patch(
    event: Event,
    before: MatchData,
    after: MatchData,
    presence: Presence,
    viewer: int | None,
    ref: Ref = None,
    shown: dict[str, Any] | None = None,
) -> Frame:
    """Protocol 2's event: what the event changed in the recipient's view of
    the match (``games.patches``), instead of the whole match. The match's
    new ``seq`` is the frame's own, so it is not repeated in the patch; a
    running clock is read as of the event, so it always comes whole (the
    client's copy was read at another moment). ``shown``: the recipient's
    view of ``after``, when the caller already built it (the protocol 1 frame's)."""
    at = parse_time(event["at"])
    new = match_view(after, presence, viewer, at) if shown is None else shown
    old = {**match_view(before, presence, viewer, at), "seq": new["seq"], "clock": None}
    frame: Frame = {
        "type": FrameType.EVENT,
        "seq": event["seq"],
        "event": _event_fields(event_view(after, event, viewer)),
        "patch": diff(old, new),
    }
    if ref is not None:
        frame["ref"] = ref
    return frame


def _event_fields(shown: dict[str, Any]) -> dict[str, Any]:
    return {"kind": shown["kind"], "seat": shown["seat"], "move": shown["move"], "at": shown["at"]}


def with_ref(text: str, ref: Ref) -> str:
    """A serialised frame with the sender's ``ref`` added."""
    return text if ref is None else f"{text[:-1]},{dumps({'ref': ref})[1:]}"


def error(code: ErrorCode | str, message: str, ref: Ref = None, retry_after: int | None = None) -> Frame:
    frame: Frame = {"type": FrameType.ERROR, "code": code, "message": message, "ref": ref}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame


def presence(seat: int, connected: bool, seq: int) -> Frame:
    return {"type": FrameType.PRESENCE, "seat": seat, "connected": connected, "seq": seq}


def chat(seq: int, seat: int | None, name: str, text: str, at: str) -> Frame:
    return {"type": FrameType.CHAT, "seq": seq, "seat": seat, "name": name, "text": text, "at": at}


def rematch(data: MatchData, presence: Presence, viewer: int | None, now: datetime) -> Frame:
    return {"type": FrameType.REMATCH, "match": match_view(data, presence, viewer, now)}


def lobby(matches: list[dict[str, Any]], at: str) -> Frame:
    return {"type": FrameType.LOBBY, "matches": matches, "at": at}


def tournament(view: dict[str, Any]) -> Frame:
    return {"type": FrameType.TOURNAMENT, "tournament": view}


def match_ready(tournament_id: int, data: MatchData, presence: Presence, viewer: int | None, now: datetime) -> Frame:
    return {
        "type": FrameType.MATCH_READY,
        "tournament": tournament_id,
        "match": match_view(data, presence, viewer, now),
    }
