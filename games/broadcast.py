"""Fan-out through the channel layer. Called only after the transaction that
logged the event has committed, so nobody hears of a move that could still
roll back. Delivery is best effort: every message carries ``seq`` and
consumers fill gaps from the database (see ``games.consumers``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from games.payloads import event_message
from games.rules import get_game
from games.timeline import Event, MatchData

logger = logging.getLogger(__name__)


def match_group(match_id: int) -> str:
    return f"match.{match_id}"


def event_delivery(event: Event, data: MatchData) -> dict[str, Any]:
    """One logged event with the unfiltered match after it, for code in this
    process (the sender's own socket, the HTTP answer)."""
    return {"type": "match.event", "seq": event["seq"], "event": event, "match": data}


def event_broadcast(event: Event, data: MatchData) -> dict[str, Any]:
    """The channel-layer message for one logged event: the ``event`` message
    already serialised once per distinct view (once in all for a game without
    hidden information), so no recipient rebuilds or re-encodes it. A join
    also carries the match, for a watching player who just took a seat."""
    viewers: list[int | None] = [None]
    if get_game(data["game"]).hidden_information:
        viewers += [player["seat"] for player in data["players"]]
    texts = {_view_key(viewer): dumps(event_message(event, data, viewer)) for viewer in viewers}
    message = {"type": "match.event", "seq": event["seq"], "texts": texts}
    if event["kind"] == "join":
        message.update(event=event, match=data)
    return message


def _view_key(viewer: int | None) -> str:
    return "spectator" if viewer is None else str(viewer)


def text_for(message: dict[str, Any], seat: int | None) -> str:
    """The broadcast text a recipient in ``seat`` (``None``: spectator) gets."""
    texts = message["texts"]
    return texts.get(_view_key(seat)) or texts["spectator"]


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def send_to_group(group: str, message: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # What was sent about is committed; clients recover it by seq. Never
        # turn a layer outage into a failed move or payment.
        logger.exception("broadcast to %s failed", group)


def send_to_match(match_id: int, message: dict[str, Any]) -> None:
    send_to_group(match_group(match_id), message)
