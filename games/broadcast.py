"""Fan-out through the channel layer: the messages one process sends every
socket of a group, and the sending. Called only after the transaction that
logged what they announce has committed, so nobody hears of a move that
could still roll back. Delivery is best effort: every message carries
``seq`` and sockets fill gaps from the database (see ``games.sequencing``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from games import frames
from games.database_threads import calling_loop
from games.engine import get_game
from games.engine.clocks import format_time
from games.engine.match import EventKind, MatchData, Presence, SeatPresence
from games.outcomes import Current, Step

logger = logging.getLogger(__name__)

LayerMessage = dict[str, Any]
SPECTATOR = "spectator"
ABSENT: SeatPresence = {"connected": False, "left_at": None}


def match_group(match_id: int) -> str:
    return f"match.{match_id}"


def frames_group(match_id: int) -> str:
    """A real-time match's tick frames go to this group, whose members are
    processes' relays, not sockets (``games.realtime.relay``)."""
    return f"match.{match_id}.frames"


def event_broadcast(step: Step) -> LayerMessage:
    """The layer message for one logged event: its ``event`` frame already
    serialised once per distinct view (once in all for a game without hidden
    information), so no recipient rebuilds or re-encodes it. A join also
    carries the match, for a watching player who just took a seat."""
    viewers: list[int | None] = [None]
    if get_game(step.match["game"]).hidden_information:
        viewers += [player["seat"] for player in step.match["players"]]
    whole = {viewer: frames.event(step.event, step.match, step.presence, viewer) for viewer in viewers}
    texts = {_view_key(viewer): frames.dumps(frame) for viewer, frame in whole.items()}
    message: LayerMessage = {
        "type": "match.event",
        "seq": step.event["seq"],
        "status": step.match["status"],
        "texts": texts,
    }
    if step.before is not None:  # protocol 2's frames: what changed, from the same view of the match after it
        message["patches"] = {
            _view_key(viewer): frames.dumps(
                frames.event_patch(
                    step.event, step.before, step.match, step.presence, viewer, shown=whole[viewer]["match"]
                )
            )
            for viewer in viewers
        }
    if step.event["kind"] == EventKind.JOIN:
        message.update(event=step.event, match=_layer_match(step.match, step.presence))
    return message


def _layer_match(data: MatchData, presence: Presence) -> dict[str, Any]:
    """A match in a layer message: each player entry carries its presence
    (``connected``, ``left_at``), the shape every process of this release
    and of the previous one reads, so a rolling deploy loses nothing."""
    players = [{**player, **presence.get(player["seat"], ABSENT)} for player in data["players"]]
    return {**data, "players": players}


def layer_match(message: LayerMessage) -> tuple[MatchData, Presence]:
    """The match and presence a layer message carries (see :func:`_layer_match`)."""
    match = message["match"]
    presence: Presence = {
        player["seat"]: {"connected": player.get("connected", False), "left_at": player.get("left_at")}
        for player in match["players"]
    }
    players = [{"seat": p["seat"], "id": p["id"], "name": p["name"]} for p in match["players"]]
    return cast(MatchData, {**match, "players": players}), presence


def _view_key(viewer: int | None) -> str:
    return SPECTATOR if viewer is None else str(viewer)


def text_for(message: LayerMessage, seat: int | None, protocol: int = 1) -> str:
    """The event frame's text for a recipient in ``seat`` (``None``: spectator)
    speaking ``protocol``. A protocol 2 socket takes the whole-match frame
    when the message has no patch (one from the previous release): protocol
    2 clients accept both."""
    texts = message["patches"] if protocol == 2 and "patches" in message else message["texts"]
    return texts.get(_view_key(seat)) or texts[SPECTATOR]


def tick_broadcast(
    match_id: int, number: int, epoch: int, changed: dict[str, Any], applied: list[list[Any]], since: int
) -> LayerMessage:
    """A real-time match's ``tick`` frame, serialised once for every viewer."""
    frame = frames.tick(match_id, number, epoch, changed, applied, since)
    return {"type": "match.tick", "match": match_id, "tick": number, "epoch": epoch, "text": frames.dumps(frame)}


def rematch_broadcast(rematch: Current) -> LayerMessage:
    """The new match of a rematch; each socket shows it as its player sees it."""
    return {"type": "match.rematch", "match": _layer_match(rematch.match, rematch.presence)}


def match_ready_broadcast(tournament_id: int, started: Current, seat: int) -> LayerMessage:
    """A tournament match of the recipient's, who plays in ``seat``."""
    return {
        "type": "tournament.match",
        "tournament": tournament_id,
        "match": _layer_match(started.match, started.presence),
        "seat": seat,
    }


def chat_broadcast(seq: int, seat: int | None, name: str, text: str, at: datetime) -> LayerMessage:
    """A chat line; its fields are the ``chat`` frame's (see :func:`frame_of`)."""
    return {**frames.chat(seq, seat, name, text, format_time(at)), "type": "match.chat"}


def presence_broadcast(seq: int, seat: int, connected: bool) -> LayerMessage:
    """A seat's presence changed; its fields are the ``presence`` frame's."""
    return {**frames.presence(seat, connected, seq), "type": "match.presence"}


def frame_of(message: LayerMessage, frame_type: frames.FrameType) -> frames.Frame:
    """The frame a chat or presence message carries: its own fields."""
    return {**message, "type": frame_type}


def send_to_group(group: str, message: LayerMessage) -> None:
    """Send now. Called on a socket's database thread, the send is handed to
    the socket's event loop instead of waited for, so the thread (and its
    database connection) goes back to work without waiting on the layer."""
    loop = calling_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_start_sending, group, message)
        return
    try:
        async_to_sync(_send)(group, message)
    except Exception:
        logger.exception("broadcast to %s failed", group)


# The last send handed over per group: each waits for the one before, so a
# group hears this process's messages in the order they were handed over
# (the order they were committed in), as when each send was waited for.
_tails: dict[str, asyncio.Task] = {}


def _start_sending(group: str, message: LayerMessage) -> None:
    task = asyncio.ensure_future(_send_after(_tails.get(group), group, message))
    _tails[group] = task
    task.add_done_callback(lambda done: _tails.pop(group) if _tails.get(group) is done else None)


async def _send_after(previous: asyncio.Task | None, group: str, message: LayerMessage) -> None:
    if previous is not None:
        await asyncio.wait([previous])
    await _send(group, message)


async def _send(group: str, message: LayerMessage) -> None:
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:
        # What was sent about is committed; clients recover it by seq. Never
        # turn a layer outage into a failed move or payment.
        logger.exception("broadcast to %s failed", group)


def send_to_match(match_id: int, message: LayerMessage) -> None:
    send_to_group(match_group(match_id), message)


def send_to_channel(channel: str, message: LayerMessage) -> None:
    """Send to one channel (a process's: see ``games.realtime``) now, as
    :func:`send_to_group` sends to a group: handed to the calling socket's
    event loop when called on its database thread, else waited for."""
    loop = calling_loop()
    if loop is not None:
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_send_one(channel, message)))
        return
    try:
        async_to_sync(_send_one)(channel, message)
    except Exception:
        logger.exception("sending to %s failed", channel)


async def _send_one(channel: str, message: LayerMessage) -> None:
    try:
        await get_channel_layer().send(channel, message)
    except Exception:
        logger.exception("sending to %s failed", channel)


def send_frame_soon(match_id: int, message: LayerMessage) -> None:
    """Send a tick frame to the match's frames group from its event loop
    without waiting (a real-time loop must not wait on the layer between
    ticks); in order with the frames before it."""
    _start_sending(frames_group(match_id), message)
