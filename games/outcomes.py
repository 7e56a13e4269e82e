"""What the match service returns: typed outcomes that know nothing of
transports. Each transport (the socket, the HTTP API, the admin) turns them
into its own answer; ``games.broadcast`` into channel-layer messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from games.engine.errors import GameError
from games.engine.match import Event, MatchData, Presence


class Current(NamedTuple):
    """A match as it stands, with its players' live presence."""

    match: MatchData
    presence: Presence


@dataclass(frozen=True)
class Step:
    """One logged event, the match right after it, and live presence;
    ``before``, the match right before it, when the service had it (so a
    transport can send what changed instead of the whole match); and
    ``message``, the channel-layer message the service broadcast about it,
    whose frames are already serialised (``games.broadcast``)."""

    event: Event
    match: MatchData
    presence: Presence
    before: MatchData | None = None
    message: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionOutcome:
    """What a player's action did. ``settled`` is a deadline that had passed
    (a timeout or abandonment), logged and committed before the action was
    looked at, whatever became of it; then either ``step``, the action's own
    event, or ``refusal``."""

    settled: Step | None
    step: Step | None
    refusal: GameError | None
