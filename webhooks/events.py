"""The event types the backend sends (the README lists each with an example)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    MATCH_STARTED = "match.started"
    MATCH_FINISHED = "match.finished"
    MATCH_ABORTED = "match.aborted"
    TOURNAMENT_STARTED = "tournament.started"
    TOURNAMENT_MATCH_READY = "tournament.match_ready"
    TOURNAMENT_FINISHED = "tournament.finished"
    TOURNAMENT_CANCELLED = "tournament.cancelled"
    ENTRY_CONFIRMED = "entry.confirmed"
    ENTRY_FLAGGED = "entry.flagged"
    PLAYER_CREATED = "player.created"
    # Sent only by staff's "send test event", only to the endpoint chosen.
    WEBHOOK_TEST = "webhook.test"


SUBSCRIBABLE = [event_type.value for event_type in EventType if event_type is not EventType.WEBHOOK_TEST]
