"""Fan-out through the channel layer. Called only after the transaction that
logged the event has committed, so nobody hears of a move that could still
roll back. Delivery is best effort: every message carries ``seq`` and
consumers fill gaps from the database (see ``games.consumers``)."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from games.timeline import Event, MatchData

logger = logging.getLogger(__name__)


def match_group(match_id: int) -> str:
    return f"match.{match_id}"


def event_broadcast(event: Event, data: MatchData) -> dict[str, Any]:
    """The channel-layer message for one logged event (unfiltered: each
    consumer applies its recipient's view)."""
    return {"type": "match.event", "seq": event["seq"], "event": event, "match": data}


def send_to_group(group: str, message: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # What was sent about is committed; clients recover it by seq. Never
        # turn a layer outage into a failed move or payment.
        logger.exception("broadcast to %s failed", group)


def send_to_match(match_id: int, message: dict[str, Any]) -> None:
    send_to_group(match_group(match_id), message)
