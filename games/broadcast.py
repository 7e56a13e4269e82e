"""Fan-out through the channel layer: the messages one process sends every
socket of a group, and the sending. Called only after the transaction that
logged what they announce has committed, so nobody hears of a move that
could still roll back. Delivery is best effort: every message carries
``seq`` and sockets fill gaps from the database (see ``games.sequencing``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from games import frames
from games.engine import get_game
from games.engine.clocks import format_time

if TYPE_CHECKING:
    from games.services import Current, Step

logger = logging.getLogger(__name__)

LayerMessage = dict[str, Any]
SPECTATOR = "spectator"


def match_group(match_id: int) -> str:
    return f"match.{match_id}"


def event_broadcast(step: Step) -> LayerMessage:
    """The layer message for one logged event: its ``event`` frame already
    serialised once per distinct view (once in all for a game without hidden
    information), so no recipient rebuilds or re-encodes it. A join also
    carries the match, for a watching player who just took a seat."""
    viewers: list[int | None] = [None]
    if get_game(step.match["game"]).hidden_information:
        viewers += [player["seat"] for player in step.match["players"]]
    texts = {
        _view_key(viewer): frames.dumps(frames.event(step.event, step.match, step.presence, viewer))
        for viewer in viewers
    }
    message: LayerMessage = {"type": "match.event", "seq": step.event["seq"], "texts": texts}
    if step.event["kind"] == "join":
        message.update(event=step.event, match=step.match, presence=_wire_presence(step.presence))
    return message


def _wire_presence(presence: dict[int, Any]) -> dict[str, Any]:
    """Presence keyed by seat as text: what msgpack and JSON carry."""
    return {str(seat): entry for seat, entry in presence.items()}


def layer_presence(message: LayerMessage) -> dict[int, Any]:
    """The presence a layer message carries, keyed by seat again."""
    return {int(seat): entry for seat, entry in message["presence"].items()}


def _view_key(viewer: int | None) -> str:
    return SPECTATOR if viewer is None else str(viewer)


def text_for(message: LayerMessage, seat: int | None) -> str:
    """The event frame's text for a recipient in ``seat`` (``None``: spectator)."""
    texts = message["texts"]
    return texts.get(_view_key(seat)) or texts[SPECTATOR]


def rematch_broadcast(rematch: Current) -> LayerMessage:
    """The new match of a rematch; each socket shows it as its player sees it."""
    return {"type": "match.rematch", "match": rematch.match, "presence": _wire_presence(rematch.presence)}


def match_ready_broadcast(tournament_id: int, started: Current, seat: int) -> LayerMessage:
    """A tournament match of the recipient's, who plays in ``seat``."""
    return {
        "type": "tournament.match",
        "tournament": tournament_id,
        "match": started.match,
        "presence": _wire_presence(started.presence),
        "seat": seat,
    }


def chat_broadcast(seq: int, seat: int | None, name: str, text: str, at: datetime) -> LayerMessage:
    return {"type": "match.chat", "frame": frames.chat(seq, seat, name, text, format_time(at))}


def presence_broadcast(seq: int, seat: int, connected: bool) -> LayerMessage:
    return {"type": "match.presence", "frame": frames.presence(seat, connected, seq)}


def send_to_group(group: str, message: LayerMessage) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # What was sent about is committed; clients recover it by seq. Never
        # turn a layer outage into a failed move or payment.
        logger.exception("broadcast to %s failed", group)


def send_to_match(match_id: int, message: LayerMessage) -> None:
    send_to_group(match_group(match_id), message)
